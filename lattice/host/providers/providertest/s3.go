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

	"github.com/wasmlattice/wash/internal/testtool"
)

// toolBuild is a test server built once per test binary from its own module under
// lattice/host/providers/testdata (so its dependencies stay out of wash's go.mod).
type toolBuild struct {
	once sync.Once
	bin  string
	out  []byte
	err  error
}

var s3Build, vaultBuild toolBuild

// binary is $env when set (.ci/run builds the servers before the tests), else the module in
// testdata/dir built now; a first build downloads and compiles for minutes.
func (b *toolBuild) binary(t testing.TB, env, dir string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", env, p, err)
		}
		return p
	}
	b.once.Do(func() {
		_, self, _, _ := goruntime.Caller(0)
		src := filepath.Join(filepath.Dir(self), "..", "testdata", dir)
		tmp, err := os.MkdirTemp("", "wash-"+dir+"-")
		if err != nil {
			b.err = err
			return
		}
		b.bin = filepath.Join(tmp, dir)
		cmd := exec.Command("go", "build", "-o", b.bin, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOWORK=off")
		b.out, b.err = cmd.CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("building testdata/%s (or set %s to a built binary): %v\n%s", dir, env, b.err, b.out)
	}
	return b.bin
}

// S3 is an S3 gateway started for one test: VersityGW (a real S3 implementation with SigV4
// authentication) serving a temporary directory.
type S3 struct {
	Endpoint  string // http://127.0.0.1:<port>
	AccessKey string
	SecretKey string
	Dir       string
}

// StartS3 runs the S3 gateway on a free loopback port with the given root credentials and
// stops it when the test ends.
func StartS3(t testing.TB, access, secret string) *S3 {
	t.Helper()
	bin := s3Build.binary(t, "WASH_TEST_S3GATEWAY", "s3gateway")
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", testtool.FreePort(t))
	out := startServer(t, exec.Command(bin, "-dir", dir, "-listen", addr, "-access", access, "-secret", secret), "the S3 gateway")
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
