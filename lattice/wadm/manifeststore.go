package wadm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// manifestStore reads and writes wadm_manifests with upstream's key and
// value formats (reference §5.1).
type manifestStore struct {
	kv jetstream.KeyValue
}

// KeyConflictError refuses an operation whose wadm_manifests key another
// lattice uses: upstream's keys are <lattice>-<app> and <lattice>, so lattice
// "x" app "y-z" and lattice "x-y" app "z" share "x-y-z", and lattice "x"
// app "y" shares "x-y" with lattice "x-y"'s app list. Upstream lets them
// overwrite each other; we keep its key format and refuse the crossing.
type KeyConflictError struct {
	Lattice, App string
	Key          string
	// OtherLattice and OtherApp use the key ("" app: the key is
	// OtherLattice's app list).
	OtherLattice, OtherApp string
}

func (e *KeyConflictError) Error() string {
	other := fmt.Sprintf("lattice %q app %q", e.OtherLattice, e.OtherApp)
	if e.OtherApp == "" {
		other = fmt.Sprintf("lattice %q's app list", e.OtherLattice)
	}
	what := fmt.Sprintf("lattice %q app %q", e.Lattice, e.App)
	if e.App == "" {
		what = fmt.Sprintf("lattice %q's app list", e.Lattice)
	}
	return fmt.Sprintf("%s and %s share the wadm_manifests key %q (wadm keys apps as <lattice>-<app>); refusing to cross lattices: use another app or lattice name", what, other, e.Key)
}

// get returns the stored record of an app (nil when absent) and its
// revision, or a *KeyConflictError when the key belongs to another lattice.
func (s manifestStore) get(ctx context.Context, lattice, app string) (*StoredManifest, uint64, error) {
	key := ManifestKey("", lattice, app)
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		e, err = nil, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading manifest %s: %w", app, err)
	}
	if e != nil && isJSONArray(e.Value()) {
		return nil, 0, &KeyConflictError{Lattice: lattice, App: app, Key: key, OtherLattice: key}
	}
	// Another lattice whose name is a longer prefix of the key (or a
	// shorter one) may list the app that key stands for.
	for i := range len(key) {
		if key[i] != '-' || i == len(lattice) {
			continue
		}
		other, otherApp := key[:i], key[i+1:]
		names, _, err := s.names(ctx, other)
		var kc *KeyConflictError
		if errors.As(err, &kc) {
			continue // that key is an app record, not a lattice's list
		}
		if err != nil {
			return nil, 0, err
		}
		if slices.Contains(names, otherApp) {
			return nil, 0, &KeyConflictError{Lattice: lattice, App: app, Key: key, OtherLattice: other, OtherApp: otherApp}
		}
	}
	if e == nil {
		return nil, 0, nil
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

// names returns the sorted app-name set of a lattice, or a
// *KeyConflictError when its key holds another lattice's app.
func (s manifestStore) names(ctx context.Context, lattice string) ([]string, uint64, error) {
	e, err := s.kv.Get(ctx, ModelSetKey("", lattice))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading app list of lattice %s: %w", lattice, err)
	}
	var names []string
	if len(e.Value()) > 0 && !isJSONArray(e.Value()) {
		kc := &KeyConflictError{Lattice: lattice, Key: lattice}
		// The record is some <other>-<app>; name the first split that fits.
		if i := strings.IndexByte(lattice, '-'); i > 0 {
			kc.OtherLattice, kc.OtherApp = lattice[:i], lattice[i+1:]
		}
		return nil, 0, kc
	}
	if len(e.Value()) > 0 {
		if err := json.Unmarshal(e.Value(), &names); err != nil {
			return nil, 0, fmt.Errorf("decoding app list of lattice %s: %w", lattice, err)
		}
	}
	return names, e.Revision(), nil
}

// updateNames applies fn to the name set with CAS, retrying on conflicts:
// every put of a new app in the lattice writes this one key, and twenty
// clients putting at once lost five rounds in a row. A set fn leaves as it
// is needs no write (so a write that did land before its answer was lost is
// not repeated).
func (s manifestStore) updateNames(ctx context.Context, lattice string, fn func([]string) []string) error {
	var lastErr error
	for attempt := range 40 {
		if attempt > 0 {
			// jittered, so the writers that lost a round do not meet again in the next
			select {
			case <-ctx.Done():
				return fmt.Errorf("updating app list of lattice %s: %w", lattice, lastErr)
			case <-time.After(time.Duration(1+rand.IntN(min(attempt, 10)*5)) * time.Millisecond):
			}
		}
		names, rev, err := s.names(ctx, lattice)
		var conflict *KeyConflictError
		if errors.As(err, &conflict) {
			return err
		}
		if err != nil {
			lastErr = err
			continue
		}
		next := fn(append([]string(nil), names...))
		sort.Strings(next)
		next = compactSorted(next)
		if rev != 0 && slices.Equal(next, names) {
			return nil
		}
		b, _ := json.Marshal(next)
		if rev == 0 {
			_, err = s.kv.Create(ctx, ModelSetKey("", lattice), b)
		} else {
			_, err = s.kv.Update(ctx, ModelSetKey("", lattice), b, rev)
		}
		if err == nil {
			return nil
		}
		// A conflict, or a write whose answer was lost while the stream elected a
		// leader: the next round reads what the key holds now.
		lastErr = err
	}
	return fmt.Errorf("updating app list of lattice %s: %w", lattice, lastErr)
}

func isJSONArray(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '['
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
		var kc *KeyConflictError
		if errors.As(err, &kc) {
			continue // reported when the app itself is asked for
		}
		if err != nil {
			return nil, err
		}
		if sm != nil {
			out = append(out, storedApp{name: n, record: sm})
		}
	}
	return out, nil
}
