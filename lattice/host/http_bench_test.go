package host_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wasmlattice/wash/lattice/host"
)

// benchHost scales a component and returns the host, ready for ServeComponentHTTP.
func benchHost(b *testing.B, cfg host.Config, ref string) *host.Host {
	l := newLattice(b, cfg)
	l.scale("c", ref, 100, nil)
	return l.h
}

func benchServe(b *testing.B, h *host.Host) {
	req := httptest.NewRequest(http.MethodGet, "/bench", nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		if err := h.ServeComponentHTTP(ctx, "c", rec, req); err != nil || rec.Code != 200 {
			b.Fatalf("%v %d", err, rec.Code)
		}
	}
}

// Instantiate + handle per request (FreshInstances), through the host path: slot, config,
// limits, fresh instance, handle. Target ≤ 0.1 ms for wat-hello.
func BenchmarkHostHTTPWatHelloFresh(b *testing.B) {
	benchServe(b, benchHost(b, host.Config{FreshInstances: true}, watHelloRef(b)))
}

func BenchmarkHostHTTPWatHelloPooled(b *testing.B) {
	benchServe(b, benchHost(b, host.Config{}, watHelloRef(b)))
}

func BenchmarkHostHTTPGoHelloFresh(b *testing.B) {
	benchServe(b, benchHost(b, host.Config{FreshInstances: true}, goHelloRef(b)))
}

func BenchmarkHostHTTPGoHelloPooled(b *testing.B) {
	benchServe(b, benchHost(b, host.Config{}, goHelloRef(b)))
}
