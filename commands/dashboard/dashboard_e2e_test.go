package dashboard_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/testtool"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/internal/testmanifest"
)

func TestMain(m *testing.M) { testtool.Main(m) }

// buildWash builds the wash binary once per test binary.
func buildWash(t testing.TB) string { return testtool.Wash(t) }

func freePort(t testing.TB) int { return testtool.FreePort(t) }

// env is one isolated wash state directory with a detached lattice on a free port.
type env struct {
	t    testing.TB
	bin  string
	home string
	port int
}

func (e *env) environ() []string {
	return append(os.Environ(), "WASH_HOME="+e.home, "NO_COLOR=1", "WASMCLOUD_LATTICE=", "WASMCLOUD_CTL_PORT=")
}

func (e *env) wash(args ...string) (string, error) {
	cmd := exec.Command(e.bin, args...)
	cmd.Env = e.environ()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func startLattice(t testing.TB, extra ...string) *env {
	t.Helper()
	e := &env{t: t, bin: buildWash(t), home: t.TempDir(), port: freePort(t)}
	args := append([]string{"up", "-d", "--nats-port", strconv.Itoa(e.port)}, extra...)
	if out, err := e.wash(args...); err != nil {
		t.Fatalf("wash up: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := e.wash("down", "--all", "-p", strconv.Itoa(e.port), "--stop-timeout", "3s"); err != nil {
			t.Logf("wash down: %v\n%s", err, out)
		}
	})
	return e
}

// tmux drives one pane on a private server socket.
type tmux struct {
	t      testing.TB
	socket string
	env    []string
}

func newTmux(t testing.TB, env []string, w, h int, command string) *tmux {
	t.Helper()
	testtool.Path(t, "tmux", "tmux")
	x := &tmux{t: t, socket: fmt.Sprintf("wash-e2e-%d-%d", os.Getpid(), time.Now().UnixNano()), env: env}
	x.run("-f", "/dev/null", "new-session", "-d", "-s", "dash", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), command)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", x.socket, "kill-server").Run() })
	return x
}

func (x *tmux) run(args ...string) string {
	x.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-L", x.socket}, args...)...)
	cmd.Env = x.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (x *tmux) capture() string { return x.run("capture-pane", "-p", "-t", "dash") }

func (x *tmux) keys(keys ...string) { x.run(append([]string{"send-keys", "-t", "dash"}, keys...)...) }

// waitFor polls the pane until it contains every string, or fails after d.
func (x *tmux) waitFor(d time.Duration, want ...string) (string, time.Duration) {
	x.t.Helper()
	start := time.Now()
	var screen string
	for time.Since(start) < d {
		screen = x.capture()
		ok := true
		for _, w := range want {
			if !strings.Contains(screen, w) {
				ok = false
				break
			}
		}
		if ok {
			return screen, time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	x.t.Fatalf("pane did not show %q within %s; it shows:\n%s", want, d, screen)
	return "", 0
}

func TestDashboardInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wash and runs lattices")
	}
	testtool.Path(t, "tmux", "tmux")
	e := startLattice(t)
	cmdline := fmt.Sprintf("%s dashboard -p %d --view hosts; echo \"dashboard exited $?\"; sleep 60", e.bin, e.port)
	x := newTmux(t, e.environ(), 120, 40, cmdline)
	x.waitFor(10*time.Second, "● connected", "[2:Hosts]", "1.9.2")

	// A labelled host joins from outside; it must appear within a second of `wash up` returning.
	if out, err := e.wash("up", "-d", "--multi-local", "--nats-port", strconv.Itoa(e.port), "--label", "zone=x"); err != nil {
		t.Fatalf("wash up --multi-local: %v\n%s", err, out)
	}
	_, took := x.waitFor(time.Second, "zone=x")
	t.Logf("new host appeared after %s", took)

	// Drill into it and back.
	x.keys("/")
	x.keys("-l", "zone=x")
	x.keys("Enter")
	x.waitFor(2*time.Second, "/zone=x")
	x.keys("Enter")
	screen, _ := x.waitFor(2*time.Second, "Components (0)", "zone=x", "Labels:")
	if !strings.Contains(screen, "Host ") {
		t.Errorf("host detail has no title:\n%s", screen)
	}
	x.keys("Escape")
	x.waitFor(2*time.Second, "HOST ID", "zone=x")

	// Every view renders at this size.
	for i := 1; i <= 8; i++ {
		x.keys(strconv.Itoa(i))
		x.waitFor(2*time.Second, fmt.Sprintf("[%d:", i))
	}

	t.Run("app deployed", func(t *testing.T) {
		wasm := testlattice.Wasip1(t)
		manifest := filepath.Join(t.TempDir(), "app.yaml")
		app := testmanifest.App{Name: "dash-e2e", Version: "v0.0.1", Components: []testmanifest.Component{testmanifest.Wasm("hello", wasm, 1)}}
		if err := os.WriteFile(manifest, []byte(app.YAML()), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := e.wash("app", "deploy", manifest, "-p", strconv.Itoa(e.port)); err != nil {
			t.Fatalf("wash app deploy: %v\n%s", err, out)
		}
		// `wash app deploy` returns once wadm reports Deployed; the screen must follow within 1 s.
		x.keys("5")
		_, took := x.waitFor(time.Second, "dash-e2e", "v0.0.1", "deployed")
		t.Logf("app status appeared %s after the deploy returned", took)
		x.keys("Enter")
		x.waitFor(5*time.Second, "Scalers (1)", "SpreadScaler", "Manifest")
		x.keys("Escape")
	})

	x.keys("q")
	screen, _ = x.waitFor(3*time.Second, "dashboard exited 0")
	if strings.Contains(screen, "[2:Hosts]") || strings.Contains(screen, "● connected") {
		t.Errorf("the dashboard left its screen behind after quitting:\n%s", screen)
	}
}

// TestNeedsTerminal checks that piping the dashboard is a usage error (exit 2).
func TestNeedsTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wash")
	}
	bin := buildWash(t)
	cmd := exec.Command(bin, "dashboard", "-p", strconv.Itoa(freePort(t)))
	cmd.Env = append(os.Environ(), "WASH_HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &bytes.Buffer{}
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v, want code 2; stderr: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "needs a terminal") {
		t.Errorf("stderr = %q", stderr.String())
	}
}
