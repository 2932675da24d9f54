package providertest

import (
	"io"
	"os/exec"
	"testing"
)

// startServer starts cmd, a server process for one test (what names it in errors), and kills
// it when the test ends. It returns the server's stdout, which carries its stderr too unless
// cmd.Stderr is set.
func startServer(t testing.TB, cmd *exec.Cmd, what string) io.Reader {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if cmd.Stderr == nil {
		cmd.Stderr = cmd.Stdout
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", what, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return out
}
