// Package testlattice starts real lattices inside tests: an embedded NATS server with JetStream
// on a random loopback port, built-in hosts on their own connections, and a WASI preview1 module
// compiled from source once per test binary.
package testlattice

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/corpus"
	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/runtime"
)

// NATS is a NATS server started for one test (see internal/testnats), on which hosts start.
type NATS struct{ *testnats.Server }

// StartNATS runs an embedded NATS with JetStream on 127.0.0.1 and a random port; it stops when
// the test ends.
func StartNATS(t testing.TB) *NATS {
	t.Helper()
	return &NATS{testnats.Start(t)}
}

// StartServer runs a nats-server with the given options (auth, TLS …), forcing loopback, a random
// port, JetStream and a private store.
func StartServer(t testing.TB, opts *server.Options) *NATS {
	t.Helper()
	opts.JetStream = true
	opts.StoreDir = t.TempDir()
	return &NATS{testnats.Run(t, opts)}
}

// StartHost starts a built-in host on its own connection, with file loads allowed. It stops
// when the test ends.
func (n *NATS) StartHost(t testing.TB, cfg host.Config, opts ...nats.Option) *host.Host {
	t.Helper()
	return StartHostOn(t, n.Connect(t, opts...), cfg)
}

// StartHostOn starts a built-in host on an existing connection.
func StartHostOn(t testing.TB, nc *nats.Conn, cfg host.Config) *host.Host {
	t.Helper()
	cfg.AllowFileLoad = true
	if cfg.Engine == nil {
		// Hosts share an on-disk compilation cache, so a module is compiled once per machine
		// rather than once per host.
		eng, err := runtime.NewEngine(context.Background(), runtime.Options{CompilationCacheDir: corpus.CompilationCache()})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Engine = eng
		t.Cleanup(func() { _ = eng.Close(context.Background()) })
	}
	h, err := host.New(context.Background(), nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Once the server has the host's host_started, a test that starts watching the lattice
	// next does not see it (TestLinkCommands saw it in lattice "other" under load).
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop(context.Background(), time.Second) })
	return h
}

var (
	scratchOnce sync.Once
	scratchDir  string
	scratchErr  error
)

// scratch is a directory shared by the whole test binary (module build, compilation cache).
func scratch(t testing.TB) string {
	scratchOnce.Do(func() { scratchDir, scratchErr = os.MkdirTemp("", "wash-testlattice-") })
	if scratchErr != nil {
		t.Fatal(scratchErr)
	}
	return scratchDir
}

var (
	buildOnce sync.Once
	wasmPath  string
	buildErr  error
	buildOut  []byte
)

// Wasip1 compiles testdata/hello-wasip1 with GOOS=wasip1 once per test binary and returns the
// path of the module.
func Wasip1(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		_, self, _, _ := goruntime.Caller(0)
		src := filepath.Join(filepath.Dir(self), "testdata", "hello-wasip1")
		wasmPath = filepath.Join(scratch(t), "hello.wasm")
		cmd := exec.Command("go", "build", "-o", wasmPath, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("building wasip1 module: %v\n%s", buildErr, buildOut)
	}
	return wasmPath
}

// HTTPLog returns the path of testdata/httplog: a wasi:http component that answers like
// hello-http and writes "httplog path=<path>" to stderr on every request.
func HTTPLog(t testing.TB) string {
	t.Helper()
	_, self, _, _ := goruntime.Caller(0)
	return filepath.Join(filepath.Dir(self), "testdata", "httplog", "httplog.component.wasm")
}
