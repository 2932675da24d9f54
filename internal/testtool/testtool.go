// Package testtool gives integration tests the programs they run beside the code under test:
// the wash binary built from this module (once per test process), Debian programs such as
// docker-registry, redis-server and tmux, and free loopback ports for them. A missing program
// fails the test instead of skipping it: .ci/run installs every one of them, and a skip would
// let CI pass without exercising what the test claims to.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// Must runs a setup step for one test (a build, a free port): an error fails the test.
func Must[T any](t testing.TB, step func() (T, error)) T {
	t.Helper()
	v, err := step()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Path returns the absolute path of program name, searching PATH and then the given extra
// locations (Debian installs some daemons outside PATH). It fails the test, naming the Debian
// package to install, when the program is nowhere.
func Path(t testing.TB, name, debianPackage string, extra ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range extra {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Fatalf("%s is not installed: this test needs it (apt-get install -y %s, or run .ci/run, which installs it)", name, debianPackage)
	return ""
}
