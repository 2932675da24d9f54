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

// A fresh instance per request (the default), through the host path: slot, config, limits,
// fresh instance, handle.
func BenchmarkHostHTTPWatHelloFresh(b *testing.B) {
	benchServe(b, benchHost(b, host.Config{}, watHelloRef(b)))
}

// Reused instances (opt-in): the baseline fresh instances are measured against.
func BenchmarkHostHTTPWatHelloReused(b *testing.B) {
	benchServe(b, benchHost(b, host.Config{ReuseInstances: true}, watHelloRef(b)))
}

func BenchmarkHostHTTPGoHelloFresh(b *testing.B) {
	benchServe(b, benchHost(b, host.Config{}, goHelloRef(b)))
}

// Fresh instances that run the Go runtime's start every time (no init snapshot).
func BenchmarkHostHTTPGoHelloFreshNoSnapshot(b *testing.B) {
	benchServe(b, benchHost(b, host.Config{NoInitSnapshots: true}, goHelloRef(b)))
}

func BenchmarkHostHTTPGoHelloReused(b *testing.B) {
	benchServe(b, benchHost(b, host.Config{ReuseInstances: true}, goHelloRef(b)))
}
