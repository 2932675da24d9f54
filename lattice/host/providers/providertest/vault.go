package providertest

import (
	"bufio"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Vault is a real Vault server (testdata/vaultdev: Vault 1.14.1 in memory, KV v2 at secret/)
// started for one test.
type Vault struct {
	Addr  string // http://127.0.0.1:<port>
	Token string // root token
}

// StartVault runs vaultdev on a free loopback port and stops it when the test ends.
func StartVault(t testing.TB) *Vault {
	t.Helper()
	bin := vaultBuild.binary(t, "WASH_TEST_VAULTDEV", "vaultdev")
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, fmt.Sprintf("127.0.0.1:%d", port))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting vaultdev: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		for sc.Scan() {
		}
	}()
	select {
	case l, ok := <-line:
		f := strings.Fields(l)
		if !ok || len(f) != 2 {
			t.Fatalf("vaultdev did not start: %q", l)
		}
		return &Vault{Addr: f[0], Token: f[1]}
	case <-time.After(60 * time.Second):
		t.Fatalf("vaultdev did not start within 60s")
	}
	return nil
}
