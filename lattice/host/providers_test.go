package host_test

import (
	"context"
	"maps"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
)

func inventoryProviders(t *testing.T, c *ctl.Client, hostID string) map[string]ctl.ProviderDescription {
	t.Helper()
	inv, err := c.GetHostInventory(context.Background(), hostID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ctl.ProviderDescription{}
	for _, p := range inv.Providers {
		out[p.ID] = p
	}
	return out
}

// TestNativeProviderThroughHost drives a provider archive through the control interface:
// start, health, link put/del, crash and restart, stop.
func TestNativeProviderThroughHost(t *testing.T) {
	nc := startNATS(t)
	evs := watchEvents(t, nc, "default")
	h := startHost(t, nc, host.Config{ProviderHealthDelay: 100 * time.Millisecond, ProviderHealthInterval: 200 * time.Millisecond, ProviderRestartDelay: 50 * time.Millisecond})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default", Timeout: 5 * time.Second})
	ctx := context.Background()
	parPath := providertest.TestProviderPAR(t, t.TempDir(), true)

	const pid = "testprov"
	reports := providertest.Reports(t, nc, pid)
	if r, err := c.StartProvider(ctx, ctl.StartProviderCommand{ProviderID: pid, ProviderRef: "file://" + parPath, HostID: h.ID(), Annotations: map[string]string{"a": "b"}}); err != nil || !r.Success {
		t.Fatalf("start: %+v %v", r, err)
	}
	started := evs.waitFor(t, events.ProviderStarted, nil)
	if started["provider_id"] != pid || started["claims"] == nil {
		t.Fatalf("provider_started = %v", started)
	}
	first := providertest.NextReport(t, reports, "started")
	if p, ok := inventoryProviders(t, c, h.ID())[pid]; !ok || p.Name != "testprovider" || p.Annotations["a"] != "b" {
		t.Fatalf("inventory after start: %+v", inventoryProviders(t, c, h.ID()))
	}
	evs.waitFor(t, events.HealthCheckPassed, func(d map[string]any) bool { return d["provider_id"] == pid })

	if r, err := c.PutLink(ctx, ctl.Link{SourceID: "comp1", Target: pid, WitNamespace: "wasmcloud", WitPackage: "example", Interfaces: []string{"x"}}); err != nil || !r.Success {
		t.Fatalf("link put: %+v %v", r, err)
	}
	if r := providertest.NextReport(t, reports, "link_put"); !strings.Contains(string(r.Link), `"source_id":"comp1"`) {
		t.Fatalf("link put delivered %s", r.Link)
	}
	if r, err := c.DeleteLink(ctx, ctl.DeleteLinkRequest{SourceID: "comp1", WitNamespace: "wasmcloud", WitPackage: "example", Name: "default"}); err != nil || !r.Success {
		t.Fatalf("link del: %+v %v", r, err)
	}
	if r := providertest.NextReport(t, reports, "link_del"); !strings.Contains(string(r.Link), `"target":"`+pid+`"`) {
		t.Fatalf("link del delivered %s", r.Link)
	}

	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := providertest.NextReport(t, reports, "started")
	if second.PID == first.PID || second.InstanceID == first.InstanceID {
		t.Fatalf("not restarted: %+v", second)
	}
	if _, ok := inventoryProviders(t, c, h.ID())[pid]; !ok {
		t.Fatal("a restarted provider must stay in the inventory")
	}

	start := time.Now()
	if r, err := c.StopProvider(ctx, ctl.StopProviderCommand{HostID: h.ID(), ProviderID: pid}); err != nil || !r.Success {
		t.Fatalf("stop: %+v %v", r, err)
	}
	evs.waitFor(t, events.ProviderStopped, func(d map[string]any) bool { return d["provider_id"] == pid })
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("provider.stop took %s", d)
	}
	providertest.NextReport(t, reports, "shutdown")
	if err := syscall.Kill(second.PID, 0); err == nil {
		t.Fatalf("provider process %d still runs", second.PID)
	}
	if _, ok := inventoryProviders(t, c, h.ID())[pid]; ok {
		t.Fatal("stopped provider still in the inventory")
	}
}

func TestProviderStartBadInput(t *testing.T) {
	nc := startNATS(t)
	evs := watchEvents(t, nc, "default")
	h := startHost(t, nc, host.Config{})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default", Timeout: 5 * time.Second})
	ctx := context.Background()
	foreign := providertest.TestProviderPAR(t, t.TempDir(), false)
	cases := []struct{ id, ref, want string }{
		{"foreign", "file://" + foreign, "provider archive has no binary for this target"},
		{"nobuiltin", "wasmcloud+builtin://nope", "unknown builtin name: nope"},
		{"missing", "file:///nonexistent/x.par.gz", "unable to read /nonexistent/x.par.gz"},
	}
	for _, tc := range cases {
		if _, err := c.StartProvider(ctx, ctl.StartProviderCommand{ProviderID: tc.id, ProviderRef: tc.ref, HostID: h.ID()}); err != nil {
			t.Fatal(err)
		}
		d := evs.waitFor(t, events.ProviderStartFailed, func(d map[string]any) bool { return d["provider_id"] == tc.id })
		if msg, _ := d["error"].(string); !strings.Contains(msg, tc.want) {
			t.Errorf("%s: error %q, want it to contain %q", tc.id, msg, tc.want)
		}
	}
	// Builtins start and show in the inventory like any provider.
	for _, name := range []string{"keyvalue-inmemory", "keyvalue-nats", "keyvalue-redis", "messaging-nats"} {
		if _, err := c.StartProvider(ctx, ctl.StartProviderCommand{ProviderID: name, ProviderRef: "wasmcloud+builtin://" + name, HostID: h.ID()}); err != nil {
			t.Fatal(err)
		}
		evs.waitFor(t, events.ProviderStarted, func(d map[string]any) bool { return d["provider_id"] == name })
	}
	provs := inventoryProviders(t, c, h.ID())
	for _, name := range []string{"keyvalue-inmemory", "keyvalue-nats", "keyvalue-redis", "messaging-nats"} {
		if p, ok := provs[name]; !ok || p.ImageRef != name {
			t.Errorf("inventory lacks %s: %+v", name, provs)
		}
	}
	if len(provs) != 4 {
		t.Errorf("inventory has failed providers: %+v", provs)
	}
}

// TestNativeProviderConfigUpdate: a config.put of a config a running native provider was
// started with reaches it on upstream's subject, wasmbus.rpc.<lattice>.<provider id>.config.update,
// as the merged config in JSON (what wasmcloud-provider-sdk's on_config_update receives).
func TestNativeProviderConfigUpdate(t *testing.T) {
	nc := startNATS(t)
	h := startHost(t, nc, host.Config{})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default", Timeout: 5 * time.Second})
	ctx := context.Background()
	parPath := providertest.TestProviderPAR(t, t.TempDir(), true)
	const pid = "cfgprov"
	reports := providertest.Reports(t, nc, pid)
	wire := make(chan *nats.Msg, 4)
	if _, err := nc.ChanSubscribe("wasmbus.rpc.default."+pid+".config.update", wire); err != nil {
		t.Fatal(err)
	}
	for name, values := range map[string]map[string]string{"base": {"a": "1", "b": "1"}, "override": {"b": "2"}} {
		if r, err := c.PutConfig(ctx, name, values); err != nil || !r.Success {
			t.Fatalf("config put %s: %+v %v", name, r, err)
		}
	}
	if r, err := c.StartProvider(ctx, ctl.StartProviderCommand{ProviderID: pid, ProviderRef: "file://" + parPath, HostID: h.ID(), Config: []string{"base", "override"}}); err != nil || !r.Success {
		t.Fatalf("start: %+v %v", r, err)
	}
	providertest.NextReport(t, reports, "started")
	if r, err := c.PutConfig(ctx, "base", map[string]string{"a": "3", "b": "1", "c": "x"}); err != nil || !r.Success {
		t.Fatalf("config put: %+v %v", r, err)
	}
	got := providertest.NextReport(t, reports, "config_update")
	if want := map[string]string{"a": "3", "b": "2", "c": "x"}; !maps.Equal(got.Config, want) {
		t.Fatalf("provider got config %v, want the merged %v", got.Config, want)
	}
	select {
	case m := <-wire:
		if string(m.Data) != `{"a":"3","b":"2","c":"x"}` {
			t.Fatalf("config.update body = %s", m.Data)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing on the config.update subject")
	}
	// A config the provider does not use sends nothing.
	if r, err := c.PutConfig(ctx, "unrelated", map[string]string{"z": "1"}); err != nil || !r.Success {
		t.Fatalf("config put: %+v %v", r, err)
	}
	select {
	case m := <-wire:
		t.Fatalf("config.update for an unrelated config: %s", m.Data)
	case <-time.After(500 * time.Millisecond):
	}
}
