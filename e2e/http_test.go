package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/corpus"
	"github.com/wasmlattice/wash/internal/testmanifest"
)

// A user's path to a served component: wash up -d, wash app deploy of a manifest with the
// wat-hello component and the builtin http-server linked to it, then an HTTP GET.
func TestAppDeployServesHTTP(t *testing.T) {
	wasm := corpus.Path(t, corpus.WatHello)
	e := upLattice(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	path := writeManifest(t, testmanifest.App{Name: "hello-http", Version: "v0.0.1", Components: []testmanifest.Component{
		testmanifest.Wasm("hello", wasm, 10),
		testmanifest.HTTPServer("hello", "default-http", addr),
	}}.YAML())
	e.must("app", "deploy", path, "--ctl-port", e.portArg())

	var code int
	var body string
	var err error
	if !poll(30*time.Second, 100*time.Millisecond, func() bool {
		code, body, err = httpGet("http://" + addr + "/e2e?x=1")
		return err == nil && code == 200 && body == "hello from a WAT component, path=/e2e?x=1\n"
	}) {
		t.Fatalf("GET %s: %d %q %v\ninventory:\n%s", addr, code, body, err, e.run("get", "inventory", "--ctl-port", e.portArg()))
	}
	inv := e.must("get", "inventory", "--ctl-port", e.portArg()).stdout
	if !strings.Contains(inv, "http-server") {
		t.Fatalf("inventory has no http-server provider:\n%s", inv)
	}
	// undeploying stops the provider and with it the listener
	e.must("app", "undeploy", "hello-http", "--ctl-port", e.portArg())
	if !poll(30*time.Second, 100*time.Millisecond, func() bool { return !listeningOn(addr) }) {
		t.Fatal("listener still open after undeploy")
	}
}

// TestExampleHelloHTTP deploys examples/hello-http as the README shows (on a free address).
func TestExampleHelloHTTP(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	manifest := exampleHelloHTTP(t, t.TempDir(), addr)
	e := upLattice(t)
	out := e.must("app", "deploy", manifest, "-p", e.portArg())
	if !strings.Contains(out.stdout, "hello-http") {
		t.Fatalf("deploy output: %s", out)
	}
	res, err := http.Get("http://" + addr + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "hello from a WAT component, path=/hello\n" {
		t.Fatalf("GET /hello: %d %q", res.StatusCode, body)
	}
}

// exampleHelloHTTP copies examples/hello-http into dir as its README has a user do (the
// component, and wadm.yaml serving on addr instead of 127.0.0.1:8080) and returns the
// manifest's path.
func exampleHelloHTTP(t testing.TB, dir, addr string) string {
	t.Helper()
	wasm, err := os.ReadFile("../examples/hello-http/hello.component.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.component.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "wadm.yaml")
	helloHTTPManifest(t, path, "hello-http", addr)
	return path
}

// helloHTTPManifest writes examples/hello-http/wadm.yaml to path, the app named app and served
// on addr; its component is file://./hello.component.wasm, next to path.
func helloHTTPManifest(t testing.TB, path, app, addr string) {
	t.Helper()
	src, err := os.ReadFile("../examples/hello-http/wadm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := strings.ReplaceAll(string(src), "127.0.0.1:8080", addr)
	m = strings.Replace(m, "name: hello-http", "name: "+app, 1)
	if err := os.WriteFile(path, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
}
