// Package corpus finds the real-world test components of the repository — the guests kept
// with their sources in runtime/testdata/corpus (and the WAT example in examples/hello-http)
// — and builds the one too large to check in, the componentize-js guest, into the user's
// cache. Tests import it; nothing reads fixtures from outside the repository.
package corpus

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/internal/testtool"
)

// Checked-in guests (see runtime/testdata/corpus/README.md).
const (
	// WatHello is the hand-written WAT wasi:http guest (8 KB).
	WatHello = "wat-hello"
	// GoHello is plain Go (wasip1 + the preview1 reactor adapter), 2.2 MB.
	GoHello = "go-hello"
	// HelloPlugin is upstream wasmCloud's signed Rust wash plugin (wasi:cli/run), 615 KB.
	HelloPlugin = "hello-plugin"
	// GuestComponent is upstream's pre-standard (0x0c) component binary.
	GuestComponent = "guest-component"
	// Logger is upstream's legacy waPC core module with a jwt section.
	Logger = "logger"
)

var files = map[string]string{
	WatHello:       "examples/hello-http/hello.component.wasm",
	GoHello:        "runtime/testdata/corpus/go-hello/gohello.component.wasm",
	HelloPlugin:    "runtime/testdata/corpus/upstream/hello_plugin_s.wasm",
	GuestComponent: "runtime/testdata/corpus/upstream/guest.component.wasm",
	Logger:         "runtime/testdata/corpus/upstream/logger.wasm",
}

// Root is the repository's root directory.
func Root() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("corpus: cannot locate the source file")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Path returns the absolute path of a checked-in guest; a missing file fails the test.
func Path(t testing.TB, name string) string {
	t.Helper()
	rel, ok := files[name]
	if !ok {
		t.Fatalf("corpus: no guest named %q", name)
	}
	p := filepath.Join(Root(), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("corpus: %v", err)
	}
	return p
}

// Read returns a checked-in guest's bytes.
func Read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CacheDir is where tests keep what they build or compile across runs (the user cache,
// else the temporary directory).
func CacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "wash-test")
}

// CompilationCache is a compilation cache directory shared by test runs, so the large guests
// compile once per machine.
func CompilationCache() string { return filepath.Join(CacheDir(), "wasm-cache") }

// JSHello builds the componentize-js fetch-event guest (runtime/testdata/corpus/js-hello,
// about 14 MB) once per version of its sources and of the pinned jco, and returns its path.
// It needs node and npm (jco is installed from npm by tools/jco.sh): without them the test
// fails, as CI installs them.
func JSHello(t testing.TB) string {
	t.Helper()
	return testtool.Must(t, BuildJSHello)
}

// BuildJSHello is JSHello outside tests (bench/ uses it).
func BuildJSHello() (string, error) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("the componentize-js guest needs %s (Debian: apt-get install nodejs npm; .ci/run installs it): %w", tool, err)
		}
	}
	root := Root()
	src := filepath.Join(root, "runtime", "testdata", "corpus", "js-hello")
	h := sha256.New()
	for _, f := range []string{filepath.Join(src, "hello.js"), filepath.Join(src, "build.sh"),
		filepath.Join(root, "tools", "jco.sh"), filepath.Join(root, "tools", "mkwit.sh"),
		filepath.Join(root, "tools", "jco", "package-lock.json")} {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	dir := filepath.Join(CacheDir(), "corpus")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "hello-js-"+hex.EncodeToString(h.Sum(nil))[:16]+".component.wasm")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	unlock, err := lockFile(out + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(out); err == nil {
		return out, nil // another process built it while we waited
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("sh", filepath.Join(src, "build.sh"))
	cmd.Env = append(os.Environ(), "OUT="+tmp)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the componentize-js guest (%s): %w\n%s", filepath.Join(src, "build.sh"), err, log.String())
	}
	if err := os.Rename(filepath.Join(tmp, "hello-js.component.wasm"), out); err != nil {
		return "", err
	}
	return out, nil
}

// GuestPath returns the path of a guest by name, building js-hello when needed ("js-hello").
func GuestPath(name string) (string, error) {
	if name == "js-hello" {
		return BuildJSHello()
	}
	rel, ok := files[name]
	if !ok {
		return "", fmt.Errorf("no guest named %q", name)
	}
	return filepath.Join(Root(), filepath.FromSlash(rel)), nil
}

// JSHelloBody is what the componentize-js guest answers for path: every fresh instance says
// "request 1".
func JSHelloBody(path string) string {
	return fmt.Sprintf("hello from JS (componentize-js), path=%s, request 1\n", path)
}
