package host_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host"
)

func do(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// blobstoreLink links component to provider for wasi:blobstore with config as the target config.
func blobstoreLink(component, provider, config string) ctl.Link {
	return ctl.Link{SourceID: component, Target: provider, WitNamespace: "wasi", WitPackage: "blobstore",
		Interfaces: []string{"blobstore", "container", "types"}, TargetConfig: []string{config}}
}

// The blobhttp component behind the builtin http-server, storing objects through its link to
// blobstore-fs: objects land as files under the link's root, names that would leave the root
// are refused, and blobstore errors reach the host log with the component and provider ids.
func TestBlobstoreThroughHost(t *testing.T) {
	l, log := newLoggedLattice(t, host.Config{})
	root := filepath.Join(t.TempDir(), "blobs")
	l.scale("blobs", fixtureRef(t, "providers/testdata/blobhttp/blobhttp.component.wasm"), 4, nil)
	l.linkBuiltin("files", "blobstore-fs", blobstoreLink("blobs", "files", "blob-root"), "blob-root", map[string]string{"root": root})
	base := l.serveHTTP("blobs")

	if code, body := waitServed(t, base+"/"); code != 200 || body != "" {
		t.Fatalf("empty list: %d %q", code, body)
	}
	if code, body := do(t, http.MethodPut, base+"/hello.txt", "hello blobstore"); code != 200 || body != "stored hello.txt\n" {
		t.Fatalf("PUT: %d %q", code, body)
	}
	big := strings.Repeat("0123456789", 20000) // several reads of the request body
	if code, body := do(t, http.MethodPut, base+"/dir/big", big); code != 200 {
		t.Fatalf("PUT big: %d %q", code, body)
	}
	if code, body := do(t, http.MethodGet, base+"/hello.txt", ""); code != 200 || body != "hello blobstore" {
		t.Fatalf("GET: %d %q", code, body)
	}
	if code, body := do(t, http.MethodGet, base+"/dir/big", ""); code != 200 || body != big {
		t.Fatalf("GET big: %d, %d bytes", code, len(body))
	}
	if code, body := do(t, http.MethodGet, base+"/", ""); code != 200 || body != "dir/big\nhello.txt\n" {
		t.Fatalf("list: %d %q", code, body)
	}
	if b, err := os.ReadFile(filepath.Join(root, "data", "hello.txt")); err != nil || string(b) != "hello blobstore" {
		t.Fatalf("file under the root: %q %v", b, err)
	}

	// names that would leave the container or the root are refused; nothing is written
	for _, name := range []string{"../x", "../../escape", "a/../../x"} {
		code, body := do(t, http.MethodPut, base+"/"+name, "nope")
		if code != 500 || !strings.Contains(body, "write failed: invalid object name") {
			t.Fatalf("PUT /%s: %d %q", name, code, body)
		}
	}
	for _, p := range []string{filepath.Join(root, "x"), filepath.Join(filepath.Dir(root), "escape"), filepath.Join(root, "data", "x")} {
		if _, err := os.Stat(p); err == nil {
			t.Fatalf("%s was written", p)
		}
	}
	if code, body := do(t, http.MethodGet, base+"/../x", ""); code != 500 || !strings.Contains(body, "read failed: invalid object name") {
		t.Fatalf("GET /../x: %d %q", code, body)
	}
	if code, body := do(t, http.MethodGet, base+"/missing", ""); code != 500 || !strings.Contains(body, `read failed: object "missing" in container "data" does not exist`) {
		t.Fatalf("GET /missing: %d %q", code, body)
	}
	waitLog(t, log, "component_id=blobs", "provider_id=files", `invalid object name \"../x\"`)
}

// A key-value backend error reaches the component as the interface's error value (the counter
// answers 500 with it) and the host log names the component, the provider and the reason.
func TestKeyValueErrorsLogged(t *testing.T) {
	l, log := newLoggedLattice(t, host.Config{})
	l.scale("counter", fixtureRef(t, "providers/testdata/counter/counter.component.wasm"), 2, nil)
	refused := "redis://" + freeAddr(t) // nothing listens there
	l.linkBuiltin("kv", "keyvalue-redis", ctl.Link{SourceID: "counter", Target: "kv", WitNamespace: "wasi", WitPackage: "keyvalue",
		Interfaces: []string{"store", "atomics"}, TargetConfig: []string{"kv-url"}}, "kv-url", map[string]string{"url": refused})
	if code, body := waitServed(t, l.serveHTTP("counter")+"/hello"); code != 500 || !strings.Contains(body, "cannot reach Redis") {
		t.Fatalf("GET: %d %q", code, body)
	}
	waitLog(t, log, "component_id=counter provider_id=kv", "function=wasi:keyvalue/atomics@0.2.0-draft#increment", "cannot reach Redis at 127.0.0.1")
}
