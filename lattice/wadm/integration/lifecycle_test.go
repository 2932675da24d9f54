package integration_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/lattice/buckets"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/wadm"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// TestWadmStartedAfterHosts (#12.2): a standalone wadm started after the hosts knows them at
// once, not at their next heartbeat (an hour away here), so a spread deploys right away.
func TestWadmStartedAfterHosts(t *testing.T) {
	wasm := testComponent(t)
	_, nc := startNATS(t, "")
	east := startHostEvery(t, nc, "default", map[string]string{"zone": "us-east-1"}, time.Hour)
	west := startHostEvery(t, nc, "default", map[string]string{"zone": "us-west-1"}, time.Hour)
	w, err := wadm.Run(t.Context(), nc, wadm.Config{Lattices: []string{"default"}, HostExpiry: 2 * time.Hour, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	c := wadmclient.New(nc, wadmclient.Options{Lattice: "default", Timeout: 5 * time.Second})
	cc := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	app := deploy(t, c, spreadManifest("late-wadm", wasm, 10))
	waitStatus(t, c, app, 10*time.Second, isType(model.StatusDeployed))
	if e, w := instances(t, cc, east.ID(), "late_wadm-hello"), instances(t, cc, west.ID(), "late_wadm-hello"); e != 8 || w != 2 {
		t.Fatalf("east %d / west %d, want 8 / 2", e, w)
	}
}

// TestVanishedHostDetected (#12.3): on the embedded NATS a host whose connection drops without
// host_stopped (kill -9) is gone from wadm's view within 5 s, from the server's disconnect
// advisory, long before its heartbeats expire; the app is not reported Deployed meanwhile.
func TestVanishedHostDetected(t *testing.T) {
	wasm := testComponent(t)
	srv, nc := startNATS(t, "")
	w, err := wadm.Run(t.Context(), nc, wadm.Config{Lattices: []string{"default"}, HostExpiry: time.Hour, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	c := wadmclient.New(nc, wadmclient.Options{Lattice: "default", Timeout: 5 * time.Second})
	startHostEvery(t, nc, "default", map[string]string{"zone": "us-east-1"}, time.Hour)
	westConn := connect(t, srv)
	startHostEvery(t, westConn, "default", map[string]string{"zone": "us-west-1"}, time.Hour)
	app := deploy(t, c, spreadManifest("vanish", wasm, 10))
	waitStatus(t, c, app, 10*time.Second, isType(model.StatusDeployed))

	westConn.Close() // as kill -9: no host_stopped
	start := time.Now()
	st := waitStatus(t, c, app, 10*time.Second, func(s *model.Status) bool { return s.Info.Type != model.StatusDeployed })
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("vanished host noticed after %s, want within 5 s", took)
	}
	if !contains(st.Info.Message, "west") {
		t.Errorf("status does not name the west spread: %q", st.Info.Message)
	}
}

// TestManifestsSyncedAtStart (#12.4): an app whose deploy was stored but whose
// manifest_published event never reached a worker (the process died in between) is deployed
// when a wadm starts on the lattice; one whose undeploy was lost is cleaned up.
func TestManifestsSyncedAtStart(t *testing.T) {
	wasm := testComponent(t)
	store := t.TempDir()
	srv, nc := startNATS(t, store)
	cc := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	h := startHostEvery(t, nc, "default", nil, time.Hour)
	// A first wadm deploys "kept" and "dropped".
	w1, err := wadm.Run(t.Context(), nc, wadm.Config{Lattices: []string{"default"}, HostExpiry: time.Hour, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	c := wadmclient.New(nc, wadmclient.Options{Lattice: "default", Timeout: 5 * time.Second})
	waitStatus(t, c, deploy(t, c, simpleManifest("dropped", wasm, 2)), 10*time.Second, isType(model.StatusDeployed))
	put, err := c.Put(t.Context(), []byte(simpleManifest("kept", wasm, 3)), "")
	if err != nil {
		t.Fatal(err)
	}
	w1.Stop()
	// The process died after recording the deploy of "kept" and the undeploy of "dropped" in
	// wadm_manifests, before their events were published.
	setDeployed(t, nc, "kept", &put.CurrentVersion)
	setDeployed(t, nc, "dropped", nil)
	purgeEvents(t, nc)
	_ = srv
	startWadm(t, nc, "default")
	deadline := time.Now().Add(10 * time.Second)
	for instances(t, cc, h.ID(), "kept-hello") != 3 || instances(t, cc, h.ID(), "dropped-hello") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after restart: kept %d (want 3), dropped %d (want 0)", instances(t, cc, h.ID(), "kept-hello"), instances(t, cc, h.ID(), "dropped-hello"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitStatus(t, c, "kept", 5*time.Second, isType(model.StatusDeployed))
}

// setDeployed writes an app's deployed version straight into wadm_manifests.
func setDeployed(t *testing.T, nc *nats.Conn, app string, version *string) {
	t.Helper()
	js, _ := jetstream.New(nc)
	kv, err := js.KeyValue(t.Context(), buckets.WadmManifests)
	if err != nil {
		t.Fatal(err)
	}
	key := wadm.ManifestKey("", "default", app)
	e, err := kv.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	var sm wadm.StoredManifest
	if err := json.Unmarshal(e.Value(), &sm); err != nil {
		t.Fatal(err)
	}
	sm.Deployed = version
	b, _ := json.Marshal(sm)
	if _, err := kv.Put(t.Context(), key, b); err != nil {
		t.Fatal(err)
	}
}

// purgeEvents drops every pending wadm and host event, as if they had aged out.
func purgeEvents(t *testing.T, nc *nats.Conn) {
	t.Helper()
	js, _ := jetstream.New(nc)
	for _, name := range []string{wadm.EventConsumerStream, wadm.WadmEventsStream, wadm.WasmbusEventsStream} {
		s, err := js.Stream(context.Background(), name)
		if err != nil {
			continue
		}
		if err := s.Purge(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReturningHostOrphansRemoved: a host taken for gone (heartbeats late past the expiry) keeps
// running its instances; an app undeployed meanwhile could not clean up there. When the host
// shows up again its instances of that app are removed.
func TestReturningHostOrphansRemoved(t *testing.T) {
	wasm := testComponent(t)
	_, nc := startNATS(t, "")
	startWadm(t, nc, "default") // expiry 1.2 s
	h := startHostEvery(t, nc, "default", nil, 4*time.Second)
	c := wadmclient.New(nc, wadmclient.Options{Lattice: "default", Timeout: 5 * time.Second})
	cc := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	app := deploy(t, c, simpleManifest("orphan", wasm, 2))
	waitStatus(t, c, app, 10*time.Second, isType(model.StatusDeployed))
	// The host's next heartbeat is seconds away: it expires.
	waitStatus(t, c, app, 10*time.Second, func(s *model.Status) bool { return s.Info.Type != model.StatusDeployed })
	if _, err := c.Undeploy(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	if n := instances(t, cc, h.ID(), "orphan-hello"); n != 2 {
		t.Fatalf("the expired host runs %d instances, want still 2", n)
	}
	deadline := time.Now().Add(15 * time.Second)
	for instances(t, cc, h.ID(), "orphan-hello") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the undeployed app still runs on the host that came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestStatusNamesItsVersion: a status carries the deployed version it is about (in the field
// upstream leaves empty), so `wash app deploy` of a new version never takes the old version's
// Deployed for its own.
func TestStatusNamesItsVersion(t *testing.T) {
	wasm := testComponent(t)
	_, nc := startNATS(t, "")
	startWadm(t, nc, "default")
	startHost(t, nc, "default", nil)
	c := wadmclient.New(nc, wadmclient.Options{Lattice: "default", Timeout: 5 * time.Second})
	app := deploy(t, c, simpleManifest("versioned", wasm, 1))
	st := waitStatus(t, c, app, 10*time.Second, isType(model.StatusDeployed))
	v1, err := c.Get(context.Background(), app, "")
	if err != nil || st.Version != v1.Version() {
		t.Fatalf("status version %q, deployed %q (%v)", st.Version, v1.Version(), err)
	}
	deploy(t, c, simpleManifest("versioned", wasm, 2))
	v2, _ := c.Get(context.Background(), app, "")
	waitStatus(t, c, app, 10*time.Second, func(s *model.Status) bool { return s.Version == v2.Version() && s.Info.Type == model.StatusDeployed })
	if _, err := c.Undeploy(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, app, 10*time.Second, func(s *model.Status) bool { return s.Info.Type == model.StatusUndeployed && s.Version == "" })
}
