//go:build linux || darwin

package dashboard_test

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/wasmlattice/wash/internal/testnats"
)

// terminal is the pty's other end: what the dashboard drew so far, read as it arrives.
type terminal struct {
	chunks chan string
	screen string
}

func newTerminal(f *os.File) *terminal {
	x := &terminal{chunks: make(chan string, 64)}
	go func() {
		defer close(x.chunks)
		buf := make([]byte, 32<<10)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				x.chunks <- string(buf[:n])
			}
			if err != nil { // EIO once wash exits
				return
			}
		}
	}()
	return x
}

// waitFor reads until the output holds s (true), or it ends or d passes (false).
func (x *terminal) waitFor(s string, d time.Duration) bool {
	deadline := time.After(d)
	for !strings.Contains(x.screen, s) {
		if !x.read(deadline) {
			return false
		}
	}
	return true
}

// rest reads until the output ends or d passes.
func (x *terminal) rest(d time.Duration) {
	deadline := time.After(d)
	for x.read(deadline) {
	}
}

// read takes the next piece of output; false when there is none before the deadline or ever.
func (x *terminal) read(deadline <-chan time.Time) bool {
	select {
	case c, ok := <-x.chunks:
		x.screen += c
		return ok
	case <-deadline:
		return false
	}
}

// sgr matches a Select Graphic Rendition sequence: colour, bold, reverse and the like.
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// TestDashboardInSilentTerminal runs the dashboard on a pty that never answers terminal queries
// (as in some CI runners, editors' shells or `script`): it must draw at once without asking the
// terminal anything, draw in colour on a colour terminal and without any under NO_COLOR or
// TERM=dumb, and quit on q.
func TestDashboardInSilentTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wash")
	}
	bin := buildWash(t)
	srv := testnats.Start(t)
	for _, tc := range []struct {
		env   []string
		color bool
	}{
		{[]string{"TERM=xterm-256color"}, true},
		{[]string{"TERM=xterm-256color", "NO_COLOR=1"}, false},
		{[]string{"TERM=dumb"}, false},
	} {
		t.Run(strings.Join(tc.env, " "), func(t *testing.T) {
			cmd := exec.Command(bin, "dashboard", "-p", strconv.Itoa(srv.Port), "--view", "hosts")
			// CI in the environment would make the terminal libraries treat the pty as a pipe;
			// NO_COLOR counts when present at all.
			env := withoutVars(os.Environ(), "CI", "NO_COLOR")
			cmd.Env = append(append(env, "WASH_HOME="+t.TempDir()), tc.env...)
			start := time.Now()
			f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			term := newTerminal(f)
			// Bubble Tea's package init waited 5 s for an answer that never comes; half of that
			// is far above a start-up on a loaded machine.
			if !term.waitFor("wash dashboard", 2500*time.Millisecond) {
				t.Fatalf("no frame after %s: %q", time.Since(start), term.screen)
			}
			t.Logf("first frame after %s", time.Since(start))
			// The first refresh shows the (empty) lattice; allow a slow machine.
			if !term.waitFor("no hosts in this lattice", 30*time.Second) {
				t.Fatalf("the lattice never showed: %q", term.screen)
			}
			if _, err := f.Write([]byte("q")); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("dashboard exited with %v", err)
				}
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("dashboard did not quit on q")
			}
			term.rest(5 * time.Second)
			screen := term.screen
			for _, query := range []string{"\x1b]11;?", "\x1b]10;?", "\x1b[6n", "\x1b[c"} {
				if strings.Contains(screen, query) {
					t.Errorf("the dashboard asked the terminal %q", query)
				}
			}
			if got := sgr.FindAllString(screen, -1); (len(got) > 0) != tc.color {
				t.Errorf("colour wanted: %v, but the screen has %d attribute sequences (%q…)", tc.color, len(got), got[:min(len(got), 5)])
			}
		})
	}
}

// withoutVars drops variables from an environment.
func withoutVars(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			out = append(out, kv)
		}
	}
	return out
}
