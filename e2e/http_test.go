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
	e := newEnv(t)
	e.must("up", "-d", "--nats-port", e.portArg())
	defer e.run("down", "--all")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	path := writeManifest(t, testmanifest.App{Name: "hello-http", Version: "v0.0.1", Components: []testmanifest.Component{
		testmanifest.Wasm("hello", wasm, 10),
		testmanifest.HTTPServer("hello", "default-http", addr),
	}}.YAML())
	e.must("app", "deploy", path, "--ctl-port", e.portArg())

	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/e2e?x=1")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == 200 && string(body) == "hello from a WAT component, path=/e2e?x=1\n" {
				break
			}
			err = fmt.Errorf("%d %q", res.StatusCode, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v\ninventory:\n%s", addr, err, e.run("get", "inventory", "--ctl-port", e.portArg()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	inv := e.must("get", "inventory", "--ctl-port", e.portArg()).stdout
	if !strings.Contains(inv, "http-server") {
		t.Fatalf("inventory has no http-server provider:\n%s", inv)
	}
	// undeploying stops the provider and with it the listener
	e.must("app", "undeploy", "hello-http", "--ctl-port", e.portArg())
	deadline = time.Now().Add(30 * time.Second)
	for {
		if _, err := http.Get("http://" + addr + "/"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("listener still open after undeploy")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestExampleHelloHTTP deploys examples/hello-http as the README shows (on a free address).
func TestExampleHelloHTTP(t *testing.T) {
	src, err := os.ReadFile("../examples/hello-http/wadm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wasm, err := os.ReadFile("../examples/hello-http/hello.component.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.component.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	manifest := strings.ReplaceAll(string(src), "127.0.0.1:8080", addr)
	if err := os.WriteFile(filepath.Join(dir, "wadm.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.must("up", "-d", "--nats-port", e.portArg())
	defer e.run("down", "--all", "-p", e.portArg())
	out := e.must("app", "deploy", filepath.Join(dir, "wadm.yaml"), "-p", e.portArg())
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
