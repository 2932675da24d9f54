package wrpc

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/benchcpu"
)

// Benchmarks of one wRPC call between two NATS connections (two hosts) on loopback, next to
// the baseline of a plain NATS request/reply measured in the same run:
//
//	go test ./lattice/wrpc -run '^$' -bench . -benchtime 3s
//
// p50-ns is the median latency of the sequential benchmarks; cpu-µs/op is the CPU time of the
// whole process (client, server and the embedded NATS server) per call, the figure that does
// not follow the load other programs put on a shared machine.

func benchPair(b *testing.B) (*Conn, *Conn) {
	url := startNATS(b, 0)
	srv, cli := connect(b, url), connect(b, url)
	f := NewFunc([]Param{{"bucket", String}, {"key", String}}, Result(Option(List(U8)), kvError))
	s, err := srv.Serve(ServeOptions{Prefix: "L.kv", Queue: "L.kv"}, Export{Instance: "wrpc:keyvalue/store@0.2.0-draft", Func: "get", Type: f,
		Handler: func(_ context.Context, a []Value) ([]Value, error) { return []Value{Ok(Some([]byte("bar")))}, nil }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Stop)
	if _, err := srv.NATS().Subscribe("plain.echo", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		b.Fatal(err)
	}
	_ = srv.NATS().Flush()
	return srv, cli
}

var benchInv = Invocation{Prefix: "L.kv", Instance: "wrpc:keyvalue/store@0.2.0-draft", Func: "get",
	Header: nats.Header{"source-id": {"comp"}, "link-name": {"default"}}, Timeout: 10 * time.Second}

func reportP50(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
}

func BenchmarkCall(b *testing.B) {
	_, cli := benchPair(b)
	args := []Value{"default", "foo"}
	sequential(b, func() error {
		_, err := cli.Invoke(context.Background(), benchInv, kvGet, args)
		return err
	})
}

func BenchmarkBaselineNATSRequest(b *testing.B) {
	_, cli := benchPair(b)
	nc := cli.NATS()
	payload := []byte("\x07default\x03foo")
	sequential(b, func() error {
		_, err := nc.Request("plain.echo", payload, 10*time.Second)
		return err
	})
}

// sequential times b.N calls one after another and reports their median latency and the
// process's CPU time per call.
func sequential(b *testing.B, call func() error) {
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
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
	reportP50(b, lat)
}

// 20 concurrent callers; ns/op is the inverse of throughput.
func BenchmarkCall20Concurrent(b *testing.B) {
	_, cli := benchPair(b)
	parallel(b, 20, func() error {
		_, err := cli.Invoke(context.Background(), benchInv, kvGet, []Value{"default", "foo"})
		return err
	})
}

func BenchmarkBaselineNATSRequest20Concurrent(b *testing.B) {
	_, cli := benchPair(b)
	nc := cli.NATS()
	parallel(b, 20, func() error {
		_, err := nc.Request("plain.echo", []byte("\x07default\x03foo"), 10*time.Second)
		return err
	})
}

func parallel(b *testing.B, workers int, call func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	next := make(chan struct{}, b.N)
	for i := 0; i < b.N; i++ {
		next <- struct{}{}
	}
	close(next)
	t0 := time.Now()
	cpu := benchcpu.Start()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
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
