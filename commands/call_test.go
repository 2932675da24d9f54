package commands_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func edgeCore(t testing.TB, name string) string {
	p, err := filepath.Abs("../examples/edge-core/" + name + ".component.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return "file://" + p
}

// wash call: typed calls of any export from JSON arguments, the HTTP handler with a
// synthesized request, and one-line errors for bad input, each within the timeout.
func TestCall(t *testing.T) {
	l := newLattice(t)
	l.host(t, "default", nil)
	l.host(t, "default", nil)
	ok(t, l.args("default", "start", "component", edgeCore(t, "back"), "back")...)
	ok(t, l.args("default", "start", "component", edgeCore(t, "front"), "front")...)
	ok(t, l.args("default", "link", "put", "front", "back", "wash", "edgecore", "--interface", "backend")...)

	r := ok(t, l.args("default", "call", "back", "wash:edgecore/backend.summarize", "edge-and-core", "2")...)
	if !strings.Contains(r.out, `"greeting": "hello, edge-and-core"`) || !strings.Contains(r.out, `"words": [`) {
		t.Fatalf("text output:\n%s", r.out)
	}
	r = ok(t, l.args("default", "call", "back", "wash:edgecore/backend@0.1.0.summarize", `"a-b"`, "5", "-o", "json")...)
	m := decodeJSON(t, r.out)
	res := m["results"].([]any)[0].(map[string]any)["ok"].(map[string]any)
	if res["length"] != float64(3) || len(res["words"].([]any)) != 2 || m["function"] != "wash:edgecore/backend@0.1.0.summarize" {
		t.Fatalf("json output: %v", m)
	}
	r = ok(t, l.args("default", "call", "front", "wasi:http/incoming-handler.handle", "--http-path", "/x-y-z")...)
	if r.out != "greeting: hello, x-y-z\nlength: 5\nwords: x, y, z\n" {
		t.Fatalf("http output %q", r.out)
	}
	r = ok(t, l.args("default", "call", "front", "wasi:http/incoming-handler.handle", "-o", "json")...)
	if m := decodeJSON(t, r.out); m["status"] != float64(400) || !strings.HasPrefix(m["body"].(string), "error: text is empty") {
		t.Fatalf("http json %v", m)
	}

	start := time.Now()
	fails(t, 1, "exports no function wash:edgecore/backend.nope", l.args("default", "call", "back", "wash:edgecore/backend.nope", "x")...)
	fails(t, 1, "component ghost is not running", l.args("default", "call", "ghost", "wash:edgecore/backend.summarize", "x", "1")...)
	fails(t, 1, `argument 2 (max-words: u32): expected an integer from 0 to 4294967295, got "abc"`,
		l.args("default", "call", "back", "wash:edgecore/backend.summarize", "x", "abc")...)
	fails(t, 1, "takes 2 argument(s) (text: string, max-words: u32), got 1", l.args("default", "call", "back", "wash:edgecore/backend.summarize", "x")...)
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("bad input took %s", d)
	}
}
