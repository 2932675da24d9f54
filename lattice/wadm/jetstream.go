package wadm

import (
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/wasmlattice/wash/lattice/buckets"

	"github.com/nats-io/nats.go/jetstream"
)

// Subjects only wadm processes use among themselves: the API queue group,
// commands and scaler notifications (reference §2.6).
const (
	ServerQueueGroup    = "wadm_server"
	CommandSubjectPfx   = "wadm.cmd"
	NotifySubjectPrefix = "wadm.notify"
)

// JetStream object names, as upstream wadm 0.21 names them (reference
// §4.18; upstream crates/wadm/src/lib.rs:54-88).
const (
	// WadmEventsStream and WasmbusEventsStream capture wadm's and the hosts'
	// events (limits retention); both are sourced into EventConsumerStream.
	WadmEventsStream    = "wadm_events"
	WasmbusEventsStream = "wasmbus_events"
	EventConsumerStream = "wadm_event_consumer"
	CommandsStream      = "wadm_commands"
	StatusStream        = "wadm_status"
	NotifyStream        = "wadm_notify"

	eventConsumerPrefix   = "wadm_event_consumer"
	commandConsumerPrefix = "wadm_commands"
	// streamMaxAge bounds pending events and commands like upstream (70 s).
	streamMaxAge = 70 * time.Second

	wadmEventsSubjects    = model.EventSubjectPrefix + ".*.>"
	wasmbusEventsSubjects = "wasmbus.evt.*.>"
	// eventConsumerTransform is where the sources land: the lattice id keeps
	// its place, wadm.evt.<L>.x and wasmbus.evt.<L>.x both become
	// wadm_event_consumer.evt.<L>.x.
	eventConsumerTransform = EventConsumerStream + ".evt.{{wildcard(1)}}.>"
)

// EventConsumerSubject is the filter of the event worker of a lattice:
// wadm_event_consumer.evt.<lattice>.>.
func EventConsumerSubject(lattice string) string {
	return EventConsumerStream + ".evt." + lattice + ".>"
}

// NotifySubject is wadm.notify.<lattice>.
func NotifySubject(lattice string) string { return NotifySubjectPrefix + "." + lattice }

// CommandSubject is wadm.cmd.<lattice>.
func CommandSubject(lattice string) string { return CommandSubjectPfx + "." + lattice }

// jsObjects are the buckets and streams a wadm process uses.
type jsObjects struct {
	manifests jetstream.KeyValue
	state     jetstream.KeyValue
	status    jetstream.Stream
	events    jetstream.Stream
	commands  jetstream.Stream
}

// jsLayout says how missing streams and buckets are created.
type jsLayout struct {
	storage jetstream.StorageType
	// replicas is the replica count of what wadm creates; 0 means as many
	// as the cluster allows, at most 3.
	replicas       int
	manifestBucket string
	stateBucket    string
}

// ensureJetStream creates what is missing and uses what exists as it is
// (an operator, or a real wadm, may have created the buckets and streams
// beforehand with more replicas or other storage; wadm never downgrades
// them). Like upstream, the event capture streams are recreated when their
// subjects differ; other streams only get their subjects updated.
func ensureJetStream(ctx context.Context, js jetstream.JetStream, l jsLayout) (*jsObjects, error) {
	var o jsObjects
	var err error
	if o.manifests, err = openOrCreateKV(ctx, js, l.manifestBucket, l.storage, l.replicas); err != nil {
		return nil, err
	}
	if o.state, err = openOrCreateKV(ctx, js, l.stateBucket, l.storage, l.replicas); err != nil {
		return nil, err
	}
	storage, replicas := l.storage, l.replicas
	// Legacy streams of old wadm versions are removed, as upstream does.
	for _, legacy := range []string{"wadm_mirror", "wadm_multitenant_mirror"} {
		_ = js.DeleteStream(ctx, legacy)
	}
	// Earlier wash versions captured both event subjects directly in a
	// work-queue wadm_event_consumer; its subjects would overlap the capture
	// streams below (and a real wadm would keep it as it is), so it goes.
	if st, err := js.Stream(ctx, EventConsumerStream); err == nil && len(st.CachedInfo().Config.Subjects) > 0 {
		if err := js.DeleteStream(ctx, EventConsumerStream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, fmt.Errorf("removing the old %s stream: %w", EventConsumerStream, err)
		}
	}
	// Upstream's layout: two limits streams capture the events and a
	// work-queue stream sources both with a subject transform, so several
	// wadm processes (ours or upstream's) share one durable consumer per
	// lattice (upstream crates/wadm/src/nats.rs:206-314).
	var sources []*jetstream.StreamSource
	for _, capture := range []struct{ name, subject, prefix string }{
		{WasmbusEventsStream, wasmbusEventsSubjects, "wasmbus.evt"},
		{WadmEventsStream, wadmEventsSubjects, "wadm.evt"},
	} {
		src, err := ensureCaptureStream(ctx, js, jetstream.StreamConfig{
			Name: capture.name, Description: "A stream that stores all events coming in on the " + capture.prefix + " subject in a cluster",
			Subjects: []string{capture.subject}, Retention: jetstream.LimitsPolicy, MaxAge: streamMaxAge, Storage: storage,
		}, replicas)
		if err != nil {
			return nil, err
		}
		cfg := src.CachedInfo().Config
		// OptStartSeq 1: a source with no recorded position (nothing copied yet when the
		// work queue's leader moved, or its first setup failed) starts at the first retained
		// message. Without it nats-server starts such a source at the time of the work
		// queue's last message once wadm removed some: the deploys still waiting in
		// wadm_events were skipped for good (TestDeployEventSurvivesSourceRestart). A
		// source with a recorded position resumes after it either way.
		ss := &jetstream.StreamSource{Name: cfg.Name, OptStartSeq: 1}
		for _, subj := range cfg.Subjects {
			ss.SubjectTransforms = append(ss.SubjectTransforms, jetstream.SubjectTransformConfig{Source: subj, Destination: eventConsumerTransform})
		}
		sources = append(sources, ss)
	}
	if o.events, err = ensureStream(ctx, js, jetstream.StreamConfig{
		Name: EventConsumerStream, Description: "A stream that sources from wadm_events and wasmbus_events for wadm event consumer's use",
		Retention: jetstream.WorkQueuePolicy, MaxAge: streamMaxAge, Sources: sources, Storage: storage,
	}, replicas); err != nil {
		return nil, err
	}
	waitSourcesActive(ctx, o.events, 5*time.Second)
	if o.commands, err = ensureStream(ctx, js, jetstream.StreamConfig{
		Name: CommandsStream, Subjects: []string{CommandSubjectPfx + ".*"}, Retention: jetstream.WorkQueuePolicy,
		MaxAge: streamMaxAge, Storage: storage,
	}, replicas); err != nil {
		return nil, err
	}
	if o.status, err = ensureStream(ctx, js, jetstream.StreamConfig{
		Name: StatusStream, Subjects: []string{model.StatusSubjectPrefix + ".*.*"}, Retention: jetstream.LimitsPolicy,
		MaxMsgsPerSubject: 10, AllowDirect: true, Storage: storage,
	}, replicas); err != nil {
		return nil, err
	}
	if _, err = ensureStream(ctx, js, jetstream.StreamConfig{
		Name: NotifyStream, Subjects: []string{NotifySubjectPrefix + ".*"}, Retention: jetstream.InterestPolicy,
		MaxAge: streamMaxAge, Storage: storage,
	}, replicas); err != nil {
		return nil, err
	}
	return &o, nil
}

// waitSourcesActive waits until the server has started every source of a
// new stream. Measured on nats-server 2.15: messages sourced into a
// work-queue stream in the first ~150 ms after it was created, before its
// sources are active, are partly lost (3 of 6 in a test); once every source
// reports activity none are.
func waitSourcesActive(ctx context.Context, s jetstream.Stream, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		info, err := s.Info(ctx)
		if err == nil {
			active := true
			for _, si := range info.Sources {
				if si.Active < 0 {
					active = false
				}
			}
			if active {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func openOrCreateKV(ctx context.Context, js jetstream.JetStream, bucket string, storage jetstream.StorageType, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("opening KV bucket %s: %w", bucket, err)
	}
	err = buckets.WithReplicas(replicas, func(r int) error {
		var cerr error
		kv, cerr = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, History: 1, Storage: storage, Replicas: r})
		return cerr
	})
	if errors.Is(err, jetstream.ErrBucketExists) {
		return js.KeyValue(ctx, bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("creating KV bucket %s: %w", bucket, err)
	}
	return kv, nil
}

// ensureCaptureStream is ensureStream for the event capture streams, which
// upstream recreates when their subjects differ (nats.rs:228-239).
func ensureCaptureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, replicas int) (jetstream.Stream, error) {
	if s, err := js.Stream(ctx, cfg.Name); err == nil && !slices.Equal(s.CachedInfo().Config.Subjects, cfg.Subjects) {
		if err := js.DeleteStream(ctx, cfg.Name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, fmt.Errorf("recreating stream %s: %w", cfg.Name, err)
		}
	}
	return ensureStream(ctx, js, cfg, replicas)
}

// ensureStream returns the stream, creating it when missing. An existing
// stream is kept, except that missing subjects are added.
func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, replicas int) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, cfg.Name)
	if err == nil {
		have := s.CachedInfo().Config
		if len(cfg.Subjects) > 0 && !slices.Equal(have.Subjects, cfg.Subjects) {
			have.Subjects = cfg.Subjects
			if s2, uerr := js.UpdateStream(ctx, have); uerr == nil {
				return s2, nil
			}
		}
		return s, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("opening stream %s: %w", cfg.Name, err)
	}
	err = buckets.WithReplicas(replicas, func(r int) error {
		cfg.Replicas = r
		var cerr error
		s, cerr = js.CreateStream(ctx, cfg)
		return cerr
	})
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return js.Stream(ctx, cfg.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("creating stream %s: %w", cfg.Name, err)
	}
	return s, nil
}
