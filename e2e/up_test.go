package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/natsd"
)

// TestUpMultiLocalDown is the foundation's acceptance walk: one lattice, two more labelled hosts,
// inventories of all three, and a down that leaves nothing behind.
func TestUpMultiLocalDown(t *testing.T) {
	e := newEnv(t)
	up := e.must("up", "-d", "--nats-port", e.portArg())
	if !strings.Contains(up.stdout, "lattice started") || !strings.Contains(up.stdout, "nats://127.0.0.1:"+e.portArg()) {
		t.Fatalf("up output does not say what started:\n%s", up)
	}

	var hosts struct {
		Hosts   []ctl.Host `json:"hosts"`
		Success bool       `json:"success"`
	}
	decodeJSON(t, e.must("get", "hosts", "-p", e.portArg(), "-o", "json").stdout, &hosts)
	if !hosts.Success || len(hosts.Hosts) != 1 {
		t.Fatalf("want one host, got %+v", hosts)
	}
	for _, k := range []string{"hostcore.os", "hostcore.arch", "hostcore.osfamily"} {
		if hosts.Hosts[0].Labels[k] == "" {
			t.Errorf("host lacks label %s: %v", k, hosts.Hosts[0].Labels)
		}
	}

	e.must("up", "-d", "--multi-local", "--label", "zone=us-east-1", "--nats-port", e.portArg())
	e.must("up", "-d", "--multi-local", "--label", "zone=us-west-1", "--nats-port", e.portArg())

	var inv struct {
		Inventories []ctl.HostInventory `json:"inventories"`
	}
	decodeJSON(t, e.must("get", "inventory", "-p", e.portArg(), "-o", "json").stdout, &inv)
	if len(inv.Inventories) != 3 {
		t.Fatalf("want 3 inventories, got %d", len(inv.Inventories))
	}
	zones := map[string]bool{}
	for _, i := range inv.Inventories {
		zones[i.Labels["zone"]] = true
	}
	if !zones["us-east-1"] || !zones["us-west-1"] || !zones[""] {
		t.Fatalf("zones seen: %v", zones)
	}
	// Each host has its own record: nothing overwritten.
	recs, _ := filepath.Glob(filepath.Join(e.home, "hosts", "*.json"))
	if len(recs) != 3 {
		t.Fatalf("want 3 host records, got %v", recs)
	}

	pids := e.pids()
	// Without --all, down refuses to pick among several hosts.
	if r := e.run("down", "-p", e.portArg()); r.code != 1 || !strings.Contains(r.stderr, "--all") {
		t.Fatalf("down with 3 hosts and no --all:\n%s", r)
	}
	e.must("down", "--all", "-p", e.portArg())
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d still alive after down --all", pid)
		}
	}
	if listening(e.port) {
		t.Errorf("port %d still listening after down --all", e.port)
	}
	if left := e.pids(); len(left) != 0 {
		t.Errorf("records left behind: %v", left)
	}
}

// TestUpForegroundSignal: Ctrl+C (SIGINT) stops the host, then NATS, and the process exits 0.
func TestUpForegroundSignal(t *testing.T) {
	e := newEnv(t)
	cmd := exec.Command(washBin, "up", "--nats-port", e.portArg())
	cmd.Env = e.washEnv()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !listening(e.port) {
		if time.Now().After(deadline) {
			t.Fatal("foreground up never listened")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Wait for the host to answer, then interrupt.
	for {
		r := e.run("get", "hosts", "-p", e.portArg(), "-o", "json")
		if strings.Contains(r.stdout, `"id"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("host never answered")
		}
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("foreground up exited with %v", err)
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("foreground up did not stop on SIGINT")
	}
	if listening(e.port) {
		t.Fatal("NATS still listening after Ctrl+C")
	}
}

func TestUpBadInput(t *testing.T) {
	e := newEnv(t)
	type tc struct {
		name     string
		args     []string
		code     int
		contains string
	}
	// A port held by something that is not NATS.
	busy := notNATS(t, true)
	cases := []tc{
		{"unknown flag", []string{"up", "--no-such-flag"}, 2, "unknown flag: --no-such-flag"},
		{"label without =", []string{"up", "--label", "zone", "--nats-port", e.portArg()}, 2, `invalid label "zone": expected key=value`},
		{"hostcore label", []string{"up", "--label", "hostcore.os=x", "--nats-port", e.portArg()}, 2, "hostcore.* labels are set by the host"},
		{"port in use", []string{"up", "-d", "--nats-port", busy}, 1, "in use"},
		{"connect-only without NATS", []string{"up", "--nats-connect-only", "--nats-port", e.portArg()}, 1, "--nats-connect-only: no NATS answers at nats://127.0.0.1:" + e.portArg()},
		{"bad lattice", []string{"up", "-x", "a.b", "--nats-port", e.portArg()}, 2, "invalid lattice name"},
		{"bad output format", []string{"get", "hosts", "-o", "yaml"}, 2, "invalid output format"},
		{"get without NATS", []string{"get", "hosts", "-p", e.portArg()}, 1, "cannot connect to NATS at nats://127.0.0.1:" + e.portArg()},
	}
	for _, c := range cases {
		r := e.run(c.args...)
		if r.code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s", c.name, r.code, c.code, r)
			continue
		}
		first := strings.SplitN(strings.TrimSpace(r.stderr), "\n", 2)[0]
		if !strings.Contains(first, c.contains) {
			t.Errorf("%s: first stderr line %q does not contain %q", c.name, first, c.contains)
		}
		if r.stdout != "" {
			t.Errorf("%s: printed to stdout on error: %q", c.name, r.stdout)
		}
	}
	if left := e.pids(); len(left) != 0 {
		t.Errorf("failed ups left processes behind: %v", left)
	}
	// `down` with nothing running is not an error (cleanup scripts call it blindly).
	if r := e.run("down", "-p", e.portArg()); r.code != 0 || !strings.Contains(r.stdout, "Nothing to stop") {
		t.Errorf("down with nothing running:\n%s", r)
	}
	// JSON errors are JSON.
	r := e.run("get", "hosts", "-p", e.portArg(), "-o", "json")
	var je struct {
		Success bool   `json:"success"`
		Error   string `json:"error"`
	}
	decodeJSON(t, r.stderr, &je)
	if je.Success || je.Error == "" {
		t.Fatalf("json error: %s", r.stderr)
	}
}

// TestSecondUpRefused: without --multi-local a second up on a running lattice says so.
func TestSecondUpRefused(t *testing.T) {
	e := newEnv(t)
	e.must("up", "-d", "--nats-port", e.portArg())
	r := e.run("up", "-d", "--nats-port", e.portArg())
	if r.code != 1 || !strings.Contains(r.stderr, "already running") || !strings.Contains(r.stderr, "--multi-local") {
		t.Fatalf("second up:\n%s", r)
	}
	// A different lattice on the same NATS is fine and is not stopped by `down` of the first.
	e.must("up", "-d", "-x", "other", "--nats-port", e.portArg())
	r = e.must("down", "-p", e.portArg())
	if !strings.Contains(r.stdout, "keeps running") {
		t.Fatalf("down of lattice default should keep NATS for lattice other:\n%s", r)
	}
	e.must("down", "-x", "other", "-p", e.portArg())
	if listening(e.port) {
		t.Fatal("NATS still up after both lattices went down")
	}
}

func TestVersionAndCompletion(t *testing.T) {
	e := newEnv(t)
	if r := e.must("version", "-o", "json"); !strings.Contains(r.stdout, `"nats-server"`) {
		t.Fatal(r)
	}
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		if r := e.must("completion", sh); len(r.stdout) < 100 {
			t.Fatalf("completion %s too short", sh)
		}
	}
	if r := e.run("completion", "tcsh"); r.code != 2 {
		t.Fatalf("completion tcsh: %s", r)
	}
}

// TestConnectOnlyJoinsExistingNATS: a host joins a NATS that wash did not start, and `down`
// leaves that NATS alone.
func TestConnectOnlyJoinsExistingNATS(t *testing.T) {
	e := newEnv(t)
	srv, err := natsd.Start(natsd.Options{Port: e.port, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	cmd := exec.Command(washBin, "up", "-d", "--nats-connect-only", "--nats-port", e.portArg(), "-x", "edge")
	cmd.Env = e.washEnv("WASMCLOUD_LABEL_region=eu")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("up --nats-connect-only: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "embedded") {
		t.Fatalf("connect-only must not start NATS:\n%s", out)
	}
	var hosts struct {
		Hosts []ctl.Host `json:"hosts"`
	}
	decodeJSON(t, e.must("get", "hosts", "-x", "edge", "-p", e.portArg(), "-o", "json").stdout, &hosts)
	if len(hosts.Hosts) != 1 || hosts.Hosts[0].Labels["region"] != "eu" {
		t.Fatalf("host with WASMCLOUD_LABEL_region: %+v", hosts)
	}
	r := e.must("down", "-x", "edge", "-p", e.portArg())
	if !strings.Contains(r.stdout, "not started by wash") {
		t.Fatalf("down should leave a foreign NATS running:\n%s", r)
	}
	if !srv.Running() {
		t.Fatal("down stopped a NATS it did not start")
	}
}

// TestAppBadInput: each mistake is one line naming the problem, exit 1, and nothing is stored.
func TestAppBadInput(t *testing.T) {
	e := upLattice(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noImage := write("no-image.yaml", `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: no-image
spec:
  components:
    - name: hello
      type: component
      properties: {}
`)
	missingFile := write("missing-file.yaml", `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: missing-file
  annotations:
    description: an image that does not exist
spec:
  components:
    - name: hello
      type: component
      properties:
        image: file://./nowhere.wasm
`)
	cases := []struct {
		name     string
		args     []string
		contains string
	}{
		{"malformed YAML", []string{"app", "deploy", write("bad.yaml", "apiVersion: [unclosed\n")}, "Unable to parse manifest"},
		{"dangling link", []string{"app", "deploy", "../lattice/wadm/model/testdata/tests/fixtures/manifests/dangling-link.wadm.yaml"}, "httpclient"},
		{"component without image", []string{"app", "deploy", noImage}, "image"},
		{"image file missing", []string{"app", "deploy", missingFile}, "nowhere.wasm"},
		{"unknown app status", []string{"app", "status", "ghost"}, "ghost"},
		{"unknown app undeploy", []string{"app", "undeploy", "ghost"}, "ghost"},
	}
	for _, c := range cases {
		r := e.run(append(c.args, "-p", e.portArg())...)
		if r.code != 1 {
			t.Errorf("%s: exit %d, want 1\n%s", c.name, r.code, r)
			continue
		}
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if len(lines) != 1 || !strings.Contains(lines[0], c.contains) {
			t.Errorf("%s: want one line naming %q, got:\n%s", c.name, c.contains, r.stderr)
		}
	}
	var list struct {
		Applications []any `json:"applications"`
	}
	decodeJSON(t, e.must("app", "list", "-p", e.portArg(), "-o", "json").stdout, &list)
	if len(list.Applications) != 0 {
		t.Fatalf("bad manifests were stored: %v", list.Applications)
	}
}

// TestDownKeepsOrPurgesJetStream: state survives down → up; --purge-jetstream deletes the store.
func TestDownKeepsOrPurgesJetStream(t *testing.T) {
	e := newEnv(t)
	up := func() { e.must("up", "-d", "--nats-port", e.portArg()) }
	up()
	e.must("config", "put", "keep-me", "k=v", "-p", e.portArg())
	e.must("down", "-p", e.portArg())
	up()
	if r := e.run("config", "get", "keep-me", "-p", e.portArg(), "-o", "json"); r.code != 0 || !strings.Contains(r.stdout, `"k"`) {
		t.Fatalf("config lost across down/up:\n%s", r)
	}
	store := filepath.Join(e.home, "jetstream", e.portArg())
	if _, err := os.Stat(store); err != nil {
		t.Fatalf("JetStream store missing: %v", err)
	}
	r := e.must("down", "--purge-jetstream", "-p", e.portArg())
	if !strings.Contains(r.stdout, "deleted the JetStream store") {
		t.Fatalf("purge output:\n%s", r)
	}
	if _, err := os.Stat(store); !os.IsNotExist(err) {
		t.Fatalf("store still there after --purge-jetstream: %v", err)
	}
	up()
	defer e.run("down", "--all", "-p", e.portArg())
	if r := e.run("config", "get", "keep-me", "-p", e.portArg()); r.code == 0 {
		t.Fatalf("config survived a purge:\n%s", r)
	}
}

// TestUpDetachedPolling: the readiness path Windows uses (no inherited pipe) works too.
func TestUpDetachedPolling(t *testing.T) {
	e := newEnv(t)
	t.Setenv("WASH_UP_READY_POLL", "1")
	r := e.must("up", "-d", "--nats-port", e.portArg())
	if !strings.Contains(r.stdout, "lattice started") || !strings.Contains(r.stdout, "host ") {
		t.Fatalf("up -d (polling):\n%s", r)
	}
	var hosts struct {
		Hosts []ctl.Host `json:"hosts"`
	}
	decodeJSON(t, e.must("get", "hosts", "-p", e.portArg(), "-o", "json").stdout, &hosts)
	if len(hosts.Hosts) != 1 || !strings.Contains(r.stdout, hosts.Hosts[0].FriendlyName) {
		t.Fatalf("printed host does not match the lattice: %s / %+v", r.stdout, hosts)
	}
	e.must("down", "-p", e.portArg())
}
