// Package e2e drives the real wash binary as a user would: separate processes, a private
// WASH_HOME and free loopback ports.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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

func newEnv(t testing.TB) *env {
	e := &env{t: t, home: t.TempDir(), port: freePort(t)}
	t.Cleanup(e.cleanup)
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

// run executes wash with args; "-p PORT" is not added automatically.
func (e *env) run(args ...string) result {
	e.t.Helper()
	return e.runIn("", nil, args...)
}

// must runs wash and fails the test on a non-zero exit.
func (e *env) must(args ...string) result {
	e.t.Helper()
	r := e.run(args...)
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

func decodeJSON(t testing.TB, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("not JSON (%v): %s", err, s)
	}
}
