package wadm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/lattice/buckets"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// stateKeyPrefixes are the wadm_state keys of a lattice: upstream's and ours.
var stateKeyPrefixes = []string{"host_", "component_", "provider_", "apps_", "expected_"}

// PurgeLattice deletes what wadm keeps for one lattice in the default
// buckets and streams: its app list and the manifests it lists, its state
// documents, statuses, pending events, commands and notifications, and its
// durable consumers. The buckets and streams stay, with every other
// lattice's data (upstream's `wash down --purge-jetstream wadm` deletes them
// for all lattices). Missing buckets and streams are skipped.
func PurgeLattice(ctx context.Context, js jetstream.JetStream, lattice string) error {
	if kv, err := js.KeyValue(ctx, buckets.WadmManifests); err == nil {
		store := manifestStore{kv}
		names, _, err := store.names(ctx, lattice)
		var kc *KeyConflictError
		if err != nil && !errors.As(err, &kc) {
			return err
		}
		for _, app := range names {
			if _, _, err := store.get(ctx, lattice, app); errors.As(err, &kc) {
				continue // another lattice's record
			}
			if err := purgeKey(ctx, kv, ManifestKey("", lattice, app)); err != nil {
				return err
			}
		}
		if kc == nil {
			if err := purgeKey(ctx, kv, ModelSetKey("", lattice)); err != nil {
				return err
			}
		}
	} else if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return fmt.Errorf("opening KV bucket %s: %w", buckets.WadmManifests, err)
	}
	if kv, err := js.KeyValue(ctx, buckets.WadmState); err == nil {
		for _, p := range stateKeyPrefixes {
			if err := purgeKey(ctx, kv, p+lattice); err != nil {
				return err
			}
		}
	} else if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return fmt.Errorf("opening KV bucket %s: %w", buckets.WadmState, err)
	}
	for stream, subject := range map[string]string{
		StatusStream:        model.StatusSubjectPrefix + "." + lattice + ".*",
		WadmEventsStream:    EventSubject(lattice, ">"),
		WasmbusEventsStream: "wasmbus.evt." + lattice + ".>",
		EventConsumerStream: EventConsumerSubject(lattice),
		CommandsStream:      CommandSubject(lattice),
		NotifyStream:        NotifySubject(lattice),
	} {
		s, err := js.Stream(ctx, stream)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("opening stream %s: %w", stream, err)
		}
		if err := s.Purge(ctx, jetstream.WithPurgeSubject(subject)); err != nil {
			return fmt.Errorf("purging %s from stream %s: %w", subject, stream, err)
		}
	}
	for stream, consumer := range map[string]string{
		EventConsumerStream: eventConsumerPrefix + "-" + lattice,
		CommandsStream:      commandConsumerPrefix + "-" + lattice,
	} {
		if err := js.DeleteConsumer(ctx, stream, consumer); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("deleting consumer %s: %w", consumer, err)
		}
	}
	return nil
}

func purgeKey(ctx context.Context, kv jetstream.KeyValue, key string) error {
	if _, err := kv.Get(ctx, key); errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err := kv.Purge(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("purging %s: %w", key, err)
	}
	return nil
}

// StoredLattices lists the lattices wadm keeps data for in the default
// buckets: those with an app list or state documents.
func StoredLattices(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	var out []string
	add := func(l string) {
		if l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	if kv, err := js.KeyValue(ctx, buckets.WadmManifests); err == nil {
		keys, err := kv.ListKeys(ctx)
		if err != nil {
			return nil, err
		}
		for key := range keys.Keys() {
			if e, err := kv.Get(ctx, key); err == nil && isJSONArray(e.Value()) {
				add(key)
			}
		}
	}
	if kv, err := js.KeyValue(ctx, buckets.WadmState); err == nil {
		keys, err := kv.ListKeys(ctx)
		if err != nil {
			return nil, err
		}
		for key := range keys.Keys() {
			for _, p := range stateKeyPrefixes {
				if l, ok := strings.CutPrefix(key, p); ok {
					add(l)
					break
				}
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
