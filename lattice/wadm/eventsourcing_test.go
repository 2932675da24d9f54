package wadm

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/lattice/buckets"
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
