package host_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host"
)

// raw sends a request and returns the reply body.
func raw(t *testing.T, h *host.Host, c *ctl.Client, subject string, body string) string {
	t.Helper()
	msg, err := c.Conn().Request(subject, []byte(body), 2*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", subject, err)
	}
	return string(msg.Data)
}

// TestControlReplies checks the exact reply envelope of every control subject (reference §2.5).
func TestControlReplies(t *testing.T) {
	nc := startNATS(t)
	evs := watchEvents(t, nc, "default")
	h := startHost(t, nc, host.Config{Lattice: "default", Labels: map[string]string{"zone": "east"}})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	base := "wasmbus.ctl.v1.default."
	id := h.ID()

	cases := []struct{ subject, body, want string }{
		{"label.put." + id, `{"key":"tier","value":"gold"}`, `{"success":true,"message":"successfully put label"}`},
		{"label.put." + id, `{"key":"HostCore.os","value":"x"}`, `{"success":false,"message":"hostcore.* labels cannot be set dynamically"}`},
		{"label.del." + id, `{"key":"tier"}`, `{"success":true,"message":"successfully deleted label"}`},
		{"label.del." + id, `{"key":"tier"}`, `{"success":true,"message":"successfully deleted label (no such label)"}`},
		{"config.put.cfg", `{"address":"127.0.0.1:8080"}`, `{"success":true,"message":"successfully put config"}`},
		{"config.put.bad", `{"port":8080}`, `{"success":false,"message":"config data should be a map of string -> string"}`},
		{"config.get.cfg", ``, `{"success":true,"message":"","response":{"address":"127.0.0.1:8080"}}`},
		{"config.get.missing", ``, `{"success":true,"message":"Configuration not found"}`},
		{"link.put", `{"source_id":"http","target":"hello","wit_namespace":"wasi","wit_package":"http","interfaces":["incoming-handler"],"source_config":["cfg"]}`, `{"success":true,"message":"successfully set link"}`},
		{"link.put", `{"source_id":"http","target":"other","wit_namespace":"wasi","wit_package":"http","interfaces":["incoming-handler"]}`,
			`{"success":false,"message":"link already exists with different target, consider deleting the existing link or using a different link name"}`},
		{"link.put", `{"source_id":"a","target":"b","wit_namespace":"wasi","wit_package":"kv","interfaces":["store"],"target_config":["nope","SECRET_x"]}`,
			`{"success":false,"message":"Failed to validate configuration and secrets. Configuration nope not found in config store. Secret reference SECRET_x not found in config store. "}`},
		{"link.get", ``, `{"success":true,"message":"","response":[{"source_id":"http","target":"hello","name":"default","wit_namespace":"wasi","wit_package":"http","interfaces":["incoming-handler"],"source_config":["cfg"],"target_config":[]}]}`},
		{"link.del", `{"source_id":"nobody","wit_namespace":"wasi","wit_package":"http"}`, `{"success":true,"message":"successfully deleted link (spec doesn't exist)"}`},
		{"config.del.cfg", ``, `{"success":true,"message":"successfully deleted config"}`},
		{"config.del.never-existed", ``, `{"success":true,"message":"successfully deleted config"}`},
		{"component.scale." + id, `not json`, `{"success":false,"message":"failed to deserialize component scale command"}`},
		{"component.scale." + id, `{"component_ref":"file:///nope.wasm","component_id":"c","count":1}`, `{"success":true,"message":""}`},
		{"component.update." + id, `{"component_id":"ghost","new_component_ref":"x"}`, `{"success":false,"message":"component ghost not found"}`},
		{"provider.stop." + id, `{"provider_id":"ghost"}`, `{"success":false,"message":"provider with that ID is not running"}`},
		{"provider.start." + id, `{"provider_id":"p","provider_ref":"wasmcloud+builtin://no-such-thing"}`, `{"success":true,"message":"successfully started provider"}`},
		{"host.stop." + id, `{"host_id":"NOTME"}`, `{"success":false,"message":"invalid host_id [NOTME]"}`},
		{"registry.put", `{"ghcr.io":{"username":"u","password":"p"}}`, `{"success":true,"message":"successfully put registries"}`},
		{"claims.get", ``, `{"success":true,"message":"","response":[]}`},
		{"host.bogus." + id, `{}`, `{"success":false,"message":"unsupported subject"}`},
	}
	for _, tc := range cases {
		if got := raw(t, h, c, base+tc.subject, tc.body); got != tc.want {
			t.Errorf("%s %s:\n got %s\nwant %s", tc.subject, tc.body, got, tc.want)
		}
	}
	// The host keeps serving after bad input.
	if _, err := c.GetHostInventory(context.Background(), id); err != nil {
		t.Fatalf("host stopped serving after bad input: %v", err)
	}
	// Events the operations above must have produced (4.2).
	for _, name := range []string{events.LabelsChanged, events.ConfigSet, events.LinkdefSet, events.LinkdefSetFailed, events.ConfigDeleted, events.ComponentScaleFailed, events.ProviderStartFailed, events.HostHeartbeat, events.HostStarted} {
		evs.mu.Lock()
		found := false
		for _, e := range evs.evs {
			if e.Name() == name && e.Source == id {
				found = true
			}
		}
		evs.mu.Unlock()
		if !found {
			// some are asynchronous; wait for them
			evs.waitFor(t, name, nil)
		}
	}
}

func TestAuctions(t *testing.T) {
	nc := startNATS(t)
	east := startHost(t, nc, host.Config{Lattice: "default", Labels: map[string]string{"zone": "east"}})
	west := startHost(t, nc, host.Config{Lattice: "default", Labels: map[string]string{"zone": "west"}})
	// A long client timeout: the gather must end when replies stop, far sooner than that.
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default", Timeout: time.Minute})
	ctx := context.Background()
	start := time.Now()
	acks, err := c.AuctionComponent(ctx, ctl.ComponentAuctionRequest{ComponentID: "c", Constraints: map[string]string{"zone": "west"}}, ctl.GatherOptions{})
	if err != nil || len(acks) != 1 || acks[0].HostID != west.ID() {
		t.Fatalf("west auction: %+v %v", acks, err)
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("auction took %s: it should return once replies stop, not after the full timeout", time.Since(start))
	}
	packs, _ := c.AuctionProvider(ctx, ctl.ProviderAuctionRequest{ProviderID: "p", Constraints: map[string]string{}}, ctl.GatherOptions{})
	if len(packs) != 2 {
		t.Fatalf("unconstrained provider auction: %d acks, want 2", len(packs))
	}
	hosts, _ := c.PingHosts(ctx, ctl.GatherOptions{})
	if len(hosts) != 2 {
		t.Fatalf("ping: %d hosts", len(hosts))
	}
	_ = east
}

// TestPingNoHostsIsFast: with nobody subscribed the server's no-responders status ends the gather.
func TestPingNoHostsIsFast(t *testing.T) {
	nc := startNATS(t)
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "empty", Timeout: time.Minute})
	start := time.Now()
	hosts, err := c.PingHosts(context.Background(), ctl.GatherOptions{})
	if err != nil || len(hosts) != 0 {
		t.Fatalf("%v %v", hosts, err)
	}
	if d := time.Since(start); d > 20*time.Second { // far below the minute a timeout would take
		t.Fatalf("empty ping took %s", d)
	}
}

// TestLatticeDataSharedWithLaterHosts: links and config live in the KV buckets, so a host
// started afterwards serves them too.
func TestLatticeDataSharedWithLaterHosts(t *testing.T) {
	nc := startNATS(t)
	first := startHost(t, nc, host.Config{Lattice: "shared"})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "shared"})
	ctx := context.Background()
	if _, err := c.PutConfig(ctx, "kv-cfg", map[string]string{"bucket": "counts"}); err != nil {
		t.Fatal(err)
	}
	link := ctl.Link{SourceID: "counter", Target: "kv", WitNamespace: "wasi", WitPackage: "keyvalue", Interfaces: []string{"store", "atomics"}, TargetConfig: []string{"kv-cfg"}}
	if _, err := c.PutLink(ctx, link); err != nil {
		t.Fatal(err)
	}
	first.Stop(ctx, time.Second)

	second := startHost(t, nc, host.Config{Lattice: "shared"})
	links, err := c.GetLinks(ctx)
	if err != nil || len(links) != 1 || links[0].Target != "kv" || strings.Join(links[0].Interfaces, ",") != "store,atomics" {
		t.Fatalf("links seen by the later host: %+v %v", links, err)
	}
	cfg, found, err := c.GetConfig(ctx, "kv-cfg")
	if err != nil || !found || cfg["bucket"] != "counts" {
		t.Fatalf("config seen by the later host: %v %v %v", cfg, found, err)
	}
	// Delete round-trips too, and a third host sees the deletion.
	if _, err := c.DeleteLink(ctx, ctl.DeleteLinkRequest{SourceID: "counter", WitNamespace: "wasi", WitPackage: "keyvalue"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteConfig(ctx, "kv-cfg"); err != nil {
		t.Fatal(err)
	}
	second.Stop(ctx, time.Second)
	startHost(t, nc, host.Config{Lattice: "shared"})
	if links, _ := c.GetLinks(ctx); len(links) != 0 {
		t.Fatalf("deleted link still served: %+v", links)
	}
	if _, found, _ := c.GetConfig(ctx, "kv-cfg"); found {
		t.Fatal("deleted config still served")
	}
	// The stored value is upstream's ComponentSpecification.
	js, _ := jsKV(t, nc, "LATTICEDATA_shared", "COMPONENT_counter")
	if js != `{"url":"","links":[]}` {
		t.Fatalf("stored spec = %s", js)
	}
}

func TestHeartbeatAtStart(t *testing.T) {
	nc := startNATS(t)
	evs := watchEvents(t, nc, "default")
	start := time.Now()
	h := startHost(t, nc, host.Config{Lattice: "default", HeartbeatInterval: time.Hour})
	data := evs.waitFor(t, events.HostHeartbeat, nil)
	if time.Since(start) > 30*time.Second { // the interval is an hour
		t.Fatalf("first heartbeat after %s, want right after start", time.Since(start))
	}
	if data["host_id"] != h.ID() || data["version"] != host.Version {
		t.Fatalf("heartbeat data %v", data)
	}
	for _, k := range []string{"components", "providers", "friendly_name", "labels", "uptime_human", "uptime_seconds"} {
		if _, ok := data[k]; !ok {
			t.Errorf("heartbeat lacks %q", k)
		}
	}
}

func TestHostStop(t *testing.T) {
	l := newLattice(t, host.Config{})
	evs, h, c := l.evs, l.h, l.c
	if _, err := c.StopHost(context.Background(), h.ID(), time.Second); err != nil {
		t.Fatal(err)
	}
	evs.waitFor(t, events.HostStopped, nil)
	select {
	case <-h.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("host did not finish stopping")
	}
	if _, err := c.GetHostInventory(context.Background(), h.ID()); err == nil {
		t.Fatal("stopped host still answers")
	}
}

func TestIdentityAndLabels(t *testing.T) {
	nc := startNATS(t)
	ctx := context.Background()
	if _, err := host.New(ctx, nc, host.Config{Labels: map[string]string{"hostcore.os": "x"}}); err == nil {
		t.Fatal("hostcore label accepted")
	}
	if _, err := host.New(ctx, nc, host.Config{Seed: "SUABC"}); err == nil {
		t.Fatal("bad seed accepted")
	}
	if _, err := host.New(ctx, nc, host.Config{Lattice: "a.b"}); err == nil {
		t.Fatal("lattice with a dot accepted")
	}
	kp, _ := nkeys.CreateServer()
	seed, _ := kp.Seed()
	pub, _ := kp.PublicKey()
	h := startHost(t, nc, host.Config{Seed: string(seed)})
	if h.ID() != pub || !ctl.IsHostID(h.ID()) {
		t.Fatalf("host id %q", h.ID())
	}
	inv := h.Inventory()
	for _, k := range []string{"hostcore.os", "hostcore.arch", "hostcore.osfamily"} {
		if inv.Labels[k] == "" {
			t.Errorf("missing %s", k)
		}
	}
	if parts := strings.Split(h.FriendlyName(), "-"); len(parts) != 3 || len(parts[2]) != 4 {
		t.Errorf("friendly name %q is not adjective-noun-NNNN", h.FriendlyName())
	}
	b, _ := json.Marshal(inv)
	if !strings.Contains(string(b), `"components":[]`) {
		t.Errorf("empty inventory must list components as []: %s", b)
	}
}

func TestHumanUptime(t *testing.T) {
	for secs, want := range map[uint64]string{0: "0s", 45: "45s", 9420: "2h 37m", 97325: "1day 3h 2m 5s", 2 * 86400: "2days"} {
		if got := host.HumanUptime(secs); got != want {
			t.Errorf("%d: %q want %q", secs, got, want)
		}
	}
}

// TestConcurrentLinkPutsAcrossHosts: link.put is a queue group, so puts for one source land on
// different hosts; the spec is updated with compare-and-set, so none is lost.
func TestConcurrentLinkPutsAcrossHosts(t *testing.T) {
	nc := startNATS(t)
	startHost(t, nc, host.Config{Lattice: "cas"})
	startHost(t, nc, host.Config{Lattice: "cas"})
	startHost(t, nc, host.Config{Lattice: "cas"})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "cas", Timeout: 5 * time.Second})
	const n = 30
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := c.PutLink(context.Background(), ctl.Link{SourceID: "src", Target: "t", Name: fmt.Sprintf("l%02d", i),
				WitNamespace: "wasi", WitPackage: "keyvalue", Interfaces: []string{"store"}})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Every host converges on all n links (served by whichever host answers).
	deadline := time.Now().Add(5 * time.Second)
	for {
		links, err := c.GetLinks(context.Background())
		if err == nil && len(links) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %d links, got %d (%v)", n, len(links), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	js, _ := jsKV(t, nc, "LATTICEDATA_cas", "COMPONENT_src")
	if got := strings.Count(js, `"source_id"`); got != n {
		t.Fatalf("stored spec has %d links, want %d", got, n)
	}
}
