package runtime

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/corpus"
)

// newEngine makes an engine for a test; compiled code is shared across test runs (the big
// guests compile once per machine).
func newEngine(t testing.TB, opts Options) *Engine {
	t.Helper()
	if opts.CompilationCacheDir == "" {
		opts.CompilationCacheDir = corpus.CompilationCache()
	}
	e, err := NewEngine(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

// fixture finds a test binary: the small test guests under testdata, the real-world corpus
// (internal/corpus) by its file name.
func fixture(name string) string {
	if p, ok := corpusFiles[name]; ok {
		return p
	}
	return filepath.Join("testdata", name)
}

// corpusFiles names the corpus guests by the file names the tests use.
var corpusFiles = map[string]string{
	"wat-hello.component.wasm": "../examples/hello-http/hello.component.wasm",
	"gohello.component.wasm":   "testdata/corpus/go-hello/gohello.component.wasm",
	"hello_plugin_s.wasm":      "testdata/corpus/upstream/hello_plugin_s.wasm",
	"guest.component.wasm":     "testdata/corpus/upstream/guest.component.wasm",
	"logger.wasm":              "testdata/corpus/upstream/logger.wasm",
}

func compileFile(t testing.TB, e *Engine, name string) *Program {
	t.Helper()
	return compilePath(t, e, fixture(name))
}

// compilePath compiles the component at path (relative to this package).
func compilePath(t testing.TB, e *Engine, path string) *Program {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Compile(context.Background(), b)
	if err != nil {
		t.Fatalf("compile %s: %v", path, err)
	}
	return p
}

// httpHandler is what the benchmarks drive: a Program (a fresh instance per request) or a Pool.
type httpHandler interface {
	HandleHTTP(ctx context.Context, w http.ResponseWriter, r *http.Request, cfg InstanceConfig) error
}

// benchHandleHTTP times b.N sequential GET requests for target.
func benchHandleHTTP(b *testing.B, h httpHandler, target string, cfg InstanceConfig) {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		if err := h.HandleHTTP(context.Background(), rec, req, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func serve(t testing.TB, p *Program, target string, cfg InstanceConfig) (*httptest.ResponseRecorder, error) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	err := p.HandleHTTP(context.Background(), rec, req, cfg)
	return rec, err
}

func TestWatHelloHTTP(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: 10 * time.Second})
	p := compileFile(t, e, "wat-hello.component.wasm")
	if p.Kind() != KindComponent {
		t.Fatalf("kind %v", p.Kind())
	}
	if got := strings.Join(p.Exports(), ","); got != "wasi:http/incoming-handler@0.2.0" {
		t.Fatalf("exports %q", got)
	}
	if got := strings.Join(p.Imports(), ","); got != "wasi:http/types@0.2.0,wasi:io/streams@0.2.0" {
		t.Fatalf("imports %q", got)
	}
	for i := 0; i < 3; i++ {
		rec, err := serve(t, p, "/foo?bar=1", InstanceConfig{})
		if err != nil {
			t.Fatal(err)
		}
		res := rec.Result()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || res.Header.Get("content-type") != "text/plain" ||
			string(body) != "hello from a WAT component, path=/foo?bar=1\n" {
			t.Fatalf("got %d %v %q", res.StatusCode, res.Header, body)
		}
	}
}

func TestGoHelloHTTP(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: 30 * time.Second})
	p := compileFile(t, e, "gohello.component.wasm")
	var stderr strings.Builder
	for i := 0; i < 2; i++ {
		rec, err := serve(t, p, "/go?x=1", InstanceConfig{Stderr: &stderr})
		if err != nil {
			t.Fatal(err)
		}
		res := rec.Result()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || res.Header.Get("content-type") != "text/plain" ||
			res.Header.Get("x-powered-by") != "go-wasip1" ||
			string(body) != "hello from Go (wasip1 + reactor adapter), path=/go?x=1\n" {
			t.Fatalf("got %d %v %q", res.StatusCode, res.Header, body)
		}
	}
	if !strings.Contains(stderr.String(), "gohello: served /go?x=1") {
		t.Fatalf("stderr %q", stderr.String())
	}
}

func TestHelloPluginRun(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: 30 * time.Second})
	p := compileFile(t, e, "hello_plugin_s.wasm")
	if !p.HasExport(CLIRun) || !p.HasExport("wasmcloud:wash/subcommand@0.1.0") {
		t.Fatalf("exports %v", p.Exports())
	}
	var out, errOut strings.Builder
	code, err := p.RunCommand(context.Background(), InstanceConfig{Args: []string{"--foo", "bar", "somepath"}, Stdout: &out, Stderr: &errOut})
	t.Logf("code=%d err=%v stdout=%q stderr=%q", code, err, out.String(), errOut.String())
	if err != nil {
		t.Fatal(err)
	}
	// The plugin echoes its arguments, tries an outbound request (denied: empty allow-list)
	// and fails to open the path (no preopens), so it exits 1.
	if code != 1 || !strings.Contains(out.String(), `I got some arguments: ["wasm", "--foo", "bar", "somepath"]`) ||
		!strings.Contains(errOut.String(), "HttpRequestDenied") {
		t.Fatalf("unexpected run: code=%d", code)
	}
}

func TestRefusedBinaries(t *testing.T) {
	e := newEngine(t, Options{})
	b, _ := os.ReadFile(fixture("guest.component.wasm"))
	if _, err := e.Compile(context.Background(), b); err == nil || !strings.Contains(err.Error(), "unsupported component binary version") {
		t.Fatalf("guest.component.wasm: %v", err)
	}
	good, err := os.ReadFile(fixture("wat-hello.component.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{9, 20, 100, len(good) / 2, len(good) - 1} {
		if _, err := e.Compile(context.Background(), good[:n]); err == nil {
			t.Fatalf("truncated at %d: compiled", n)
		} else if strings.Contains(err.Error(), "\n") {
			t.Fatalf("multi-line error: %q", err)
		}
	}
	bad := append([]byte(nil), good...)
	for i := 8; i < len(bad); i += 97 {
		bad[i] ^= 0x5a
	}
	if _, err := e.Compile(context.Background(), bad); err == nil {
		t.Fatal("corrupted binary compiled")
	}
}

func BenchmarkInstantiateHandle(b *testing.B) {
	for _, f := range []string{"wat-hello.component.wasm", "gohello.component.wasm"} {
		b.Run(strings.TrimSuffix(f, ".component.wasm"), func(b *testing.B) {
			e := newEngine(b, Options{})
			p := compileFile(b, e, f)
			b.ReportAllocs()
			benchHandleHTTP(b, p, "/bench", InstanceConfig{})
		})
	}
}

func TestLegacyCoreModuleRefusedCleanly(t *testing.T) {
	e := newEngine(t, Options{})
	b, _ := os.ReadFile(fixture("logger.wasm"))
	p, err := e.Compile(context.Background(), b)
	if err != nil {
		return // refusing is fine
	}
	if p.Kind() != KindCoreModule {
		t.Fatalf("kind %v", p.Kind())
	}
	if _, err := p.Instantiate(context.Background(), InstanceConfig{}); err == nil {
		t.Fatal("waPC module instantiated without its host")
	}
	if err := p.HandleHTTP(context.Background(), httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), InstanceConfig{}); err == nil {
		t.Fatal("core module served HTTP")
	}
}

func TestConcurrentHandleHTTP(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: 10 * time.Second})
	p := compileFile(t, e, "wat-hello.component.wasm")
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func(g int) {
			for i := 0; i < 50; i++ {
				path := "/c?g=" + strings.Repeat("x", g) // distinct per goroutine
				rec, err := serve(t, p, path, InstanceConfig{})
				if err == nil && rec.Body.String() != "hello from a WAT component, path="+path+"\n" {
					err = io.ErrUnexpectedEOF
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(g)
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// A component importing a WASI function with another type than the host's declared one is
// refused when it links, with one line that names the import and both types.
func TestMismatchedImportRefusedAtLink(t *testing.T) {
	e := newEngine(t, Options{})
	for _, c := range []struct{ file, want string }{
		{"guests/badimport.wasm", "import wasi:random/random@0.2.0#get-random-bytes: the host implements func(u64) -> list<u8>, the component imports func(u32) -> list<u8> (parameter 1: u32 where u64 is expected)"},
		{"guests/badcase.wasm", `import wasi:config/store@0.2.0-draft#get: the host implements`},
		{"guests/badcase.wasm", `(result: error: variant case "remote" where "upstream" is expected)`},
	} {
		b, err := os.ReadFile(fixture(c.file))
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Compile(context.Background(), b)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v\nwant one line containing %q", c.file, err, c.want)
		}
	}
}
