package testtool

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"testing"
)

var (
	washOnce sync.Once
	washDir  string
	washBin  string
	washErr  error
)

// BuildWash builds the wash binary from this module's ./cmd/wash once per test process and
// returns its path. Packages that use it remove it at the end with RemoveBuilt (from TestMain,
// or through Main).
func BuildWash() (string, error) {
	washOnce.Do(func() {
		_, self, _, _ := goruntime.Caller(0)
		root := filepath.Join(filepath.Dir(self), "..", "..")
		if washDir, washErr = os.MkdirTemp("", "wash-test-bin-"); washErr != nil {
			return
		}
		washBin = filepath.Join(washDir, "wash")
		cmd := exec.Command("go", "build", "-o", washBin, "./cmd/wash")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			washErr = fmt.Errorf("building wash: %v\n%s", err, out)
		}
	})
	return washBin, washErr
}

// Wash is BuildWash for one test: a failed build fails the test.
func Wash(t testing.TB) string {
	t.Helper()
	return Must(t, BuildWash)
}

// RemoveBuilt deletes what BuildWash built (nothing when it was not called).
func RemoveBuilt() {
	if washDir != "" {
		_ = os.RemoveAll(washDir)
	}
}

// Main runs a package's tests and then removes what BuildWash built:
//
//	func TestMain(m *testing.M) { testtool.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	RemoveBuilt()
	os.Exit(code)
}

// FreePort returns a loopback TCP port nobody listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	return FreePorts(t, 1)[0]
}

// FreePorts returns n distinct loopback TCP ports nobody listens on right now (all are held
// until each is found, so none repeats).
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}
