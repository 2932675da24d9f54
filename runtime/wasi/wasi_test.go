package wasi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wasmlattice/wash/runtime/cabi"
)

func TestHostAllowed(t *testing.T) {
	allow := []string{"api.example.com", "*.dog.ceo", "127.0.0.1:8080"}
	for host, want := range map[string]bool{
		"api.example.com": true, "api.example.com:443": true, "example.com": false,
		"images.dog.ceo": true, "dog.ceo": false, "evil-dog.ceo": false,
		"127.0.0.1:8080": true, "127.0.0.1:9090": false,
	} {
		if got := HostAllowed(allow, host); got != want {
			t.Errorf("%s: %v", host, got)
		}
	}
	if HostAllowed(nil, "example.com") {
		t.Error("empty allow-list allowed a host")
	}
	if !HostAllowed([]string{"*"}, "anything:1") {
		t.Error("* denied")
	}
}

func find(name string) map[string]cabi.HostFunc {
	for _, i := range Interfaces() {
		if i.Name == name {
			return i.Funcs
		}
	}
	return nil
}

func TestFields(t *testing.T) {
	ctx := context.Background()
	f := find("wasi:http/types@0.2.0")
	h := &Fields{}
	for _, c := range []struct {
		name, val string
		bad       bool
	}{{"Content-Type", "text/plain", false}, {"bad name", "x", true}, {"x-ok", "a\r\nb", true}, {"connection", "close", true}} {
		r, _ := f["[method]fields.append"](ctx, []cabi.Value{h, c.name, []byte(c.val)})
		if r.(cabi.ResultValue).IsErr != c.bad {
			t.Errorf("append %q=%q: %v", c.name, c.val, r)
		}
	}
	r, _ := f["[method]fields.get"](ctx, []cabi.Value{h, "content-type"})
	if vs := r.([]cabi.Value); len(vs) != 1 || string(vs[0].([]byte)) != "text/plain" {
		t.Fatalf("get: %v", r)
	}
	req := httptest.NewRequest(http.MethodPost, "/p?q=1", nil)
	req.Header.Set("X-A", "1")
	in := NewIncomingRequest(req)
	hv, _ := f["[method]incoming-request.headers"](ctx, []cabi.Value{in})
	r, _ = f["[method]fields.set"](ctx, []cabi.Value{hv, "x-a", []cabi.Value{[]byte("2")}})
	if rv := r.(cabi.ResultValue); !rv.IsErr || rv.Value != hdrImmutable {
		t.Fatalf("request headers must be immutable: %v", r)
	}
	m, _ := f["[method]incoming-request.method"](ctx, []cabi.Value{in})
	if m.(cabi.VariantValue).Case != 2 {
		t.Fatalf("method %v", m)
	}
}

func TestPollTimers(t *testing.T) {
	ctx := context.Background()
	clock := find("wasi:clocks/monotonic-clock@0.2.0")
	poll := find("wasi:io/poll@0.2.0")
	slow, _ := clock["subscribe-duration"](ctx, []cabi.Value{uint64(time.Hour)})
	fast, _ := clock["subscribe-duration"](ctx, []cabi.Value{uint64(20 * time.Millisecond)})
	start := time.Now()
	r, err := poll["poll"](ctx, []cabi.Value{[]cabi.Value{slow, fast}})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.([]cabi.Value); len(got) != 1 || got[0] != uint32(1) {
		t.Fatalf("ready %v", got)
	}
	if d := time.Since(start); d < 15*time.Millisecond || d > 30*time.Second {
		t.Fatalf("poll took %v", d)
	}
}

// Every function this package serves, wasi:filesystem included, is declared with its WIT type,
// so every import a guest makes of it is checked at link time.
func TestEveryFunctionDeclared(t *testing.T) {
	for _, hi := range Interfaces() {
		for fn := range hi.Funcs {
			if hi.Types[fn] == nil {
				t.Errorf("%s#%s has no declared type", hi.Name, fn)
			}
		}
	}
	if errv, _ := filesystemFuncs()["wasi:filesystem/types@0.2.0"]["[method]descriptor.stat"].Fn(context.Background(), nil); errv.(cabi.ResultValue).Value != uint32(3) {
		t.Fatalf("descriptor.stat = %v, want error-code bad-descriptor (3)", errv)
	}
}
