//go:build linux || darwin

package e2e

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// runInSilentPTY runs wash on a pty that never answers terminal queries (no terminal emulator
// reads the other end's questions) and returns what it printed and how long it took.
func runInSilentPTY(t *testing.T, env []string, args ...string) (string, time.Duration) {
	t.Helper()
	cmd := exec.Command(washBin, args...)
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	f, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { _, _ = io.Copy(&out, f); close(done) }() // ends with EIO once the child exits
	_ = cmd.Wait()
	took := time.Since(start)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return out.String(), took
}

// TestNoTerminalQuery: no command asks the terminal anything (Bubble Tea's init would wait 5 s
// for an answer), and NO_COLOR or TERM=dumb mean no colour and no symbols.
func TestNoTerminalQuery(t *testing.T) {
	for _, env := range [][]string{{"TERM=xterm-256color"}, {"TERM=xterm-256color", "NO_COLOR=1"}, {"TERM=dumb"}} {
		out, took := runInSilentPTY(t, append(env, "CI="), "get", "hosts", "-p", "1")
		if strings.Contains(out, "\x1b]11;?") || strings.Contains(out, "\x1b[6n") {
			t.Errorf("%v: wash queried the terminal: %q", env, out)
		}
		// The stall was 5 s; half of it is far above a start-up on a loaded machine.
		if took > 2500*time.Millisecond {
			t.Errorf("%v: wash get hosts took %s in a silent pty", env, took)
		}
		plain := len(env) > 1 || env[0] == "TERM=dumb"
		if hasColor := strings.Contains(out, "\x1b["); hasColor == plain {
			t.Errorf("%v: colour escapes present=%v in %q", env, hasColor, out)
		}
	}
}
