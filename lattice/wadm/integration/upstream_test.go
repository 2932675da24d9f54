package integration_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/wadm"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// What a real wadm 0.21.1 creates, copied as data from its source (wasmCloud/wadm, tag v0.21.1,
// crates/wadm/src). Byte limits are its defaults (-1, config.rs:186-265); storage is its default
// file storage (config.rs:209); every stream and bucket has one replica.
const upstreamMaxAge = 70 * time.Second // lib.rs:54 DEFAULT_EXPIRY_TIME

// upstreamBuckets: lib.rs:144-161 via nats.rs:371-394 (history 1).
var upstreamBuckets = []string{"wadm_state", "wadm_manifests"}

// upstreamStream is one stream with the rule upstream uses when it already exists.
type upstreamStream struct {
	cfg jetstream.StreamConfig
	// keep reports whether upstream keeps an existing stream (else it deletes and recreates it).
	keep func(have jetstream.StreamConfig) bool
}

func sameSubjects(want []string) func(jetstream.StreamConfig) bool {
	return func(have jetstream.StreamConfig) bool { return slices.Equal(have.Subjects, want) }
}

// upstreamStreams in the order lib.rs:177-268 ensures them.
var upstreamStreams = []upstreamStream{
	// lib.rs:179-189 → nats.rs:206-245 ensure_limits_stream (kept when the subjects are equal).
	{cfg: jetstream.StreamConfig{Name: "wadm_events", Description: "A stream that stores all events coming in on the wadm.evt subject in a cluster",
		Replicas: 1, Retention: jetstream.LimitsPolicy, Subjects: []string{"wadm.evt.*.>"}, MaxAge: upstreamMaxAge, MaxBytes: -1, Storage: jetstream.FileStorage},
		keep: sameSubjects([]string{"wadm.evt.*.>"})},
	// lib.rs:193-201 → nats.rs:165-204 ensure_stream (work queue, kept when the subjects are equal).
	{cfg: jetstream.StreamConfig{Name: "wadm_commands", Description: "A stream that stores all commands for wadm",
		Replicas: 1, Retention: jetstream.WorkQueuePolicy, Subjects: []string{"wadm.cmd.*"}, MaxAge: upstreamMaxAge, MaxBytes: -1, Storage: jetstream.FileStorage},
		keep: sameSubjects([]string{"wadm.cmd.*"})},
	// lib.rs:203-209 → nats.rs:316-342 ensure_status_stream (get_or_create: any existing one is kept).
	{cfg: jetstream.StreamConfig{Name: "wadm_status", Description: "A stream that stores all status updates for wadm applications",
		Replicas: 1, AllowDirect: true, Retention: jetstream.LimitsPolicy, MaxMsgsPerSubject: 10, Subjects: []string{"wadm.status.*.*"}, MaxBytes: -1, Storage: jetstream.FileStorage},
		keep: func(jetstream.StreamConfig) bool { return true }},
	// lib.rs:228-240 → ensure_limits_stream.
	{cfg: jetstream.StreamConfig{Name: "wasmbus_events", Description: "A stream that stores all events coming in on the wasmbus.evt subject in a cluster",
		Replicas: 1, Retention: jetstream.LimitsPolicy, Subjects: []string{"wasmbus.evt.*.>"}, MaxAge: upstreamMaxAge, MaxBytes: -1, Storage: jetstream.FileStorage},
		keep: sameSubjects([]string{"wasmbus.evt.*.>"})},
	// lib.rs:244-251 → nats.rs:345-367 ensure_notify_stream (get_or_create).
	{cfg: jetstream.StreamConfig{Name: "wadm_notify", Description: "A stream for capturing all notification events for wadm",
		Replicas: 1, Retention: jetstream.InterestPolicy, Subjects: []string{"wadm.notify.*"}, MaxAge: upstreamMaxAge, MaxBytes: -1, Storage: jetstream.FileStorage},
		keep: func(jetstream.StreamConfig) bool { return true }},
	// lib.rs:255-267 → nats.rs:247-314 ensure_event_consumer_stream: sources the two event streams
	// (wasmbus_events first) with each one's subjects transformed to
	// wadm_event_consumer.evt.{{wildcard(1)}}.>; kept when its retention is a work queue.
	{cfg: jetstream.StreamConfig{Name: "wadm_event_consumer", Description: "A stream that sources from wadm_events and wasmbus_events for wadm event consumer's use",
		Replicas: 1, Retention: jetstream.WorkQueuePolicy, MaxAge: upstreamMaxAge, MaxBytes: -1, Storage: jetstream.FileStorage,
		Sources: []*jetstream.StreamSource{
			{Name: "wasmbus_events", SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "wasmbus.evt.*.>", Destination: "wadm_event_consumer.evt.{{wildcard(1)}}.>"}}},
			{Name: "wadm_events", SubjectTransforms: []jetstream.SubjectTransformConfig{{Source: "wadm.evt.*.>", Destination: "wadm_event_consumer.evt.{{wildcard(1)}}.>"}}},
		}},
		keep: func(have jetstream.StreamConfig) bool { return have.Retention == jetstream.WorkQueuePolicy }},
}

// upstreamConsumers are the durable consumers wadm creates for lattice l (get_or_create: an
// existing one is used as it is): consumers/events.rs:46-77 and consumers/commands.rs:46-77,
// ack wait DEFAULT_ACK_TIME 2 s (consumers/mod.rs:17), filters from observer.rs:60-61.
func upstreamConsumers(l string) map[string]jetstream.ConsumerConfig {
	meta := map[string]string{"lattice": l}
	return map[string]jetstream.ConsumerConfig{
		"wadm_event_consumer": {Durable: "wadm_event_consumer-" + l, Name: "wadm_event_consumer-" + l, Description: "Durable wadm events consumer for lattice " + l,
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: 2 * time.Second, MaxDeliver: 3, DeliverPolicy: jetstream.DeliverAllPolicy,
			FilterSubject: "wadm_event_consumer.evt." + l + ".>", Metadata: meta},
		"wadm_commands": {Durable: "wadm_commands-" + l, Name: "wadm_commands-" + l, Description: "Durable wadm commands consumer for lattice " + l,
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: 2 * time.Second, MaxDeliver: 3, DeliverPolicy: jetstream.DeliverAllPolicy,
			FilterSubject: "wadm.cmd." + l, Metadata: meta},
	}
}

// startUpstream does what a wadm 0.21.1 process does to JetStream at start for lattice l, and
// returns the names of streams it had to delete (a sign the layouts disagree) and the ephemeral
// notify consumer its scaler manager reads (scaler/manager.rs:146-161).
func startUpstream(t *testing.T, js jetstream.JetStream, l string) (recreated []string, notify jetstream.Consumer) {
	t.Helper()
	ctx := context.Background()
	for _, b := range upstreamBuckets {
		if _, err := js.KeyValue(ctx, b); errors.Is(err, jetstream.ErrBucketNotFound) {
			if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: b, History: 1, Replicas: 1, Storage: jetstream.FileStorage, MaxBytes: -1}); err != nil {
				t.Fatalf("creating bucket %s: %v", b, err)
			}
		}
	}
	for _, s := range upstreamStreams {
		if have, err := js.Stream(ctx, s.cfg.Name); err == nil {
			if s.keep(have.CachedInfo().Config) {
				continue
			}
			recreated = append(recreated, s.cfg.Name)
			if err := js.DeleteStream(ctx, s.cfg.Name); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := js.CreateStream(ctx, s.cfg); err != nil {
			t.Fatalf("creating stream %s as upstream does: %v", s.cfg.Name, err) // e.g. err_code=10065 subjects overlap
		}
	}
	for stream, cfg := range upstreamConsumers(l) {
		if _, err := js.Consumer(ctx, stream, cfg.Durable); errors.Is(err, jetstream.ErrConsumerNotFound) {
			if _, err := js.CreateConsumer(ctx, stream, cfg); err != nil {
				t.Fatalf("creating consumer %s: %v", cfg.Durable, err)
			}
		}
	}
	notify, err := js.CreateConsumer(ctx, "wadm_notify", jetstream.ConsumerConfig{
		Description: "Ephemeral wadm notifier consumer for lattice " + l, AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: 2 * time.Second, MaxDeliver: 3, DeliverPolicy: jetstream.DeliverAllPolicy, FilterSubject: "wadm.notify." + l,
	})
	if err != nil {
		t.Fatal(err)
	}
	return recreated, notify
}

// peerNotifications reads what a wadm peer receives on its notify consumer.
func peerNotifications(t *testing.T, c jetstream.Consumer) <-chan wadm.Notification {
	t.Helper()
	ch := make(chan wadm.Notification, 256)
	cc, err := c.Consume(func(m jetstream.Msg) {
		var n wadm.Notification
		if err := json.Unmarshal(m.Data(), &n); err != nil {
			t.Errorf("peer cannot read notification %s: %v", m.Data(), err)
		}
		_ = m.Ack()
		ch <- n
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cc.Stop)
	return ch
}

// TestSharesJetStreamWithUpstreamWadm (#17.1): our wadm and a real wadm 0.21 share one NATS in
// either start order: neither makes the other recreate its streams or fail, ours works with
// upstream's consumers, a peer speaking upstream's notify protocol sees our deploys and the
// expectations of our commands, ours adopts a deploy a peer announced, and stopping ours leaves
// upstream's consumers in place.
func TestSharesJetStreamWithUpstreamWadm(t *testing.T) {
	for _, order := range []string{"upstream first", "ours first"} {
		t.Run(order, func(t *testing.T) {
			wasm := testComponent(t)
			_, nc := startNATS(t, "")
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			var notify jetstream.Consumer
			var w *wadm.Wadm
			startOurs := func() {
				w, err = wadm.Run(context.Background(), nc, wadm.Config{Lattices: []string{"default"}, HostExpiry: time.Minute, Logger: testLogger()})
				if err != nil {
					t.Fatalf("our wadm: %v", err)
				}
				t.Cleanup(w.Stop)
			}
			if order == "upstream first" {
				_, notify = startUpstream(t, js, "default")
				startOurs()
			} else {
				startOurs()
				var recreated []string
				recreated, notify = startUpstream(t, js, "default")
				if len(recreated) > 0 {
					t.Fatalf("upstream would delete and recreate %v", recreated)
				}
			}
			// Whoever came second, the objects are upstream's.
			for _, s := range upstreamStreams {
				st, err := js.Stream(context.Background(), s.cfg.Name)
				if err != nil {
					t.Fatal(err)
				}
				have := st.CachedInfo().Config
				if !slices.Equal(have.Subjects, s.cfg.Subjects) || have.Retention != s.cfg.Retention || len(have.Sources) != len(s.cfg.Sources) {
					t.Errorf("stream %s: subjects %v retention %v sources %d, want upstream's", s.cfg.Name, have.Subjects, have.Retention, len(have.Sources))
				}
			}
			for stream, cfg := range upstreamConsumers("default") {
				c, err := js.Consumer(context.Background(), stream, cfg.Durable)
				if err != nil || c.CachedInfo().Config.FilterSubject != cfg.FilterSubject {
					t.Fatalf("consumer %s: %v", cfg.Durable, err)
				}
			}
			peer := peerNotifications(t, notify)

			host := startHost(t, nc, "default", nil)
			c := wadmclient.New(nc, wadmclient.Options{Lattice: "default", Timeout: 5 * time.Second})
			cc := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
			app := deploy(t, c, simpleManifest("shared", wasm, 3))
			waitStatus(t, c, app, 10*time.Second, isType(model.StatusDeployed))
			if n := instances(t, cc, host.ID(), "shared-hello"); n != 3 {
				t.Fatalf("%d instances, want 3", n)
			}
			var created, registered bool
			deadline := time.After(5 * time.Second)
			for !created || !registered {
				select {
				case n := <-peer:
					created = created || (n.CreateScalers != nil && n.CreateScalers.Metadata.Name == "shared")
					registered = registered || (n.RegisterExpectedEvents != nil && n.RegisterExpectedEvents.Name == "shared")
				case <-deadline:
					t.Fatalf("peer saw CreateScalers %v, RegisterExpectedEvents %v", created, registered)
				}
			}

			// A peer handled the next deploy: it stored it and announced it on wadm.notify only.
			put, err := c.Put(context.Background(), []byte(simpleManifest("shared", wasm, 5)), "")
			if err != nil {
				t.Fatal(err)
			}
			setDeployed(t, nc, "shared", &put.CurrentVersion)
			stored, err := c.Get(context.Background(), "shared", put.CurrentVersion)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(wadm.Notification{CreateScalers: stored})
			if _, err := js.Publish(context.Background(), "wadm.notify.default", b); err != nil {
				t.Fatal(err)
			}
			// The peer sends the commands itself; ours must not undo them. The next event that
			// runs every app's scalers (a host joining) shows which version ours now holds.
			time.Sleep(300 * time.Millisecond)
			startHost(t, nc, "default", map[string]string{"joined": "later"})
			deadline2 := time.Now().Add(10 * time.Second)
			for instances(t, cc, host.ID(), "shared-hello") != 5 {
				if time.Now().After(deadline2) {
					t.Fatalf("the peer's deploy of 5 instances was not adopted: %d running", instances(t, cc, host.ID(), "shared-hello"))
				}
				time.Sleep(100 * time.Millisecond)
			}

			// Ours stops; upstream's durable consumers stay for it.
			w.Stop()
			for stream, cfg := range upstreamConsumers("default") {
				if _, err := js.Consumer(context.Background(), stream, cfg.Durable); err != nil {
					t.Errorf("consumer %s gone after our wadm stopped: %v", cfg.Durable, err)
				}
			}
		})
	}
}

// TestOldLayoutReplaced: a JetStream store written by an earlier wash (one work-queue
// wadm_event_consumer capturing both event subjects) is moved to upstream's layout at start, and
// deploys work right after.
func TestOldLayoutReplaced(t *testing.T) {
	_, nc := startNATS(t, "")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "wadm_event_consumer", Subjects: []string{"wadm.evt.*.>", "wasmbus.evt.*.>"},
		Retention: jetstream.WorkQueuePolicy, MaxAge: upstreamMaxAge}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateConsumer(ctx, "wadm_event_consumer", jetstream.ConsumerConfig{Durable: "wadm_event_consumer-default",
		FilterSubjects: []string{"wadm.evt.default.>", "wasmbus.evt.default.>"}, AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	startWadm(t, nc, "default")
	st, err := js.Stream(ctx, "wadm_event_consumer")
	if err != nil {
		t.Fatal(err)
	}
	if cfg := st.CachedInfo().Config; len(cfg.Subjects) != 0 || len(cfg.Sources) != 2 {
		t.Fatalf("wadm_event_consumer kept the old layout: subjects %v, %d sources", cfg.Subjects, len(cfg.Sources))
	}
	startHost(t, nc, "default", nil)
	c := wadmclient.New(nc, wadmclient.Options{Lattice: "default", Timeout: 5 * time.Second})
	waitStatus(t, c, deploy(t, c, simpleManifest("after-move", testComponent(t), 1)), 10*time.Second, isType(model.StatusDeployed))
}
