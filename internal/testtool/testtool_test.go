package testtool

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMissingToolFails runs a test that needs a program that does not exist, in a child test
// process, and checks that it fails rather than skips.
func TestMissingToolFails(t *testing.T) {
	if os.Getenv("TESTTOOL_CHILD") == "1" {
		Path(t, "wash-no-such-program", "wash-no-such-package")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestMissingToolFails$", "-test.v")
	cmd.Env = append(os.Environ(), "TESTTOOL_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--- FAIL") || strings.Contains(string(out), "--- SKIP") {
		t.Fatalf("a missing tool must fail the test; child test said (err %v):\n%s", err, out)
	}
	if !strings.Contains(string(out), "apt-get install -y wash-no-such-package") {
		t.Fatalf("the failure must say how to install the tool:\n%s", out)
	}
}

func TestPathFindsExtraLocation(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if got := Path(t, "wash-no-such-program", "x", "/nonexistent", self); got != self {
		t.Fatalf("Path = %q, want %q", got, self)
	}
}
