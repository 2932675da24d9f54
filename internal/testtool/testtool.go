// Package testtool finds the programs integration tests run beside the code under test
// (docker-registry, redis-server, tmux). A missing program fails the test instead of skipping
// it: .ci/run installs every one of them, and a skip would let CI pass without exercising what
// the test claims to.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

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
