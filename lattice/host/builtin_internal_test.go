package host

import (
	"context"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/wrpc/wrpchttp"
)

// A component may make outbound wasi:http requests only while it has a link on
// wasi:http/outgoing-handler: through this host's client when the builtin http-client runs
// here, over wRPC to the link's target otherwise; config comes from CONFIGDATA.
func TestOutboundNeedsHTTPClientLink(t *testing.T) {
	h := startInternalHost(t, Config{Lattice: "default"})
	ctx := context.Background()

	c := &component{id: "app", config: []string{"a", "b"}}
	if cfg := h.instanceConfig(c); len(cfg.AllowedHosts) != 0 || len(cfg.Config) != 0 {
		t.Fatalf("unlinked: %+v", cfg)
	}
	h.handlePutConfig(ctx, "a", []byte(`{"k":"1","x":"a"}`))
	h.handlePutConfig(ctx, "b", []byte(`{"x":"b"}`))
	if cfg := h.instanceConfig(c); cfg.Config["k"] != "1" || cfg.Config["x"] != "b" {
		t.Fatalf("merged config: %v", cfg.Config)
	}
	link := `{"source_id":"app","target":"client","wit_namespace":"wasi","wit_package":"http","interfaces":["outgoing-handler"]}`
	if r := h.handlePutLink(ctx, []byte(link)); !r.Success {
		t.Fatal(r.Message)
	}
	// the link's target does not run here: requests go to it over wRPC (wherever it runs)
	if cfg := h.instanceConfig(c); cfg.HTTPClient == nil || cfg.HTTPClient == h.httpClient {
		t.Fatal("outbound to a provider elsewhere does not go over wRPC")
	} else if _, ok := cfg.HTTPClient.Transport.(*wrpchttp.Transport); !ok {
		t.Fatalf("outbound transport %T", cfg.HTTPClient.Transport)
	}
	h.startProvider(ctx, ctl.StartProviderCommand{HostID: h.id, ProviderID: "client", ProviderRef: "wasmcloud+builtin://http-client"})
	cfg := h.instanceConfig(c)
	if len(cfg.AllowedHosts) != 1 || cfg.AllowedHosts[0] != "*" || cfg.HTTPClient != h.httpClient {
		t.Fatalf("linked: %+v", cfg.AllowedHosts)
	}
	if r := h.handleDeleteLink(ctx, []byte(`{"source_id":"app","wit_namespace":"wasi","wit_package":"http"}`)); !r.Success {
		t.Fatal(r.Message)
	}
	if cfg := h.instanceConfig(c); len(cfg.AllowedHosts) != 0 {
		t.Fatal("outbound still allowed after link delete")
	}
}

// startInternalHost runs a host on an embedded NATS server for the tests of this package.
func startInternalHost(tb testing.TB, cfg Config) *Host {
	tb.Helper()
	_, nc := testnats.Connected(tb)
	ctx := context.Background()
	h, err := New(ctx, nc, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := h.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Stop(ctx, time.Second) })
	return h
}
