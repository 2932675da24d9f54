package providertest

import (
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"testing"

	"github.com/wasmlattice/wash/oci/par"
)

var (
	buildOnce sync.Once
	binPath   string
	buildOut  []byte
	buildErr  error
)

// TestProviderBinary builds lattice/host/providers/testdata/testprovider once per test
// binary and returns its path.
func TestProviderBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		_, self, _, _ := goruntime.Caller(0)
		src := filepath.Join(filepath.Dir(self), "..", "testdata", "testprovider")
		dir, err := os.MkdirTemp("", "wash-testprovider-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "testprovider")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("building the test provider: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// TestProviderPAR packs the test provider for this platform (as wash par create does) into
// dir and returns the archive's path. With native false the binary is filed under another
// target, so the archive has nothing this host can run.
func TestProviderPAR(t testing.TB, dir string, native bool) string {
	t.Helper()
	bin, err := os.ReadFile(TestProviderBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	a := par.New("testprovider", "wash tests")
	ver := "0.1.0"
	a.Ver = &ver
	target := par.NativeTarget()
	if !native {
		target = "s390x-plan9"
	}
	if err := a.AddBinary(target, bin); err != nil {
		t.Fatal(err)
	}
	c, err := par.Create(a, par.Keys{}, true)
	if err != nil {
		t.Fatal(err)
	}
	name := "testprovider.par.gz"
	if !native {
		name = "testprovider-foreign.par.gz"
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, c.Bytes, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
