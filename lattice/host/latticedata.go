package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/lattice/buckets"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
)

const componentKeyPrefix = "COMPONENT_"

// watchLatticeData replays LATTICEDATA and keeps applying updates, so links put through any
// host — ours or a real wasmCloud host — are seen.
func (h *Host) watchLatticeData(ctx context.Context) error {
	w, err := h.replayAndWatch(ctx, h.latticeData, buckets.LatticeData(h.cfg.Lattice), h.applyLatticeEntry)
	h.watcher = w
	return err
}

// replayAndWatch applies every current value of a bucket (the watch delivers them, then a nil
// marker) before returning, then keeps applying updates in the background until the watcher
// stops.
func (h *Host) replayAndWatch(ctx context.Context, kv jetstream.KeyValue, bucket string, apply func(jetstream.KeyValueEntry)) (jetstream.KeyWatcher, error) {
	w, err := kv.WatchAll(context.Background())
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", bucket, err)
	}
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for replaying := true; replaying; {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("watching %s: watcher closed", bucket)
			}
			if e == nil {
				replaying = false
				continue
			}
			apply(e)
		case <-timeout.C:
			_ = w.Stop()
			return nil, fmt.Errorf("replaying %s timed out", bucket)
		case <-ctx.Done():
			_ = w.Stop()
			return nil, ctx.Err()
		}
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for e := range w.Updates() {
			if e != nil {
				apply(e)
			}
		}
	}()
	return w, nil
}

func (h *Host) applyLatticeEntry(e jetstream.KeyValueEntry) {
	key := e.Key()
	deleted := e.Operation() != jetstream.KeyValuePut
	switch {
	case strings.HasPrefix(key, componentKeyPrefix):
		if deleted {
			return // upstream only logs a warning
		}
		var spec ctl.ComponentSpecification
		if err := json.Unmarshal(e.Value(), &spec); err != nil {
			h.log.Warn("ignoring malformed component spec", "key", key, "err", err)
			return
		}
		id := strings.TrimPrefix(key, componentKeyPrefix)
		links := make([]ctl.Link, 0, len(spec.Links))
		for _, l := range spec.Links {
			links = append(links, l.Normalized())
		}
		h.setLinks(id, links, e.Revision())
	case strings.HasPrefix(key, ctl.ClaimsKeyPrefix):
		h.applyClaimsEntry(strings.TrimPrefix(key, ctl.ClaimsKeyPrefix), e.Value(), deleted)
	}
}

func (h *Host) allLinks() []ctl.Link {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := []ctl.Link{}
	for _, ls := range h.links {
		out = append(out, ls...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].SourceID < out[j].SourceID })
	return out
}

func (h *Host) loadSpec(ctx context.Context, id string) (ctl.ComponentSpecification, uint64, error) {
	e, err := h.latticeData.Get(ctx, componentKeyPrefix+id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return ctl.ComponentSpecification{}, 0, nil
	}
	if err != nil {
		return ctl.ComponentSpecification{}, 0, err
	}
	var spec ctl.ComponentSpecification
	if err := json.Unmarshal(e.Value(), &spec); err != nil {
		return ctl.ComponentSpecification{}, e.Revision(), fmt.Errorf("malformed spec %s: %w", e.Key(), err)
	}
	return spec, e.Revision(), nil
}

// errSpecUnchanged tells updateSpec that the edit changed nothing, so nothing is written.
var errSpecUnchanged = errors.New("spec unchanged")

// updateSpec applies edit to COMPONENT_<id> with compare-and-set on the KV revision, retrying
// when another host wrote the spec in between (link puts for one source can land on different
// hosts, since link.* is a queue group). It returns the links as stored and their revision.
func (h *Host) updateSpec(ctx context.Context, id string, edit func(*ctl.ComponentSpecification) error) ([]ctl.Link, uint64, error) {
	for attempt := 0; ; attempt++ {
		spec, rev, err := h.loadSpec(ctx, id)
		if err != nil {
			return nil, 0, err
		}
		if err := edit(&spec); err != nil {
			return nil, 0, err
		}
		b, err := json.Marshal(spec)
		if err != nil {
			return nil, 0, err
		}
		var newRev uint64
		if rev == 0 {
			newRev, err = h.latticeData.Create(ctx, componentKeyPrefix+id, b)
		} else {
			newRev, err = h.latticeData.Update(ctx, componentKeyPrefix+id, b, rev)
		}
		if err == nil {
			return normalizedLinks(spec.Links), newRev, nil
		}
		if attempt >= 100 || !casConflict(err) {
			return nil, 0, err
		}
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond) // de-synchronise contending hosts
	}
}

// casConflict reports a compare-and-set loss: someone else wrote the key first.
func casConflict(err error) bool {
	var api *jetstream.APIError
	if errors.As(err, &api) {
		return api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
	}
	return errors.Is(err, jetstream.ErrKeyExists)
}

// ensureSpec writes COMPONENT_<id> with url=ref if it is missing (component or provider start).
func (h *Host) ensureSpec(ctx context.Context, id, ref string) error {
	err := retryTransient(ctx, func() error {
		_, err := h.latticeData.Create(ctx, componentKeyPrefix+id, mustJSON(ctl.ComponentSpecification{URL: ref}))
		return err
	})
	if err == nil || errors.Is(err, jetstream.ErrKeyExists) {
		return nil
	}
	return err
}

// transientRetryFor bounds how long a component or provider start retries a lattice data
// write that failed for a passing reason.
const transientRetryFor = 20 * time.Second

// retryTransient runs op until it succeeds, fails for a lasting reason, ctx ends or
// transientRetryFor has passed. A replicated bucket does not answer while its stream elects
// a leader (a NATS node died): seconds in which a start failing for good made wadm start
// the component again once it was back.
func retryTransient(ctx context.Context, op func() error) error {
	deadline := time.Now().Add(transientRetryFor)
	delay := 100 * time.Millisecond
	for {
		err := op()
		if err == nil || !transientNATSError(err) || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// transientNATSError reports errors of a JetStream request that no server answered in
// time: the request may succeed when made again.
func transientNATSError(err error) bool {
	return errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse)
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func (h *Host) configExists(ctx context.Context, name string) bool {
	_, err := h.configData.Get(ctx, name)
	return err == nil
}

func (h *Host) handlePutLink(ctx context.Context, data []byte) ctl.Response {
	var l ctl.Link
	if err := decode(data, &l); err != nil {
		return ctl.Fail("failed to deserialize link definition")
	}
	l = l.Normalized()
	l.SourceID, l.Target, l.Name = trimmed(l.SourceID), trimmed(l.Target), trimmed(l.Name)
	fail := func(msg string) ctl.Response {
		h.publish(events.LinkdefSetFailed, events.LinkdefSetFailedData{Link: l, Error: msg})
		return ctl.Fail(msg)
	}
	if l.SourceID == "" || l.Target == "" || l.Name == "" || l.WitNamespace == "" || l.WitPackage == "" {
		return fail("link requires a source_id, target, name, wit_namespace and wit_package")
	}
	var missing strings.Builder
	for _, name := range slices.Concat(l.SourceConfig, l.TargetConfig) {
		if h.configExists(ctx, name) {
			continue
		}
		if strings.HasPrefix(name, "SECRET_") {
			fmt.Fprintf(&missing, "Secret reference %s not found in config store. ", name)
		} else {
			fmt.Fprintf(&missing, "Configuration %s not found in config store. ", name)
		}
	}
	if missing.Len() > 0 {
		return fail("Failed to validate configuration and secrets. " + missing.String())
	}
	unlock := h.idLocks.lock("spec:" + l.SourceID)
	defer unlock()
	errConflict := errors.New("link already exists with different target, consider deleting the existing link or using a different link name")
	links, rev, err := h.updateSpec(ctx, l.SourceID, func(spec *ctl.ComponentSpecification) error {
		for _, existing := range spec.Links {
			if sameLinkSlot(existing, l) && existing.Target != l.Target && sharesInterface(existing.Interfaces, l.Interfaces) {
				return errConflict
			}
		}
		for i, existing := range spec.Links {
			if sameLinkSlot(existing, l) && existing.Target == l.Target {
				spec.Links[i] = l
				return nil
			}
		}
		spec.Links = append(spec.Links, l)
		return nil
	})
	if errors.Is(err, errConflict) {
		return fail(err.Error())
	}
	if err != nil {
		return fail(fmt.Sprintf("failed to store link: %v", err))
	}
	h.setLinks(l.SourceID, links, rev)
	h.publish(events.LinkdefSet, l)
	return ctl.Success("successfully set link")
}

// sameLinkSlot compares the link identity without the target: source, namespace, package, name.
func sameLinkSlot(a, b ctl.Link) bool {
	return a.SourceID == b.SourceID && a.WitNamespace == b.WitNamespace && a.WitPackage == b.WitPackage && a.Name == b.Name
}

func sharesInterface(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func (h *Host) handleDeleteLink(ctx context.Context, data []byte) ctl.Response {
	var req ctl.DeleteLinkRequest
	if err := decode(data, &req); err != nil || req.SourceID == "" || req.WitNamespace == "" || req.WitPackage == "" {
		return ctl.Fail("failed to deserialize delete link request")
	}
	if req.Name == "" {
		req.Name = "default"
	}
	unlock := h.idLocks.lock("spec:" + req.SourceID)
	defer unlock()
	if _, rev, err := h.loadSpec(ctx, req.SourceID); err == nil && rev == 0 {
		return ctl.Success("successfully deleted link (spec doesn't exist)")
	}
	evt := events.LinkdefDeletedData{SourceID: req.SourceID, Name: req.Name, WitNamespace: req.WitNamespace, WitPackage: req.WitPackage}
	slot := ctl.Link{SourceID: req.SourceID, WitNamespace: req.WitNamespace, WitPackage: req.WitPackage, Name: req.Name}
	links, rev, err := h.updateSpec(ctx, req.SourceID, func(spec *ctl.ComponentSpecification) error {
		evt.Target, evt.Interfaces, evt.Removed = "", nil, false // a retry starts from the spec as stored now
		for i, l := range spec.Links {
			if sameLinkSlot(l, slot) {
				spec.Links = slices.Delete(spec.Links, i, i+1)
				evt.Target, evt.Interfaces, evt.Removed = l.Target, l.Interfaces, true
				if evt.Interfaces == nil {
					evt.Interfaces = []string{}
				}
				return nil
			}
		}
		return errSpecUnchanged
	})
	switch {
	case errors.Is(err, errSpecUnchanged):
	case err != nil:
		return ctl.Fail(fmt.Sprintf("failed to store link deletion: %v", err))
	default:
		h.publishLinkDelete(ctl.Link{SourceID: req.SourceID, Target: evt.Target, Name: req.Name,
			WitNamespace: req.WitNamespace, WitPackage: req.WitPackage, Interfaces: evt.Interfaces})
		h.setLinks(req.SourceID, links, rev)
	}
	h.publish(events.LinkdefDeleted, evt)
	return ctl.Success("successfully deleted link")
}

func (h *Host) handlePutConfig(ctx context.Context, name string, data []byte) ctl.Response {
	var values map[string]string
	if err := json.Unmarshal(data, &values); err != nil || values == nil {
		return ctl.Fail("config data should be a map of string -> string")
	}
	// Upstream stores the raw request bytes.
	if _, err := h.configData.Put(ctx, name, data); err != nil {
		return ctl.Fail(fmt.Sprintf("failed to store config %s: %v", name, err))
	}
	h.mu.Lock()
	h.setConfigLocked(name, values)
	h.mu.Unlock()
	h.publish(events.ConfigSet, events.ConfigData{ConfigName: name})
	return ctl.Success("successfully put config")
}

func (h *Host) handleGetConfig(ctx context.Context, name string) ctl.Response {
	e, err := h.configData.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return ctl.Success("Configuration not found")
	}
	if err != nil {
		return ctl.Fail(fmt.Sprintf("failed to load config %s: %v", name, err))
	}
	var values map[string]string
	if err := json.Unmarshal(e.Value(), &values); err != nil {
		return ctl.Fail(fmt.Sprintf("stored config %s is not a string map", name))
	}
	return ctl.OK(values)
}

func (h *Host) handleDeleteConfig(ctx context.Context, name string) ctl.Response {
	if err := h.configData.Purge(ctx, name); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return ctl.Fail(fmt.Sprintf("failed to delete config %s: %v", name, err))
	}
	h.mu.Lock()
	delete(h.configs, name)
	h.mu.Unlock()
	h.publish(events.ConfigDeleted, events.ConfigData{ConfigName: name})
	return ctl.Success("successfully deleted config")
}

// resolveConfig merges named config in list order (later names win).
func (h *Host) resolveConfig(ctx context.Context, names []string) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range withoutSecrets(names) { // secrets come from fetchSecrets
		e, err := h.configData.Get(ctx, name)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, fmt.Errorf("configuration %s not found in config store", name)
		}
		if err != nil {
			return nil, fmt.Errorf("loading config %s: %w", name, err)
		}
		var values map[string]string
		if err := json.Unmarshal(e.Value(), &values); err != nil {
			return nil, fmt.Errorf("config %s is not a string map", name)
		}
		for k, v := range values {
			out[k] = v
		}
	}
	return out, nil
}

func normalizedLinks(ls []ctl.Link) []ctl.Link {
	out := make([]ctl.Link, 0, len(ls))
	for _, l := range ls {
		out = append(out, l.Normalized())
	}
	return out
}
