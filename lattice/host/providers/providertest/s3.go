package providertest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	s3Once  sync.Once
	s3Bin   string
	s3Out   []byte
	s3Error error
)

// S3 is an S3 gateway started for one test: VersityGW (a real S3 implementation with SigV4
// authentication) serving a temporary directory.
type S3 struct {
	Endpoint  string // http://127.0.0.1:<port>
	AccessKey string
	SecretKey string
	Dir       string
}

// s3GatewayBinary is $WASH_TEST_S3GATEWAY (.ci/run builds it before the tests), else it
// builds lattice/host/providers/testdata/s3gateway (its own Go module, so the gateway's
// dependencies stay out of wash's go.mod) once per test binary; a first build takes minutes.
func s3GatewayBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("WASH_TEST_S3GATEWAY"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("WASH_TEST_S3GATEWAY=%s: %v", p, err)
		}
		return p
	}
	s3Once.Do(func() {
		_, self, _, _ := goruntime.Caller(0)
		src := filepath.Join(filepath.Dir(self), "..", "testdata", "s3gateway")
		dir, err := os.MkdirTemp("", "wash-s3gateway-")
		if err != nil {
			s3Error = err
			return
		}
		s3Bin = filepath.Join(dir, "s3gateway")
		cmd := exec.Command("go", "build", "-o", s3Bin, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOWORK=off")
		s3Out, s3Error = cmd.CombinedOutput()
	})
	if s3Error != nil {
		t.Fatalf("building the S3 gateway (testdata/s3gateway): %v\n%s", s3Error, s3Out)
	}
	return s3Bin
}

// StartS3 runs the S3 gateway on a free loopback port with the given root credentials and
// stops it when the test ends.
func StartS3(t testing.TB, access, secret string) *S3 {
	t.Helper()
	bin := s3GatewayBinary(t)
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "-dir", dir, "-listen", addr, "-access", access, "-secret", secret)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the S3 gateway: %v", err)
	}
	var logs strings.Builder
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := dialTCP(addr); err == nil {
			c.Close()
			return &S3{Endpoint: "http://" + addr, AccessKey: access, SecretKey: secret, Dir: dir}
		}
		if time.Now().After(deadline) {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("the S3 gateway did not listen on %s within 30s:\n%s", addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
