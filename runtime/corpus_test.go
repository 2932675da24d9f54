package runtime

import (
	"context"
	"io"
	"net/http/httptest"
	"os"
	gort "runtime"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/corpus"
)

// The real-world corpus, each guest on a fresh instance per call (the default).

func corpusEngine(t testing.TB) *Engine {
	return newEngine(t, Options{MaxExecutionTime: time.Minute})
}

// The componentize-js guest counts requests in module state: on a fresh instance every
// response says "request 1". Reusing an instance (the opt-in Pool) breaks it: StarlingMonkey
// refuses a second fetch event — the risk the reuse option documents.
func TestCorpusJSFreshInstances(t *testing.T) {
	e := corpusEngine(t)
	p := compilePath(t, e, corpus.JSHello(t))
	if err := p.Recyclable(context.Background(), InstanceConfig{}); err != nil {
		t.Fatalf("the JS guest is not recycled: %v", err)
	}
	for i, path := range []string{"/a", "/b", "/c", "/d"} {
		rec, err := serve(t, p, path, InstanceConfig{})
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if got := rec.Body.String(); rec.Code != 200 || got != corpus.JSHelloBody(path) {
			t.Fatalf("request %d: %d %q, want %q", i, rec.Code, got, corpus.JSHelloBody(path))
		}
	}
	pl := p.NewPool(1, 0)
	defer pl.Close()
	if rec, err := poolServe(t, pl, "/1", InstanceConfig{}); err != nil || rec.Body.String() != corpus.JSHelloBody("/1") {
		t.Fatalf("reused instance, first request: %v %q", err, rec.Body.String())
	}
	if _, err := poolServe(t, pl, "/2", InstanceConfig{}); err == nil {
		t.Fatal("a reused componentize-js instance served a second request; the reuse warning is stale")
	}
}

// go-hello runs Go's runtime initialization as a start function: fresh instances either run it
// (no snapshot) or start from the state it left (snapshot). Both answer alike, and each
// request's stderr goes to that request's writer (the snapshot's stdio handles are made again
// per call).
func TestCorpusGoFreshInstances(t *testing.T) {
	e := corpusEngine(t)
	p := compilePath(t, e, corpus.Path(t, corpus.GoHello))
	for _, snap := range []bool{true, false} {
		for i := 0; i < 3; i++ {
			var stderr strings.Builder
			path := "/go?i=" + string(rune('a'+i))
			rec, err := serve(t, p, path, InstanceConfig{InitSnapshot: snap, Stderr: &stderr})
			if err != nil {
				t.Fatalf("snapshot=%v request %d: %v", snap, i, err)
			}
			body, _ := io.ReadAll(rec.Result().Body)
			if rec.Code != 200 || string(body) != "hello from Go (wasip1 + reactor adapter), path="+path+"\n" {
				t.Fatalf("snapshot=%v: %d %q", snap, rec.Code, body)
			}
			if got := stderr.String(); got != "gohello: served "+path+"\n" {
				t.Fatalf("snapshot=%v request %d: stderr %q", snap, i, got)
			}
		}
	}
	if err := p.Recyclable(context.Background(), InstanceConfig{InitSnapshot: true}); err != nil {
		t.Fatalf("go-hello has no init snapshot: %v", err)
	}
}

// Upstream's Rust plugin (wasi:cli/run) twice on fresh instances: same output both times.
func TestCorpusHelloPluginTwice(t *testing.T) {
	e := corpusEngine(t)
	p := compilePath(t, e, corpus.Path(t, corpus.HelloPlugin))
	var first string
	for i := 0; i < 2; i++ {
		var out strings.Builder
		code, err := p.RunCommand(context.Background(), InstanceConfig{Args: []string{"--foo", "bar"}, Stdout: &out, Stderr: io.Discard})
		if err != nil || code != 1 {
			t.Fatalf("run %d: code %d, %v", i, code, err)
		}
		if i == 0 {
			first = out.String()
		} else if out.String() != first {
			t.Fatalf("second run printed %q, first %q", out.String(), first)
		}
	}
	if !strings.Contains(first, `I got some arguments: ["wasm", "--foo", "bar"]`) {
		t.Fatalf("output %q", first)
	}
}

// BenchmarkFreshInstance is the instantiate-only cost per corpus guest (a fresh instance made
// ready and ended, no call), recycled and from scratch, next to a call on a fresh instance.
//
//	go test ./runtime -run '^$' -bench FreshInstance -benchtime 2s
func BenchmarkFreshInstance(b *testing.B) {
	guests := []struct{ name, path string }{
		{"wat-hello", corpus.Path(b, corpus.WatHello)},
		{"go-hello", corpus.Path(b, corpus.GoHello)},
		{"js-hello", corpus.JSHello(b)},
		{"hello-plugin", corpus.Path(b, corpus.HelloPlugin)},
	}
	e := corpusEngine(b)
	for _, g := range guests {
		p := compilePath(b, e, g.path)
		cfg := InstanceConfig{InitSnapshot: true}
		http := p.HasExport(HTTPIncomingHandler)
		b.Run(g.name+"/recycled", func(b *testing.B) {
			lim := p.limits(cfg)
			b.ReportAllocs()
			defer cpuPerOp(b)()
			for i := 0; i < b.N; i++ {
				inst, rc, err := p.acquire(context.Background(), cfg, lim)
				if err != nil {
					b.Fatal(err)
				}
				p.release(inst, rc, true)
			}
		})
		b.Run(g.name+"/scratch", func(b *testing.B) {
			b.ReportAllocs()
			defer cpuPerOp(b)()
			for i := 0; i < b.N; i++ {
				inst, err := p.Instantiate(context.Background(), InstanceConfig{})
				if err != nil {
					b.Fatal(err)
				}
				_ = inst.Close(context.Background())
			}
		})
		if http {
			b.Run(g.name+"/request", func(b *testing.B) {
				req := httptest.NewRequest("GET", "/bench", nil)
				b.ReportAllocs()
				defer cpuPerOp(b)()
				for i := 0; i < b.N; i++ {
					rec := httptest.NewRecorder()
					if err := p.HandleHTTP(context.Background(), rec, req, cfg); err != nil {
						b.Fatal(err)
					}
				}
			})
			// 20 requests at once, as bench/http.sh's wrk -c20 sends them
			b.Run(g.name+"/request-c20", func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism((20 + gort.GOMAXPROCS(0) - 1) / gort.GOMAXPROCS(0))
				defer cpuPerOp(b)()
				b.RunParallel(func(pb *testing.PB) {
					req := httptest.NewRequest("GET", "/bench", nil)
					for pb.Next() {
						rec := httptest.NewRecorder()
						if err := p.HandleHTTP(context.Background(), rec, req, cfg); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkWarmCompile is what a redeploy of a known component costs the runtime: a new
// engine on a warm compilation cache compiles the component (nothing is compiled to machine
// code again) and makes its first instance.
//
//	go test ./runtime -run '^$' -bench WarmCompile -benchtime 5x
func BenchmarkWarmCompile(b *testing.B) {
	for _, g := range []struct{ name, path string }{
		{"wat-hello", corpus.Path(b, corpus.WatHello)},
		{"js-hello", corpus.JSHello(b)},
	} {
		wasm, err := os.ReadFile(g.path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(g.name, func(b *testing.B) {
			defer cpuPerOp(b)()
			for i := 0; i < b.N; i++ {
				e, err := NewEngine(context.Background(), Options{CompilationCacheDir: corpus.CompilationCache()})
				if err != nil {
					b.Fatal(err)
				}
				p, err := e.Compile(context.Background(), wasm)
				if err != nil {
					b.Fatal(err)
				}
				inst, rc, err := p.acquire(context.Background(), InstanceConfig{InitSnapshot: true}, p.limits(InstanceConfig{InitSnapshot: true}))
				if err != nil {
					b.Fatal(err)
				}
				p.release(inst, rc, true)
				_ = e.Close(context.Background())
			}
		})
	}
}
