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

// JetStream object names (reference §4.18).
const (
	EventConsumerStream = "wadm_event_consumer"
	CommandsStream      = "wadm_commands"
	StatusStream        = "wadm_status"
	NotifyStream        = "wadm_notify"

	eventConsumerPrefix   = "wadm_event_consumer"
	commandConsumerPrefix = "wadm_commands"
	// streamMaxAge bounds pending events and commands like upstream (70 s).
	streamMaxAge = 70 * time.Second
)

// EventConsumerSubjects are the subjects the event worker of a lattice
// reads: wadm.evt.<lattice>.> and wasmbus.evt.<lattice>.>.
func EventConsumerSubjects(lattice string) []string {
	return []string{model.EventSubjectPrefix + "." + lattice + ".>", "wasmbus.evt." + lattice + ".>"}
}

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
// (an operator may have created the buckets and streams beforehand with
// more replicas or other storage; wadm never recreates or downgrades
// them). A stream whose subjects differ from upstream's only gets its
// subjects updated (upstream recreates wadm_events in that case).
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
	// One work-queue stream captures wadm's and the hosts' events directly.
	// Upstream sources two capture streams into it with subject transforms;
	// sourcing could stall for seconds after start-up (the server re-checks a
	// stalled source every 10 s), which a deploy must not wait for.
	if o.events, err = ensureStream(ctx, js, jetstream.StreamConfig{
		Name: EventConsumerStream, Subjects: []string{model.EventSubjectPrefix + ".*.>", "wasmbus.evt.*.>"},
		Retention: jetstream.WorkQueuePolicy, MaxAge: streamMaxAge, Storage: storage,
	}, replicas); err != nil {
		return nil, err
	}
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
