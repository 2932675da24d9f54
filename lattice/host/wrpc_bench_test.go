package host_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/benchcpu"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/runtime"
)

// Cross-host benchmarks, each next to a baseline measured in the same run:
//
//	go test ./lattice/host -run '^$' -bench 'CrossHost|SameHost|LocalInvoke' -benchtime 3s
//
// CrossHostCall: a client on its own NATS connection calls back's summarize, served by a host
// (fresh instance per call). Baseline LocalInvoke: the same call on the host's program, no
// NATS. HTTP: requests to the http-server on host 0 served by the component on host 1, next
// to the same component on host 0. cpu-µs/op is the CPU time of the whole process (callers,
// hosts, the embedded NATS server) per call: on a shared machine the rates follow the others'
// load, the CPU per call follows the work.

var summarizeType = wrpc.NewFunc([]wrpc.Param{{Name: "text", Type: wrpc.String}, {Name: "max-words", Type: wrpc.U32}},
	wrpc.Result(wrpc.Record(wrpc.Field{Name: "greeting", Type: wrpc.String}, wrpc.Field{Name: "length", Type: wrpc.U32},
		wrpc.Field{Name: "words", Type: wrpc.List(wrpc.String)}), wrpc.String))

func benchBack(b *testing.B) (*multiHost, *wrpc.Conn, wrpc.Invocation) {
	m := newMultiHost(b, 1, host.Config{})
	m.scale(0, "back", edgeCoreRef(b, "back"), 1000)
	cli, err := wrpc.NewConn(m.nc, wrpc.Options{})
	if err != nil {
		b.Fatal(err)
	}
	inv := wrpc.Invocation{Prefix: "default.back", Instance: "wash:edgecore/backend@0.1.0", Func: "summarize",
		Header: nats.Header{"source-id": {"bench"}, "link-name": {"default"}}, Timeout: 10 * time.Second}
	return m, cli, inv
}

func p50(lat []time.Duration) float64 {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return float64(lat[len(lat)/2].Microseconds())
}

func BenchmarkCrossHostCall(b *testing.B) {
	_, cli, inv := benchBack(b)
	args := []wrpc.Value{"edge-and-core", uint32(3)}
	sequential(b, func() error {
		_, err := cli.Invoke(context.Background(), inv, summarizeType, args)
		return err
	})
}

func BenchmarkCrossHostCall20Concurrent(b *testing.B) {
	_, cli, inv := benchBack(b)
	args := []wrpc.Value{"edge-and-core", uint32(3)}
	concurrent(b, 20, func() error {
		_, err := cli.Invoke(context.Background(), inv, summarizeType, args)
		return err
	})
}

func backProgram(b *testing.B) *runtime.Program {
	eng, err := runtime.NewEngine(context.Background(), runtime.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = eng.Close(context.Background()) })
	wasm, err := os.ReadFile("../../examples/edge-core/back.component.wasm")
	if err != nil {
		b.Fatal(err)
	}
	prog, err := eng.Compile(context.Background(), wasm)
	if err != nil {
		b.Fatal(err)
	}
	return prog
}

// BenchmarkLocalInvoke is the baseline: the same function on a fresh instance, in process.
func BenchmarkLocalInvoke(b *testing.B) {
	prog := backProgram(b)
	sequential(b, func() error {
		_, err := prog.Invoke(context.Background(), runtime.InstanceConfig{}, "wash:edgecore/backend@0.1.0", "summarize", "edge-and-core", uint32(3))
		return err
	})
}

// BenchmarkLocalInvoke20Concurrent is the baseline of CrossHostCall20Concurrent: 20 callers
// of the function on fresh instances, in process — the most a host could serve.
func BenchmarkLocalInvoke20Concurrent(b *testing.B) {
	prog := backProgram(b)
	concurrent(b, 20, func() error {
		_, err := prog.Invoke(context.Background(), runtime.InstanceConfig{}, "wash:edgecore/backend@0.1.0", "summarize", "edge-and-core", uint32(3))
		return err
	})
}

// sequential makes b.N calls one after another and reports their median latency (p50-µs) and
// the CPU per call.
func sequential(b *testing.B, call func() error) {
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	cpu := benchcpu.Start()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := call(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	cpu.Report(b)
	b.ReportMetric(p50(lat), "p50-µs")
}

// concurrent makes b.N calls from workers goroutines and reports calls/s and the CPU per call.
func concurrent(b *testing.B, workers int, call func() error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	t0 := time.Now()
	cpu := benchcpu.Start()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := call(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "calls/s")
	cpu.Report(b)
}

// benchHTTP serves hello-http through the http-server on host 0, the component on host
// compHost, and measures requests from 16 concurrent clients.
func benchHTTP(b *testing.B, compHost int) {
	m := newMultiHost(b, 2, host.Config{})
	m.startBuiltin(0, "http", "http-server")
	m.scale(compHost, "hello", fixtureRef(b, "../../examples/hello-http/hello.component.wasm"), 1000)
	addr := freeAddr(b)
	m.serveHTTP("http", "hello", addr)
	url := "http://" + addr + "/bench"
	// another program may take the port freeAddr found free before the http-server binds it
	if code, body := waitServed(b, url); code != http.StatusOK || !strings.Contains(body, "hello from") {
		b.Fatalf("%s answered %d %q, not the component (port taken by another program?)", url, code, body)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	c := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	concurrent(b, 16, func() error {
		res, err := c.Get(url)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return nil
	})
}

func BenchmarkHTTPSameHost(b *testing.B)  { benchHTTP(b, 0) }
func BenchmarkHTTPCrossHost(b *testing.B) { benchHTTP(b, 1) }
