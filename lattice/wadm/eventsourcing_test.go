package wadm

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/lattice/buckets"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// TestDeployEventSurvivesSourceRestart reproduces the lost deploy of CI's TestClusterFailover
// (one app "undeployed" for good after a NATS node died): the deploy's manifest_published was
// acked into wadm_events, but the source that copies wadm_events into the wadm_event_consumer
// work queue had not copied anything yet when the work queue's leader moved. The new leader
// has no recorded position for that source, and nats-server then starts it at the time of
// the work queue's last message when the work queue's first sequence is above 1, i.e. once
// a wadm acked (removed) host events that the other source brought meanwhile: every
// wadm_events message older than that heartbeat was skipped, never reached a worker, and
// re-announcing through the same source was skipped too. (nats-server v2.15.2
// stream.go trySetupSourceConsumer; the stored manifests and wadm_events kept the deploy.)
//
// Here the source is taken away and added back (the same setup path a new leader or a retry
// after a failed setup takes), with host events handled in between.
func TestDeployEventSurvivesSourceRestart(t *testing.T) {
	_, nc := testnats.Connected(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	objs, err := ensureJetStream(ctx, js, jsLayout{storage: jetstream.MemoryStorage, replicas: 1,
		manifestBucket: buckets.WadmManifests, stateBucket: buckets.WadmState})
	if err != nil {
		t.Fatal(err)
	}
	const lattice = "srcrestart"
	cons, err := js.CreateConsumer(ctx, EventConsumerStream, jetstream.ConsumerConfig{
		Durable: "worker", FilterSubject: EventConsumerSubject(lattice), AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	// next returns the data of the next event the worker gets (nil when none comes within wait), acked.
	next := func(wait time.Duration) []byte {
		t.Helper()
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(wait))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
			return m.Data()
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			t.Fatal(err)
		}
		return nil
	}
	heartbeat := func(body string) {
		t.Helper()
		if err := nc.Publish("wasmbus.evt."+lattice+".host_heartbeat", []byte(body)); err != nil {
			t.Fatal(err)
		}
		if got := next(5 * time.Second); string(got) != body {
			t.Fatalf("worker got %q, want the host event %q", got, body)
		}
	}
	heartbeat("hb-1")

	full := objs.events.CachedInfo().Config
	withoutWadm := full
	withoutWadm.Sources = nil
	for _, s := range full.Sources {
		if s.Name != WadmEventsStream {
			withoutWadm.Sources = append(withoutWadm.Sources, s)
		}
	}
	if _, err := js.UpdateStream(ctx, withoutWadm); err != nil {
		t.Fatal(err)
	}
	// The deploy is acked into wadm_events while its source is down; host events go on.
	if _, err := js.Publish(ctx, EventSubject(lattice, EventManifestPublished), []byte("deploy")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the next host event is stamped after the deploy
	heartbeat("hb-2")

	if _, err := js.UpdateStream(ctx, full); err != nil {
		t.Fatal(err)
	}
	if got := next(5 * time.Second); string(got) != "deploy" {
		t.Fatalf("after the wadm_events source restarted the worker got %q, want the deploy published while it was down", got)
	}
	// And the source runs on.
	if _, err := js.Publish(ctx, EventSubject(lattice, EventManifestUnpublished), []byte("undeploy")); err != nil {
		t.Fatal(err)
	}
	if got := next(5 * time.Second); string(got) != "undeploy" {
		t.Fatalf("worker got %q, want the undeploy", got)
	}
}

// withoutSource returns the event consumer stream's config without the named source.
func withoutSource(cfg jetstream.StreamConfig, name string) jetstream.StreamConfig {
	out := cfg
	out.Sources = nil
	for _, s := range cfg.Sources {
		if s.Name != name {
			out.Sources = append(out.Sources, s)
		}
	}
	return out
}

// stallCase is a wadm with one host on its own lattice, a wadm client and a count of the
// component.scale requests sent, for the tests that take a source of the event queue away.
type stallCase struct {
	w      *Wadm
	host   *host.Host
	client *wadmclient.Client
	scales atomic.Int32
	ctx    context.Context
	// full is the event consumer stream's config as wadm created it.
	full jetstream.StreamConfig
}

func startStallCase(t *testing.T, lattice string, hostExpiry time.Duration) *stallCase {
	t.Helper()
	srv, nc := testnats.Connected(t)
	w, err := Run(context.Background(), nc, Config{Lattices: []string{lattice}, HostExpiry: hostExpiry})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	c := &stallCase{w: w, ctx: ctx, full: w.objs.events.CachedInfo().Config,
		client: wadmclient.New(nc, wadmclient.Options{Lattice: lattice, Timeout: 5 * time.Second})}
	if _, err := nc.Subscribe(ctl.DefaultTopicPrefix+".v1."+lattice+".component.scale.>", func(*nats.Msg) { c.scales.Add(1) }); err != nil {
		t.Fatal(err)
	}
	c.host = testlattice.StartHostOn(t, srv.Connect(t), host.Config{Lattice: lattice, HeartbeatInterval: 500 * time.Millisecond})
	within(t, "the worker knows the host", 10*time.Second, func() bool {
		e, err := w.objs.state.Get(ctx, HostStateKey(lattice))
		return err == nil && strings.Contains(string(e.Value()), c.host.ID())
	})
	return c
}

func within(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
	}
}

// stop takes the named source away from the event queue; restart puts it back.
func (c *stallCase) stop(t *testing.T, source string) {
	t.Helper()
	if _, err := c.w.js.UpdateStream(c.ctx, withoutSource(c.full, source)); err != nil {
		t.Fatal(err)
	}
}

func (c *stallCase) restart(t *testing.T) {
	t.Helper()
	if _, err := c.w.js.UpdateStream(c.ctx, c.full); err != nil {
		t.Fatal(err)
	}
}

// deploy puts and deploys app "demo": the hello component, two instances.
func (c *stallCase) deploy(t *testing.T) {
	t.Helper()
	wasm, err := filepath.Abs("../../examples/hello-http/hello.component.wasm")
	if err != nil {
		t.Fatal(err)
	}
	manifest := strings.Replace(stepApp, "file:///hello.wasm", "file://"+wasm, 1)
	manifest = strings.Replace(manifest, "instances: 4", "instances: 2", 1)
	put, err := c.client.Put(c.ctx, []byte(manifest), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.client.Deploy(c.ctx, put.Name, put.CurrentVersion); err != nil {
		t.Fatal(err)
	}
}

func (c *stallCase) deployed() bool {
	st, err := c.client.Status(c.ctx, "demo")
	return err == nil && st.Info.Type == model.StatusDeployed
}

// TestStalledDeployEventApplied: after a NATS node died, nats-server took 40 s and more to
// set the wadm_events source of the work queue up again (TestClusterFailover's other lost
// deploy). A deploy stored meanwhile is applied by the worker that sees wadm_manifests and the
// active manifests disagree at two checks in a row: the app reaches Deployed with the source
// still gone, and once the source is back its late event scales nothing a second time.
func TestStalledDeployEventApplied(t *testing.T) {
	const lattice = "stalled"
	c := startStallCase(t, lattice, 30*time.Second)
	c.stop(t, WadmEventsStream)
	c.deploy(t)
	within(t, "deployed with the wadm_events source gone", 3*driftCheckEvery, c.deployed)
	if n := c.scales.Load(); n != 1 {
		t.Fatalf("%d component.scale requests, want 1", n)
	}

	// The source comes back; the deploy's own event reaches the worker, late.
	evCons, err := c.w.js.Consumer(c.ctx, EventConsumerStream, eventConsumerPrefix+"-"+lattice)
	if err != nil {
		t.Fatal(err)
	}
	c.restart(t)
	within(t, "the late deploy event handled", 10*time.Second, func() bool {
		info, err := c.w.objs.events.Info(c.ctx)
		if err != nil {
			return false
		}
		for _, si := range info.Sources {
			if si.Name == WadmEventsStream && si.Active >= 0 && info.State.Msgs == 0 {
				ci, err := evCons.Info(c.ctx)
				return err == nil && ci.NumPending == 0 && ci.NumAckPending == 0 && ci.Delivered.Stream >= info.State.LastSeq
			}
		}
		return false
	})
	time.Sleep(time.Second) // a command the late event planned would be carried out by now
	if n := c.scales.Load(); n != 1 || !c.deployed() {
		t.Fatalf("after the late deploy event: %d component.scale requests (want 1), deployed %v", n, c.deployed())
	}
}

// TestStalledHostEventsRefreshed: with the wasmbus_events source gone (the other half of
// TestClusterFailover's stalls) the host's component_scaled never reaches the worker, and the
// app waited as "Scaling component" until its host expired from the state. The reaper hears
// the host's heartbeats on the wire, finds them late in the state and sends its inventory
// through wadm's own events: the app is Deployed long before the expiry, scaled once.
func TestStalledHostEventsRefreshed(t *testing.T) {
	c := startStallCase(t, "latehost", 2*time.Minute)
	c.stop(t, WasmbusEventsStream)
	c.deploy(t)
	within(t, "deployed with the wasmbus_events source gone", 30*time.Second, c.deployed)
	if n := c.scales.Load(); n != 1 {
		t.Fatalf("%d component.scale requests, want 1", n)
	}
}
