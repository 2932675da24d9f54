package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/internal/testmanifest"
	"github.com/wasmlattice/wash/wascap"
)

// TestSecretsThroughWadm is the user's path to a secret: wash up with the NATS-KV backend, a
// secret stored and granted to a signed component with `wash secrets nats-kv`, and a manifest
// whose component names the secret under a secret policy. wadm writes the SECRET_ reference,
// the host fetches the value with the component's claims, the component reads it through
// wasmcloud:secrets and answers it over HTTP.
func TestSecretsThroughWadm(t *testing.T) {
	wasm, err := os.ReadFile(guestWasm)
	if err != nil {
		t.Fatal(err)
	}
	component, tok := testlattice.SignComponent(t, wasm, wascap.SignOptions{Name: "secrets-guest"})
	subject := tok.Claims.Subject

	e := newEnv(t)
	p := e.portArg()
	if r := e.must("up", "-d", "--secrets-nats-kv", "--nats-port", p); !strings.Contains(r.stdout, "secrets  nats-kv backend") {
		t.Fatalf("up does not say it serves secrets:\n%s", r)
	}
	defer e.run("down", "--all")
	if r := e.must("secrets", "nats-kv", "put", "api-token", "--string", "t0ps3cret", "-p", p); !strings.Contains(r.stdout, "put successfully") {
		t.Fatal(r)
	}
	if r := e.must("secrets", "nats-kv", "get", "api-token", "-p", p); r.stdout != "t0ps3cret\n" {
		t.Fatalf("get with wash's own encryption key: %q", r.stdout)
	}
	e.must("secrets", "nats-kv", "add-mapping", subject, "--secret", "api-token", "-p", p)

	// The upstream reference commands.
	e.must("secrets", "put", "manual", "nats-kv", "api-token", "--property", "tier=dev", "-p", p)
	r := e.must("secrets", "get", "manual", "-p", p, "-o", "json")
	if !strings.Contains(r.stdout, `"backend": "nats-kv"`) || !strings.Contains(r.stdout, `"type": "secret.wasmcloud.dev/v1alpha1"`) {
		t.Fatalf("secrets get:\n%s", r.stdout)
	}
	if r := e.run("config", "put", "SECRET_x", "a=b", "-p", p); r.code != 2 {
		t.Fatalf("config put of a SECRET_ name:\n%s", r)
	}
	e.must("secrets", "del", "manual", "-p", p)
	if r := e.run("secrets", "get", "manual", "-p", p); r.code != 1 || !strings.Contains(r.stderr, "no secret reference named") {
		t.Fatalf("get after del:\n%s", r)
	}

	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	guest := testmanifest.Wasm("guest", component, 1)
	guest.Secrets = []testmanifest.Secret{{Name: "api", Policy: "nats-kv", Key: "api-token"}}
	path := writeManifest(t, testmanifest.App{Name: "secret-app", Version: "v0.0.1",
		Policies:   []testmanifest.Policy{{Name: "nats-kv", Type: "policy.secret.wasmcloud.dev/v1alpha1", Properties: map[string]string{"backend": "nats-kv"}}},
		Components: []testmanifest.Component{guest, testmanifest.HTTPServer("guest", "http-address", addr)},
	}.YAML())
	e.must("app", "deploy", path, "--ctl-port", p)
	var code int
	var body string
	if !poll(30*time.Second, 100*time.Millisecond, func() bool {
		code, body, err = httpGet("http://" + addr + "/api")
		return err == nil && code == 200 && body == "t0ps3cret"
	}) {
		t.Fatalf("GET /api: %d %q %v\nstatus:\n%s", code, body, err, e.run("app", "status", "secret-app", "--ctl-port", p))
	}
	// wadm stored the reference under its name for the app's secret.
	if r := e.must("secrets", "get", "SECRET_secret_app-api", "-p", p, "-o", "json"); !strings.Contains(r.stdout, `"key": "api-token"`) {
		t.Fatalf("wadm's reference:\n%s", r.stdout)
	}
}
