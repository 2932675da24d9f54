package host_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/telemetry"
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
