package wadm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// Catching up with the stored truth: hosts discovered when a worker starts, stored deploys
// re-announced, and the periodic check that applies a deploy or undeploy whose event is stuck.

// catchUp runs when this process starts working on a lattice: what happened
// while no wadm listened (hosts started, a process died between storing a
// deploy and announcing it, hosts died) is brought into the shared state
// through the event stream, so the serial event worker folds it in.
func (lw *latticeWorker) catchUp(ctx context.Context) {
	lw.discoverHosts(ctx)
	lw.probeHosts(ctx)
	lw.syncManifests(ctx)
}

// discoverHosts reports the inventory of every host answering host.ping:
// its next heartbeat may be 30 s away.
func (lw *latticeWorker) discoverHosts(ctx context.Context) {
	hosts, err := lw.ctl.PingHosts(ctx, ctl.GatherOptions{})
	if err != nil {
		return
	}
	for _, h := range hosts {
		inv, err := lw.ctl.GetHostInventory(ctx, h.ID)
		if err != nil || inv == nil {
			continue
		}
		if inv.HostID == "" {
			inv.HostID = h.ID
		}
		lw.publishWadmEvent(ctx, EventHostInventory, EventTypeHostInventory, inv)
	}
}

// syncManifests announces again the deploys and undeploys recorded in
// wadm_manifests that the active manifests do not reflect (their event was
// lost, e.g. the process died between storing and publishing). Upstream
// builds its scalers from the stored deployed versions when a worker starts
// for the same reason.
func (lw *latticeWorker) syncManifests(ctx context.Context) {
	drift, err := lw.manifestDrift(ctx)
	if err != nil {
		return
	}
	for _, d := range drift {
		lw.publishEvent(ctx, d.key, d.event)
	}
}

// drifted is an app whose deploy or undeploy, recorded in wadm_manifests, the
// active manifests in wadm_state do not reflect yet, with the event that
// announces it.
type drifted struct {
	app, key string
	// want is the canonical deployed manifest ("" for an undeploy): the same
	// drift seen twice is the same want.
	want  string
	event CloudEvent
}

// manifestDrift compares wadm_manifests with the active manifests.
func (lw *latticeWorker) manifestDrift(ctx context.Context) ([]drifted, error) {
	apps := map[string]json.RawMessage{}
	if _, err := lw.load(ctx, appsStateKey(lw.lattice), &apps); err != nil {
		return nil, err
	}
	stored, err := manifestStore{lw.w.objs.manifests}.list(ctx, lw.lattice)
	if err != nil {
		return nil, err
	}
	var out []drifted
	deployed := map[string]bool{}
	for _, a := range stored {
		m := a.record.DeployedManifest()
		if m == nil {
			continue
		}
		deployed[a.name] = true
		raw, err := m.MarshalCanonical()
		if err != nil || bytes.Equal(raw, apps[a.name]) {
			continue
		}
		if ev, err := NewManifestPublishedEvent(uuid.NewString(), time.Now(), m); err == nil {
			out = append(out, drifted{app: a.name, key: EventManifestPublished, want: string(raw), event: ev})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(apps)) {
		if deployed[name] {
			continue
		}
		if ev, err := NewManifestUnpublishedEvent(uuid.NewString(), time.Now(), name); err == nil {
			out = append(out, drifted{app: name, key: EventManifestUnpublished, event: ev})
		}
	}
	return out, nil
}

// driftMark is what a drift check reads, in two requests: the last sequence of wadm_manifests
// (any deploy, undeploy, put or delete moves it) and the revision of the lattice's
// active-manifests document. While both are as they were at a check that found no drift there is
// none, and the check skips reading every app's record again.
type driftMark struct{ manifestsSeq, appsRev uint64 }

func (lw *latticeWorker) driftMark(ctx context.Context) (driftMark, error) {
	st, err := lw.w.objs.manifests.Status(ctx)
	if err != nil {
		return driftMark{}, err
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return driftMark{}, errors.New("wadm_manifests status without stream info")
	}
	e, err := lw.kv.Get(ctx, appsStateKey(lw.lattice))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return driftMark{manifestsSeq: bs.StreamInfo().State.LastSeq}, nil
	}
	if err != nil {
		return driftMark{}, err
	}
	return driftMark{manifestsSeq: bs.StreamInfo().State.LastSeq, appsRev: e.Revision()}, nil
}

// driftCheckEvery is how often a running worker compares wadm_manifests with
// the active manifests (see applyDrift).
const driftCheckEvery = 5 * time.Second

// driftLoop applies, in this process, a deploy or undeploy that the active
// manifests have not reflected at two checks in a row. Its event waits in
// wadm_events for the source that copies wadm_events into the work queue, and
// after a NATS node died nats-server took 40 s and more to set that source up
// again (its consumer lived on the dead node; a setup request sent while
// wadm_events had no leader waits 30 s for an answer, then backs off): the
// deploys of CI's TestClusterFailover stayed undeployed meanwhile, and
// announcing them again would only queue behind the same source.
func (lw *latticeWorker) driftLoop(ctx context.Context) {
	t := time.NewTicker(driftCheckEvery)
	defer t.Stop()
	var before map[string]string // app -> want, at the previous check
	var quiet driftMark          // the stores at the last check that found no drift
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		mark, markErr := lw.driftMark(ctx)
		if markErr == nil && len(before) == 0 && mark == quiet {
			continue
		}
		drift, err := lw.manifestDrift(ctx)
		if err != nil {
			continue
		}
		quiet = driftMark{}
		if markErr == nil && len(drift) == 0 {
			quiet = mark
		}
		now := map[string]string{}
		for _, d := range drift {
			now[d.app] = d.want
			if want, ok := before[d.app]; ok && want == d.want {
				lw.applyDrift(ctx, d)
			}
		}
		before = now
	}
}

// applyDrift handles a drifted app's event here rather than through the
// event stream. The event, when it comes, changes nothing more: the same
// manifest is already active, and its scalers wait for what the commands
// sent here cause (or check the hosts first once that wait ran out).
func (lw *latticeWorker) applyDrift(ctx context.Context, d drifted) {
	b, err := model.Marshal(d.event)
	if err != nil {
		return
	}
	ev, err := events.Parse(b)
	if err != nil {
		return
	}
	if !lw.w.acquire(ctx) {
		return
	}
	defer lw.w.release()
	lw.log.Warn("wadm: applying a deploy or undeploy whose event has not come through the event stream in time", "lattice", lw.lattice, "app", d.app, "event", d.key)
	if err := lw.processRetrying(ctx, ev); err != nil && !isBenign(err) {
		lw.log.Warn("wadm: applying a deploy or undeploy failed; the next check tries again", "lattice", lw.lattice, "app", d.app, "err", err)
	}
}
