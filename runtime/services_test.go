package runtime

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/runtime/cabi"
)

func TestConfigLoggingAndEncodings(t *testing.T) {
	e := newEngine(t, Options{})
	p := compileFile(t, e, "guests/services.wasm")
	ctx := context.Background()
	var logs []string
	cfg := InstanceConfig{
		Config: map[string]string{"greeting": "hi", "answer": "42"},
		Log:    func(level, c, msg string) { logs = append(logs, level+"|"+c+"|"+msg) },
	}
	r, err := p.Invoke(ctx, cfg, "", "get", "greeting")
	if err != nil || !reflect.DeepEqual(r[0], cabi.Ok(cabi.Some("hi"))) {
		t.Fatalf("get: %#v %v", r, err)
	}
	r, err = p.Invoke(ctx, cfg, "", "get", "missing")
	if err != nil || !reflect.DeepEqual(r[0], cabi.Ok(cabi.None())) {
		t.Fatalf("get missing: %#v %v", r, err)
	}
	r, err = p.Invoke(ctx, cfg, "", "get-all")
	want := cabi.Ok([]cabi.Value{[]cabi.Value{"answer", "42"}, []cabi.Value{"greeting", "hi"}})
	if err != nil || !reflect.DeepEqual(r[0], want) {
		t.Fatalf("get-all: %#v %v", r, err)
	}
	if _, err := p.Invoke(ctx, cfg, "", "log", uint32(3), "ctx", "careful"); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(logs, []string{"warn|ctx|careful"}) {
		t.Fatalf("logs %q", logs)
	}
	_, err = p.Invoke(ctx, cfg, "", "utf16")
	if err == nil || !strings.Contains(err.Error(), "string encoding utf16 is not supported") {
		t.Fatalf("utf16: %v", err)
	}
}
