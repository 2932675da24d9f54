package app_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/internal/testmanifest"
	"github.com/wasmlattice/wash/internal/testtool"
)

// wash runs the built binary with the test's WASH_HOME.
type washCLI struct {
	t    *testing.T
	bin  string
	home string
	port string
}

func (w *washCLI) run(args ...string) (string, error) {
	cmd := exec.Command(w.bin, args...)
	cmd.Env = append(os.Environ(), "WASH_HOME="+w.home, "WASMCLOUD_CTL_PORT="+w.port, "WASH_WADM_HOST_EXPIRY=1500ms", "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (w *washCLI) must(args ...string) string {
	w.t.Helper()
	out, err := w.run(args...)
	if err != nil {
		w.t.Fatalf("wash %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TestMain removes the wash binary the binary tests build.
func TestMain(m *testing.M) { testtool.Main(m) }

func freePort(t *testing.T) string { return strconv.Itoa(testtool.FreePort(t)) }

func (w *washCLI) status(app string) (typ, msg string) {
	out, err := w.run("app", "status", app, "-o", "json")
	if err != nil {
		return "", out
	}
	var r struct {
		Status struct {
			Status struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"status"`
		} `json:"status"`
	}
	_ = json.Unmarshal([]byte(out), &r)
	return r.Status.Status.Type, r.Status.Status.Message
}

func (w *washCLI) waitStatus(app string, ok func(string) bool) string {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if typ, msg := w.status(app); ok(typ) {
			return msg
		}
		time.Sleep(100 * time.Millisecond)
	}
	typ, msg := w.status(app)
	w.t.Fatalf("status of %s stuck at %s: %s", app, typ, msg)
	return ""
}

// hostsByZone reads $WASH_HOME/hosts/*.json and asks each host's inventory for its labels.
func (w *washCLI) inventory() map[string]int {
	out := w.must("get", "inventory", "-o", "json")
	var r struct {
		Inventories []struct {
			HostID     string            `json:"host_id"`
			Labels     map[string]string `json:"labels"`
			Components []struct {
				ID           string `json:"id"`
				MaxInstances int    `json:"max_instances"`
			} `json:"components"`
		} `json:"inventories"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		w.t.Fatalf("inventory: %v\n%s", err, out)
	}
	got := map[string]int{}
	for _, inv := range r.Inventories {
		for _, c := range inv.Components {
			got[inv.Labels["zone"]] += c.MaxInstances
		}
	}
	return got
}

func (w *washCLI) hostPID(zoneHostID string) int {
	b, err := os.ReadFile(filepath.Join(w.home, "hosts", zoneHostID+".json"))
	if err != nil {
		w.t.Fatal(err)
	}
	var rec struct {
		PID int `json:"pid"`
	}
	_ = json.Unmarshal(b, &rec)
	return rec.PID
}

func hostIDFromUp(t *testing.T, out string) string {
	for _, f := range strings.Fields(out) {
		f = strings.Trim(f, "()")
		if len(f) == 56 && strings.HasPrefix(f, "N") {
			return f
		}
	}
	t.Fatalf("no host id in: %s", out)
	return ""
}

// TestSeedScenarioBinary drives the seed scenario through the real binary.
func TestSeedScenarioBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the wash binary")
	}
	dir := t.TempDir()
	bin := testtool.Wash(t)
	// The manifest names ./hello.wasm relative to its own directory.
	wasm, err := os.ReadFile(testlattice.Wasip1(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	w := &washCLI{t: t, bin: bin, home: filepath.Join(dir, "home"), port: freePort(t)}
	hb := []string{"--heartbeat-interval", "250ms", "--nats-port", w.port}
	w.must(append([]string{"up", "-d"}, hb...)...)
	t.Cleanup(func() { _, _ = w.run("down", "--all") })

	manifest := testmanifest.App{Name: "seed", Components: []testmanifest.Component{
		{Name: "hello", Image: "file://./hello.wasm", Scaler: &testmanifest.Scaler{Instances: 100, Spread: []testmanifest.Spread{
			{Name: "east", Weight: 80, Requirements: map[string]string{"zone": "us-east-1"}},
			{Name: "west", Weight: 20, Requirements: map[string]string{"zone": "us-west-1"}},
		}}},
	}}.YAML()
	mpath := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(mpath, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := w.run("app", "deploy", mpath, "--timeout", "3s")
	if err == nil || !strings.Contains(out, "Could not satisfy spread") {
		t.Fatalf("deploy without labelled hosts should report the failure, got err=%v\n%s", err, out)
	}
	w.must(append([]string{"up", "-d", "--multi-local", "--label", "zone=us-east-1"}, hb...)...)
	westID := hostIDFromUp(t, w.must(append([]string{"up", "-d", "--multi-local", "--label", "zone=us-west-1"}, hb...)...))
	w.waitStatus("seed", func(s string) bool { return s == "deployed" })
	if got := w.inventory(); got["us-east-1"] != 80 || got["us-west-1"] != 20 {
		t.Fatalf("instances per zone = %v, want east 80, west 20", got)
	}
	if err := syscall.Kill(w.hostPID(westID), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	msg := w.waitStatus("seed", func(s string) bool { return s != "deployed" && s != "" })
	if !strings.Contains(msg, "west") {
		t.Errorf("status after the west host died does not mention the west spread: %q", msg)
	}
	w.must(append([]string{"up", "-d", "--multi-local", "--label", "zone=us-west-1"}, hb...)...)
	w.waitStatus("seed", func(s string) bool { return s == "deployed" })
	if got := w.inventory(); got["us-west-1"] != 20 {
		t.Fatalf("instances per zone after replacing the west host = %v", got)
	}
	// Listing and history through the CLI.
	if out := w.must("app", "list"); !strings.Contains(out, "seed") || !strings.Contains(out, "Deployed") {
		t.Errorf("app list: %s", out)
	}
	if out := w.must("app", "undeploy", "seed"); !strings.Contains(out, "Undeployed application: seed") {
		t.Errorf("undeploy: %s", out)
	}
}
