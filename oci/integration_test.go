package oci

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

const distributionBinary = "/usr/bin/docker-registry"

// startDistribution runs Debian's docker-registry (the CNCF distribution reference
// implementation) on a random loopback port with htpasswd auth and temp storage.
func startDistribution(t testing.TB, user, pass string) string {
	t.Helper()
	bin := distributionBinary
	if _, err := os.Stat(bin); err != nil {
		if p, err := exec.LookPath("docker-registry"); err == nil {
			bin = p
		} else {
			t.Skip("docker-registry not installed (apt-get install -y docker-registry); .ci/run installs it")
		}
	}
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
auth:
  htpasswd:
    realm: wash-test
    path: %s
`, filepath.Join(dir, "data"), addr, htpasswd)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("docker-registry output:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not come up on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDistributionRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry process")
	}
	addr := startDistribution(t, "wash", "pa55word")
	ctx := context.Background()
	o := testOptions(t)
	o.Credentials = map[string]Credential{addr: {Username: "wash", Password: "pa55word"}}
	c := newClient(t, o)
	for name, data := range map[string][]byte{"component": tinyComponent(t), "provider": samplePAR(t)} {
		ref := addr + "/wasmcloud/" + name + ":0.1.0"
		res, err := c.Push(ctx, ref, PushRequest{Data: data, Annotations: map[string]string{"k": "v"}})
		if err != nil {
			t.Fatal(err)
		}
		po := o
		po.CacheDir = t.TempDir()
		a, err := newClient(t, po).Pull(ctx, ref, PullOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Digest != res.Digest || !bytes.Equal(a.Bytes(), data) || !bytes.Equal(a.ManifestBytes, res.Manifest) {
			t.Errorf("%s: round trip mismatch (%s vs %s)", name, a.Digest, res.Digest)
		}
		// By digest from the fresh cache: no network needed, so it works even with bad credentials.
		po.Credentials = map[string]Credential{addr: {Username: "wash", Password: "wrong"}}
		if _, err := newClient(t, po).Pull(ctx, addr+"/wasmcloud/"+name+"@"+res.Digest.String(), PullOptions{}); err != nil {
			t.Errorf("cached digest pull: %v", err)
		}
	}
	bad := o
	bad.CacheDir = t.TempDir()
	bad.Credentials = map[string]Credential{addr: {Username: "wash", Password: "nope"}}
	ref := addr + "/wasmcloud/component:0.1.0"
	_, err := newClient(t, bad).Pull(ctx, ref, PullOptions{})
	assertFailure(t, err, ErrUnauthorized, ref, bad.CacheDir)
}
