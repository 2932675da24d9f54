package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// newProviderProject runs wash new provider NAME with the Go template in a temporary
// directory, and puts the WAT counter component where the template's wadm.yaml looks for the
// TypeScript counter (../counter/build/counter_s.wasm), so that the manifest runs as it is.
func newProviderProject(t *testing.T, e *env, name string) string {
	t.Helper()
	needTool(t, "go")
	base := t.TempDir()
	if r := e.runIn(base, nil, "new", "provider", name, "--template-name", "keyvalue-provider-go", "--silent"); r.code != 0 {
		t.Fatalf("wash new provider:\n%s", r)
	}
	wasm, err := os.ReadFile(counterWasm(t))
	if err != nil {
		t.Fatal(err)
	}
	counter := filepath.Join(base, "counter", "build", "counter_s.wasm")
	if err := os.MkdirAll(filepath.Dir(counter), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(counter, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(base, name)
}

// serveManifestOn moves the HTTP server of the template's wadm.yaml from 127.0.0.1:8000 to
// addr and returns the manifest's path.
func serveManifestOn(t *testing.T, dir, addr string) string {
	t.Helper()
	p := filepath.Join(dir, "wadm.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "127.0.0.1:8000") || !strings.Contains(string(b), "file://../counter/build/counter_s.wasm") {
		t.Fatalf("the template's wadm.yaml no longer serves 127.0.0.1:8000 or runs ../counter:\n%s", b)
	}
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(b), "127.0.0.1:8000", addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitHealthy waits for a health_check_passed event of the provider.
func waitHealthy(t *testing.T, ch chan *nats.Msg, providerID string, limit time.Duration) {
	t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case m := <-ch:
			var ev struct {
				Data struct {
					ProviderID string `json:"provider_id"`
				} `json:"data"`
			}
			if json.Unmarshal(m.Data, &ev) == nil && ev.Data.ProviderID == providerID {
				return
			}
		case <-deadline:
			t.Fatalf("provider %s passed no health check within %s", providerID, limit)
		}
	}
}

// providerProcesses are the processes running a provider binary the hosts extracted under
// WASH_HOME.
func providerProcesses(e *env) []string {
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/exe")
	for _, p := range procs {
		if exe, err := os.Readlink(p); err == nil && strings.HasPrefix(exe, e.home+string(filepath.Separator)) {
			out = append(out, filepath.Dir(p)+" "+exe)
		}
	}
	return out
}

// noProviderProcesses fails the test when provider processes outlive what should have stopped
// them (after a grace period for their exit).
func noProviderProcesses(t *testing.T, e *env, after string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(providerProcesses(e)) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if procs := providerProcesses(e); len(procs) > 0 {
		t.Errorf("provider processes left after %s: %v", after, procs)
	}
}

// The Go provider template, as a user runs it: wash new, wash build → a signed archive that
// wash inspect reads; wash up -d; the template's own wadm.yaml (with the WAT counter in place
// of the TypeScript one) → the counter counts through the provider over wRPC, from HTTP and
// from wash call; wash down --all leaves no provider process behind.
func TestProviderTemplateBuildDeployAndCall(t *testing.T) {
	e := newEnv(t)
	dir := newProviderProject(t, e, "kvgo")
	r := e.runIn(dir, nil, "build")
	archive := filepath.Join(dir, "build", "kvgo.par.gz")
	if r.code != 0 || !strings.Contains(r.stdout, archive) {
		t.Fatalf("wash build:\n%s", r)
	}
	t.Logf("wash build (go build + pack + sign): %s", r.took.Round(time.Millisecond))
	if !strings.Contains(r.stderr, "_service.nk") {
		t.Errorf("no service key generated:\n%s", r.stderr)
	}
	var info struct {
		Name    string   `json:"name"`
		Version string   `json:"version"`
		Service string   `json:"service"`
		Targets []string `json:"targets"`
	}
	decodeJSON(t, e.must("inspect", archive, "-o", "json").stdout, &info)
	if info.Name != "kvgo" || info.Version != "0.1.0" || !strings.HasPrefix(info.Service, "V") || len(info.Targets) != 1 {
		t.Errorf("inspect: %+v", info)
	}
	again := e.runIn(dir, nil, "build", "-o", "json")
	var res struct {
		Path string `json:"path"`
	}
	if decodeJSON(t, again.stdout, &res); again.code != 0 || res.Path != archive {
		t.Errorf("wash build -o json, again:\n%s", again)
	}
	t.Logf("wash build again, nothing changed: %s", again.took.Round(time.Millisecond))
	if ls, err := exec.Command("ls", filepath.Join(dir, "build")).Output(); err != nil || strings.TrimSpace(string(ls)) != "kvgo.par.gz" {
		t.Errorf("ls build/: %q %v, want only the archive", ls, err)
	}

	p := e.portArg()
	e.must("up", "-d", "--nats-port", p)
	defer e.run("down", "--all", "-p", p)
	nc := e.natsConn(t)
	healthy := make(chan *nats.Msg, 16)
	if _, err := nc.ChanSubscribe("wasmbus.evt.default.health_check_passed", healthy); err != nil {
		t.Fatal(err)
	}

	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	if r := e.runIn(dir, nil, "app", "deploy", filepath.Base(serveManifestOn(t, dir, httpAddr)), "-p", p); r.code != 0 {
		t.Fatalf("wash app deploy wadm.yaml:\n%s", r)
	}
	url := "http://" + httpAddr + "/hello"
	waitCountReset(t, url, 30*time.Second)
	mustCount(t, url, 2)
	call := e.must("call", "kvgo-counter", "wasi:http/incoming-handler.handle", "--http-path", "/hello", "-p", p)
	if strings.TrimSpace(call.stdout) != "3" {
		t.Errorf("wash call counted %q, want 3", call.stdout)
	}
	mustCount(t, url, 4)
	waitHealthy(t, healthy, "kvgo", 45*time.Second)
	if len(providerProcesses(e)) != 1 {
		t.Errorf("want one provider process, have %v", providerProcesses(e))
	}

	e.must("down", "--all", "-p", p)
	noProviderProcesses(t, e, "wash down --all")
	if code, _, _ := httpGet(url); code == 200 {
		t.Error("the counter still answers after wash down --all")
	}
}

// wash dev in a provider project: the archive is built and run with the template's wadm.yaml
// as [[dev.manifests]] (its relative ../counter image resolved against the manifest), and an
// edit of main.go restarts the provider with the new build.
func TestDevProvider(t *testing.T) {
	e := newEnv(t)
	dir := newProviderProject(t, e, "devkv")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	serveManifestOn(t, dir, httpAddr)
	toml := filepath.Join(dir, "wasmcloud.toml")
	b, _ := os.ReadFile(toml)
	if err := os.WriteFile(toml, append(b, "\n[[dev.manifests]]\ncomponent_name = \"devkv\"\npath = \"wadm.yaml\"\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	url := "http://" + httpAddr + "/visits"

	d := startDev(t, e, dir)
	at := d.waitFor(t, regexp.MustCompile(`Watching .* for changes`), 0, 5*time.Minute)
	if !regexp.MustCompile(`Deployed application devkv \(provider \w+-devkv\)`).MatchString(d.output()) {
		t.Errorf("deploy line:\n%s", d.output())
	}
	waitCountReset(t, url, time.Minute)
	mustCount(t, url, 2)
	d.waitFor(t, regexp.MustCompile(`Provider \w+-devkv passed its health check`), 0, time.Minute)

	main := filepath.Join(dir, "main.go")
	src, _ := os.ReadFile(main)
	edited := strings.Replace(string(src), `"devkv ready"`, `"devkv ready, second build"`, 1)
	if edited == string(src) {
		t.Fatal("main.go has no ready line to edit")
	}
	if err := os.WriteFile(main, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	d.waitFor(t, regexp.MustCompile(`Restarted provider \w+-devkv with the new build`), at, 3*time.Minute)
	waitCountReset(t, url, time.Minute) // the new process starts with an empty store
	mustCount(t, url, 2)

	d.stop(t)
	for _, want := range []string{"Deleted application devkv", "stopped NATS"} {
		if !strings.Contains(d.output(), want) {
			t.Errorf("Ctrl+C output lacks %q:\n%s", want, d.output())
		}
	}
	noProviderProcesses(t, e, "Ctrl+C")
}
