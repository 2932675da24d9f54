package providertest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/testtool"
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
	cmd := exec.Command(bin, fmt.Sprintf("127.0.0.1:%d", testtool.FreePort(t)))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out := startServer(t, cmd, "vaultdev")
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

// Fields reads the secret at path (under secret/) through Vault's own API, with the root
// token: the fields of its latest version.
func (v *Vault) Fields(path string) (map[string]string, error) {
	req, err := http.NewRequest(http.MethodGet, v.Addr+"/v1/secret/data/"+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Vault-Token", v.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", req.URL, res.Status)
	}
	var body struct {
		Data struct {
			Data map[string]string `json:"data"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&body); err != nil {
		return nil, fmt.Errorf("GET %s: %w", req.URL, err)
	}
	return body.Data.Data, nil
}
