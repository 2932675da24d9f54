package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"
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

// TestDownChecksProcessIdentity: records whose pid now belongs to another process (the host
// died, the pid was reused) are pruned, and that process is never signalled.
func TestDownChecksProcessIdentity(t *testing.T) {
	e := newEnv(t)
	stranger := exec.Command("sleep", "300")
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stranger.Process.Kill(); _ = stranger.Wait() }()
	pid := stranger.Process.Pid
	url := "nats://127.0.0.1:" + e.portArg()
	// What a wash process wrote before it died, its pid now taken by `sleep`.
	writeRecord(t, filepath.Join(e.home, "hosts", "NDEAD.json"), map[string]any{
		"host_id": "NDEAD", "friendly_name": "dead-host", "lattice": "default", "pid": pid,
		"proc_start": "1", "exe": "/opt/wash", "nats_url": url, "owns_nats": true})
	writeRecord(t, filepath.Join(e.home, "nats-"+e.portArg()+".json"), map[string]any{
		"pid": pid, "proc_start": "1", "exe": "/opt/wash", "url": url, "host": "127.0.0.1", "port": e.port})

	r := e.run("down", "--all", "-p", e.portArg())
	if r.code != 0 {
		t.Fatalf("down: %s", r)
	}
	time.Sleep(200 * time.Millisecond)
	if stranger.ProcessState != nil || !alive(pid) {
		t.Fatalf("wash down signalled pid %d, which belongs to another process now:\n%s", pid, r)
	}
	if left, _ := filepath.Glob(filepath.Join(e.home, "hosts", "*.json")); len(left) != 0 {
		t.Fatalf("stale host records kept: %v", left)
	}
	if _, err := os.Stat(filepath.Join(e.home, "nats-"+e.portArg()+".json")); err == nil {
		t.Fatal("stale NATS record kept")
	}
}

func writeRecord(t *testing.T, path string, v map[string]any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDetachedSecretsNotInArgv: the detached host gets --oci-password and its seed without
// either showing in /proc/<pid>/cmdline or /proc/<pid>/environ.
func TestDetachedSecretsNotInArgv(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc") // Linux only: other systems show argv through ps
	}
	kp, err := nkeys.CreateServer()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	id, _ := kp.PublicKey()
	const password = "s3cret-pw-e2e"
	e := newEnv(t)
	e.must("up", "-d", "--nats-port", e.portArg(), "--host-seed", string(seed),
		"--oci-registry", "127.0.0.1:5999", "--oci-user", "me", "--oci-password", password)
	defer e.run("down", "--all", "-p", e.portArg())
	// The host got its seed: it has the id the seed makes.
	if out := e.must("get", "hosts", "-p", e.portArg()).stdout; !strings.Contains(out, id) {
		t.Fatalf("host id %s not running:\n%s", id, out)
	}
	pids := e.pids()
	if len(pids) == 0 {
		t.Fatal("no recorded process")
	}
	for _, pid := range pids {
		for _, f := range []string{"cmdline", "environ"} {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{password, string(seed)} {
				if strings.Contains(string(b), secret) {
					t.Errorf("/proc/%d/%s contains a secret: %q", pid, f, strings.ReplaceAll(string(b), "\x00", " "))
				}
			}
		}
	}
}

// TestHostLogBounded: a trap flood costs the host log a few lines and a count, and the log
// rotates by size keeping --host-log-keep files.
func TestHostLogBounded(t *testing.T) {
	t.Setenv("WASH_LOG_REPEAT_WINDOW", "2s")
	wasm, err := filepath.Abs("../lattice/host/testdata/httplimits/httplimits.component.wasm")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	p := e.portArg()
	up := e.must("up", "-d", "--nats-port", p, "--host-log-max-bytes", "512", "--host-log-keep", "2", "-o", "json")
	defer e.run("down", "--all", "-p", p)
	var info struct {
		Log string `json:"host_log"`
	}
	decodeJSON(t, up.stdout, &info)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	e.must("start", "component", "file://"+wasm, "limits", "-p", p)
	e.must("start", "provider", "wasmcloud+builtin://http-server", "flood-http", "-p", p)
	e.must("config", "put", "flood-addr", "address="+addr, "-p", p)
	e.must("link", "put", "flood-http", "limits", "wasi", "http", "--interface", "incoming-handler", "--source-config", "flood-addr", "-p", p)
	const requests = 300
	for i := 0; i < requests; i++ {
		res, err := http.Get("http://" + addr + "/trap")
		if err != nil {
			if i == 0 { // the listener may take a moment after the link
				time.Sleep(200 * time.Millisecond)
				i--
				continue
			}
			t.Fatal(err)
		}
		res.Body.Close()
	}
	logs := func() string {
		var all strings.Builder
		for _, f := range []string{info.Log + ".2", info.Log + ".1", info.Log} {
			b, _ := os.ReadFile(f)
			all.Write(b)
		}
		return all.String()
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs(), "repeated log line suppressed") {
		if time.Now().After(deadline) {
			t.Fatalf("no summary of suppressed lines in the log:\n%s", logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := strings.Count(logs(), `msg="component failed to handle a request"`); n >= requests/2 {
		t.Fatalf("%d of %d trap lines written: not rate-limited", n, requests)
	}
	for _, f := range []string{info.Log, info.Log + ".1", info.Log + ".2"} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatalf("log file %s: %v", f, err)
		}
		if st.Size() > 512+1024 { // the limit plus at most one long line
			t.Errorf("%s is %d bytes, over the 512-byte rotation size", f, st.Size())
		}
	}
	if _, err := os.Stat(info.Log + ".3"); err == nil {
		t.Error("more rotated files than --host-log-keep 2")
	}
}
