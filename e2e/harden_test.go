package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// servedLattice is a one-host lattice serving examples/hello-http on a free address: the "other
// app" that hostile or mistaken input must never take down.
type servedLattice struct {
	*env
	addr string // where hello-http answers
	dir  string // the manifest's directory
}

func startServedLattice(t *testing.T, upArgs ...string) *servedLattice {
	t.Helper()
	wasm, err := os.ReadFile("../examples/hello-http/hello.component.wasm")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../examples/hello-http/wadm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := &servedLattice{env: newEnv(t), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(l.dir, "hello.component.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := strings.ReplaceAll(string(src), "127.0.0.1:8080", l.addr)
	if err := os.WriteFile(filepath.Join(l.dir, "wadm.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	l.must(append([]string{"up", "-d", "--nats-port", l.portArg()}, upArgs...)...)
	t.Cleanup(func() { l.run("down", "--all", "-p", l.portArg()) })
	l.must("app", "deploy", filepath.Join(l.dir, "wadm.yaml"), "-p", l.portArg())
	l.serving(t)
	return l
}

// serving checks that hello-http still answers.
func (l *servedLattice) serving(t *testing.T) {
	t.Helper()
	res, err := http.Get("http://" + l.addr + "/still")
	if err != nil {
		t.Fatalf("hello-http stopped serving: %v\ninventory:\n%s", err, l.run("get", "inventory", "-p", l.portArg()))
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "hello from a WAT component, path=/still\n" {
		t.Fatalf("hello-http answers %d %q", res.StatusCode, body)
	}
}

// fails runs wash, wants a non-zero exit with a one-line error that says every want.
func (l *servedLattice) fails(t *testing.T, want []string, args ...string) result {
	t.Helper()
	r := l.run(args...)
	if r.code == 0 {
		t.Fatalf("wash %s succeeded; want an error:\n%s", strings.Join(args, " "), r)
	}
	msg := strings.TrimSpace(r.stderr)
	if strings.Count(msg, "\n") > 0 || !strings.HasPrefix(msg, "error: ") {
		t.Fatalf("wash %s: want one error line, got:\n%s", strings.Join(args, " "), r)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Fatalf("wash %s: error does not say %q:\n%s", strings.Join(args, " "), w, r)
		}
	}
	return r
}

// TestHostileInput feeds one lattice the inputs of issue #13 and checks each is refused with a
// one-line error while the deployed app keeps serving.
func TestHostileInput(t *testing.T) {
	l := startServedLattice(t, "--max-provider-size-bytes", "67108864")
	p := l.portArg()

	t.Run("unbounded artifacts", func(t *testing.T) {
		for _, dev := range []string{"/dev/zero", "/dev/urandom"} {
			l.fails(t, []string{dev, "larger than the 50 MiB limit", "--max-component-size-bytes"},
				"start", "component", "file://"+dev, "z", "-p", p)
			l.fails(t, []string{dev, "larger than the 64 MiB limit", "--max-provider-size-bytes"},
				"start", "provider", "file://"+dev, "zp", "-p", p)
			l.fails(t, []string{dev, "larger than the 16 MiB limit"}, "app", "deploy", dev, "-p", p)
			l.serving(t)
		}
	})
}
