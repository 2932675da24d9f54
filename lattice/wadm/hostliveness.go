package wadm

import (
	"context"
	"errors"
	"time"

	"github.com/wasmlattice/wash/lattice/ctl"
)

// Host liveness: heartbeats heard on the wire, probes of hosts that may be gone, the reaper
// that expires silent hosts, and refreshes of hosts whose events lag behind their heartbeats.

// heard records a heartbeat (or start) of a host seen on the wire.
func (lw *latticeWorker) heard(host string) {
	lw.heardMu.Lock()
	defer lw.heardMu.Unlock()
	if lw.lastHeard == nil {
		lw.lastHeard = map[string]time.Time{}
	}
	lw.lastHeard[host] = time.Now()
}

// heardWithin reports whether a heartbeat of host was seen on the wire within d.
func (lw *latticeWorker) heardWithin(host string, d time.Duration) bool {
	lw.heardMu.Lock()
	defer lw.heardMu.Unlock()
	at, ok := lw.lastHeard[host]
	return ok && time.Since(at) < d
}

// probeHosts runs when this process starts working on a lattice: hosts the
// state lists that have no subscription on their control subjects any more
// (no responders) are reported gone at once, so a restarted lattice does not
// wait a whole expiry period for its old host ids.
func (lw *latticeWorker) probeHosts(ctx context.Context) {
	hosts := map[string]HostRecord{}
	if _, err := lw.load(ctx, HostStateKey(lw.lattice), &hosts); err != nil {
		return
	}
	for id := range hosts {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := lw.ctl.GetHostInventory(pctx, id)
		cancel()
		if errors.Is(err, ctl.ErrNoResponders) {
			lw.publishExpired(ctx, HostExpired{HostID: id, Gone: true})
		}
	}
}

// hostsMayBeGone asks for a check of the lattice's hosts (coalesced).
func (lw *latticeWorker) hostsMayBeGone() {
	select {
	case lw.checkHosts <- struct{}{}:
	default:
	}
}

// checkHostsLoop checks the hosts each time a connection that may have been
// a host's closed: hosts of the state that no longer answer the ping and
// have no responders on their control subject are gone. It waits a moment
// first, so a host that merely reconnects is not taken for dead, and
// coalesces the closes of that moment.
func (lw *latticeWorker) checkHostsLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-lw.checkHosts:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(hostGoneGrace):
		}
		// Drain a request that came during the grace period: this check covers it.
		select {
		case <-lw.checkHosts:
		default:
		}
		hosts := map[string]HostRecord{}
		if _, err := lw.load(ctx, HostStateKey(lw.lattice), &hosts); err != nil || len(hosts) == 0 {
			continue
		}
		answering := map[string]bool{}
		live, _ := lw.ctl.PingHosts(ctx, ctl.GatherOptions{Expect: len(hosts)})
		for _, h := range live {
			answering[h.ID] = true
		}
		for id := range hosts {
			if answering[id] {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			_, err := lw.ctl.GetHostInventory(pctx, id)
			cancel()
			if errors.Is(err, ctl.ErrNoResponders) {
				lw.log.Debug("wadm: host gone", "lattice", lw.lattice, "host", id)
				lw.publishExpired(ctx, HostExpired{HostID: id, Gone: true})
			}
		}
	}
}

// reap reports hosts whose heartbeats stopped (reference §4.17); the event
// handler removes them and reconciles. A host whose heartbeats are late only
// in the event stream is refreshed from its inventory instead.
func (lw *latticeWorker) reap(ctx context.Context) {
	// Upstream ticks every expiry/2 and so notices a host up to 1.5 expiries
	// after its last heartbeat; a cheap KV read every few seconds keeps that
	// within the expiry plus the tick.
	tick := min(max(lw.w.cfg.HostExpiry/2, 100*time.Millisecond), 5*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	reported := map[string]time.Time{}
	refreshed := map[string]time.Time{}
	unfolded := lateHeartbeats{lw: lw, first: map[string]time.Time{}}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		hosts := map[string]HostRecord{}
		if _, err := lw.load(ctx, HostStateKey(lw.lattice), &hosts); err != nil {
			continue
		}
		now := time.Now()
		for id, h := range hosts {
			// Heartbeats reach the state through a stream that sources the hosts'
			// events; after a NATS node died that sourcing stopped for 40 s and more,
			// and with it the component_scaled events the scalers wait for (an app
			// stayed "Scaling component" after its instances ran). A heartbeat heard
			// on the wire that has not reached the state in hostEventLag has the
			// host's inventory sent through wadm's own events instead.
			if unfolded.late(id, h.LastSeen, now) && now.Sub(refreshed[id]) >= hostEventLag {
				refreshed[id] = now
				lw.log.Debug("wadm: host events late; refreshing from the inventory", "lattice", lw.lattice, "host", id)
				if lw.refreshHost(ctx, id) {
					continue
				}
			}
			if now.Sub(h.LastSeen) < lw.w.cfg.HostExpiry {
				continue
			}
			if at, ok := reported[id]; ok && now.Sub(at) < tick*2 {
				continue
			}
			reported[id] = now
			// A host whose heartbeats this process still sees on the wire is alive,
			// however late its events are: its inventory refreshes its record.
			if lw.heardWithin(id, lw.w.cfg.HostExpiry) && lw.refreshHost(ctx, id) {
				continue
			}
			lw.publishExpired(ctx, HostExpired{HostID: id})
		}
	}
}

// hostEventLag is how long a heartbeat heard on the wire may take to reach the
// state before reap refreshes the host from its inventory.
const hostEventLag = 5 * time.Second

// lateHeartbeats finds heartbeats heard on the wire that the state has not
// seen hostEventLag later.
type lateHeartbeats struct {
	lw *latticeWorker
	// first is, per host, the earliest heartbeat heard on the wire after what
	// the state had seen of the host when reap last looked.
	first map[string]time.Time
}

// late reports whether the heartbeat first heard after lastSeen (the state's)
// came at least hostEventLag ago.
func (l lateHeartbeats) late(host string, lastSeen, now time.Time) bool {
	l.lw.heardMu.Lock()
	at, ok := l.lw.lastHeard[host]
	l.lw.heardMu.Unlock()
	if !ok || !lastSeen.Before(at) {
		delete(l.first, host)
		return false
	}
	first, tracked := l.first[host]
	if !tracked || !lastSeen.Before(first) {
		l.first[host], first = at, at
	}
	return now.Sub(first) >= hostEventLag
}

// refreshHost sends the host's inventory to the event worker (merged, never
// forgetting what events reported: mergeInventory); false when it did not answer.
func (lw *latticeWorker) refreshHost(ctx context.Context, id string) bool {
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	inv, err := lw.ctl.GetHostInventory(pctx, id)
	cancel()
	if err != nil || inv == nil {
		return false
	}
	if inv.HostID == "" {
		inv.HostID = id
	}
	lw.publishWadmEvent(ctx, EventHostInventory, EventTypeHostInventory, inv)
	return true
}

func (lw *latticeWorker) publishExpired(ctx context.Context, d HostExpired) {
	lw.publishWadmEvent(ctx, EventHostExpired, EventTypeHostExpired, d)
}
