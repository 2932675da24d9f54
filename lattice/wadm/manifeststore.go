package wadm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/nats-io/nats.go/jetstream"
)

// manifestStore reads and writes wadm_manifests with upstream's key and
// value formats (reference §5.1).
type manifestStore struct {
	kv jetstream.KeyValue
}

// get returns the stored record of an app (nil when absent) and its revision.
func (s manifestStore) get(ctx context.Context, lattice, app string) (*StoredManifest, uint64, error) {
	e, err := s.kv.Get(ctx, ManifestKey("", lattice, app))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading manifest %s: %w", app, err)
	}
	var sm StoredManifest
	if err := json.Unmarshal(e.Value(), &sm); err != nil {
		return nil, 0, fmt.Errorf("decoding stored manifest %s: %w", app, err)
	}
	return &sm, e.Revision(), nil
}

// put writes a record with compare-and-set on rev (0 = must not exist).
func (s manifestStore) put(ctx context.Context, lattice, app string, sm *StoredManifest, rev uint64) error {
	b, err := json.Marshal(sm)
	if err != nil {
		return err
	}
	key := ManifestKey("", lattice, app)
	if rev == 0 {
		_, err = s.kv.Create(ctx, key, b)
	} else {
		_, err = s.kv.Update(ctx, key, b, rev)
	}
	return err
}

// purge removes an app's record.
func (s manifestStore) purge(ctx context.Context, lattice, app string) error {
	return s.kv.Purge(ctx, ManifestKey("", lattice, app))
}

// names returns the sorted app-name set of a lattice.
func (s manifestStore) names(ctx context.Context, lattice string) ([]string, uint64, error) {
	e, err := s.kv.Get(ctx, ModelSetKey("", lattice))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading app list of lattice %s: %w", lattice, err)
	}
	var names []string
	if len(e.Value()) > 0 {
		if err := json.Unmarshal(e.Value(), &names); err != nil {
			return nil, 0, fmt.Errorf("decoding app list of lattice %s: %w", lattice, err)
		}
	}
	return names, e.Revision(), nil
}

// updateNames applies fn to the name set with CAS, retrying on conflicts.
func (s manifestStore) updateNames(ctx context.Context, lattice string, fn func([]string) []string) error {
	var lastErr error
	for range 5 {
		names, rev, err := s.names(ctx, lattice)
		if err != nil {
			return err
		}
		next := fn(append([]string(nil), names...))
		sort.Strings(next)
		next = compactSorted(next)
		b, _ := json.Marshal(next)
		if rev == 0 {
			_, err = s.kv.Create(ctx, ModelSetKey("", lattice), b)
		} else {
			_, err = s.kv.Update(ctx, ModelSetKey("", lattice), b, rev)
		}
		if err == nil {
			return nil
		}
		lastErr = err
	}
	return fmt.Errorf("updating app list of lattice %s: %w", lattice, lastErr)
}

func compactSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func (s manifestStore) addName(ctx context.Context, lattice, app string) error {
	return s.updateNames(ctx, lattice, func(n []string) []string { return append(n, app) })
}

func (s manifestStore) removeName(ctx context.Context, lattice, app string) error {
	return s.updateNames(ctx, lattice, func(n []string) []string {
		out := n[:0]
		for _, v := range n {
			if v != app {
				out = append(out, v)
			}
		}
		return out
	})
}

// storedApp is one app of a lattice listing.
type storedApp struct {
	name   string
	record *StoredManifest
}

// list returns every stored app of a lattice in name order; records missing
// behind the name set are skipped.
func (s manifestStore) list(ctx context.Context, lattice string) ([]storedApp, error) {
	names, _, err := s.names(ctx, lattice)
	if err != nil {
		return nil, err
	}
	out := make([]storedApp, 0, len(names))
	for _, n := range names {
		sm, _, err := s.get(ctx, lattice, n)
		if err != nil {
			return nil, err
		}
		if sm != nil {
			out = append(out, storedApp{name: n, record: sm})
		}
	}
	return out, nil
}
