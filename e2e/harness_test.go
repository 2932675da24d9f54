// Package e2e drives the real wash binary as a user would: separate processes, a private
// WASH_HOME and free loopback ports.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testtool"
)

// washBin is the wash binary every test runs.
var washBin string

// TestMain builds the binary once for all tests.
func TestMain(m *testing.M) {
	bin, err := testtool.BuildWash()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		testtool.RemoveBuilt()
		os.Exit(1)
	}
	washBin = bin
	code := m.Run()
	removeTypeScriptProject() // shared by the devloop tests (≈400 MB with node_modules)
	testtool.RemoveBuilt()
	os.Exit(code)
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t testing.TB) int { return testtool.FreePort(t) }

// env is one user's shell: a WASH_HOME and a NATS port.
type env struct {
	t    testing.TB
	home string
	port int
}

func newEnv(t testing.TB) *env { return envOn(t, freePort(t)) }

// envOn is a user's shell with its own WASH_HOME whose lattice is the NATS on port (another
// user's, or a server the test started).
func envOn(t testing.TB, port int) *env {
	e := &env{t: t, home: t.TempDir(), port: port}
	t.Cleanup(e.cleanup)
	return e
}

// upLattice is newEnv with a lattice running: `wash up -d` on the env's NATS port, and
// `wash down --all` when the test ends.
func upLattice(t testing.TB) *env {
	t.Helper()
	e := newEnv(t)
	e.must("up", "-d", "--nats-port", e.portArg())
	t.Cleanup(func() { e.run("down", "--all") })
	return e
}

type result struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// washEnv is the environment wash runs with in this env: the test's own, WASH_HOME, no colours,
// then extra (later entries win).
func (e *env) washEnv(extra ...string) []string {
	return append(append(os.Environ(), "WASH_HOME="+e.home, "NO_COLOR=1"), extra...)
}

// runWash runs the wash binary in dir (the test's when empty) with exactly the environment env.
// A non-zero exit is a result; a binary that does not start fails the test.
func runWash(t testing.TB, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(washBin, args...)
	cmd.Dir = dir
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running wash %v: %v", args, err)
	}
	return r
}

// runIn runs wash in dir with extra environment entries.
func (e *env) runIn(dir string, extra []string, args ...string) result {
	e.t.Helper()
	return runWash(e.t, dir, e.washEnv(extra...), args...)
}

// run executes wash with args; "-p PORT" is not added automatically.
func (e *env) run(args ...string) result {
	e.t.Helper()
	return e.runIn("", nil, args...)
}

// must runs wash and fails the test on a non-zero exit.
func (e *env) must(args ...string) result {
	e.t.Helper()
	return e.mustWith(nil, args...)
}

// mustWith is must with extra environment entries.
func (e *env) mustWith(extra []string, args ...string) result {
	e.t.Helper()
	r := e.runIn("", extra, args...)
	if r.code != 0 {
		e.t.Fatalf("wash %s failed:\n%s", strings.Join(args, " "), r)
	}
	return r
}

func (e *env) portArg() string { return strconv.Itoa(e.port) }

// pids lists the processes recorded in WASH_HOME (hosts and NATS).
func (e *env) pids() []int {
	var out []int
	files, _ := filepath.Glob(filepath.Join(e.home, "hosts", "*.json"))
	more, _ := filepath.Glob(filepath.Join(e.home, "nats-*.json"))
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var rec struct {
			PID int `json:"pid"`
		}
		if json.Unmarshal(b, &rec) == nil && rec.PID > 0 {
			out = append(out, rec.PID)
		}
	}
	return out
}

// cleanup makes sure no process of this test outlives it.
func (e *env) cleanup() {
	for _, pid := range e.pids() {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	}
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// poll calls done every interval until it reports true or within has passed, and tells whether
// done reported true in time. Callers keep what done last saw for their failure message.
func poll(within, every time.Duration, done func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if done() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(every)
	}
}

// waitHTTP polls url until check accepts the answer.
func waitHTTP(t *testing.T, url string, within time.Duration, check func(code int, body string) bool) (int, string) {
	t.Helper()
	var code int
	var body string
	var err error
	if !poll(within, 100*time.Millisecond, func() bool {
		code, body, err = httpGet(url)
		return err == nil && check(code, body)
	}) {
		t.Fatalf("GET %s: %d %q %v after %s", url, code, body, err, within)
	}
	return code, body
}

// connect opens a NATS connection to url for the test; it is closed when the test ends.
func connect(t testing.TB, url string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connecting to NATS at %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// natsConn connects test t (the env's test or one of its subtests) to the NATS server of this
// env's lattice.
func (e *env) natsConn(t testing.TB) *nats.Conn {
	t.Helper()
	return connect(t, "nats://127.0.0.1:"+e.portArg())
}

// notNATS holds a free loopback port with a program that is not NATS and returns the port: it
// accepts connections and hangs up at once (hangUp) or keeps them open without a word, the two
// ways such a program fails a NATS client. It stops when the test ends.
func notNATS(t testing.TB, hangUp bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if hangUp {
				c.Close()
			} else {
				held = append(held, c)
			}
		}
	}()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func decodeJSON(t testing.TB, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("not JSON (%v): %s", err, s)
	}
}
