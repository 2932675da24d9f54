package host_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/telemetry"
	"github.com/wasmlattice/wash/lattice/wrpc"
)

// BenchmarkHostHTTPWatHelloPooledTelemetry is BenchmarkHostHTTPWatHelloPooled with traces and
// metrics exported to an OTLP/HTTP sink: the cost of telemetry on, next to the same benchmark
// with it off.
func BenchmarkHostHTTPWatHelloPooledTelemetry(b *testing.B) {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer sink.Close()
	on := false
	tel, err := telemetry.Setup(b.Context(), telemetry.Config{EnableObservability: true, EnableLogs: &on, Endpoint: sink.URL, MetricInterval: time.Second}, "bench", "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer tel.Shutdown(b.Context())
	benchServe(b, benchHost(b, host.Config{Telemetry: tel}, watHelloRef(b)))
}

// BenchmarkCrossHostCallTraced is BenchmarkCrossHostCall with tracing on: the host exports its
// spans to an OTLP/HTTP sink, and each call is made inside a sampled span whose context goes
// in the invocation's headers (the served component_invocation span is its child).
func BenchmarkCrossHostCallTraced(b *testing.B) {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer sink.Close()
	on := true
	tel, err := telemetry.Setup(b.Context(), telemetry.Config{EnableTraces: &on, Endpoint: sink.URL}, "bench", "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer tel.Shutdown(b.Context())
	m := newMultiHost(b, 1, host.Config{Telemetry: tel})
	m.scale(0, "back", edgeCoreRef(b, "back"), 1000)
	cli, err := wrpc.NewConn(m.nc, wrpc.Options{Propagator: otelWRPC{}})
	if err != nil {
		b.Fatal(err)
	}
	inv := wrpc.Invocation{Prefix: "default.back", Instance: "wash:edgecore/backend@0.1.0", Func: "summarize",
		Header: nats.Header{"source-id": {"bench"}, "link-name": {"default"}}, Timeout: 10 * time.Second}
	args := []wrpc.Value{"edge-and-core", uint32(3)}
	tracer := tel.Tracer()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		ctx, span := tracer.Start(context.Background(), "bench call")
		_, err := cli.Invoke(ctx, inv, summarizeType, args)
		span.End()
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	b.ReportMetric(p50(lat), "p50-µs")
}

// otelWRPC is the benchmark client's propagator: W3C trace context from OpenTelemetry spans.
type otelWRPC struct{}

func (otelWRPC) Inject(ctx context.Context, c wrpc.Carrier) { telemetry.Propagator().Inject(ctx, c) }
func (otelWRPC) Extract(ctx context.Context, c wrpc.Carrier) context.Context {
	return telemetry.Propagator().Extract(ctx, c)
}
