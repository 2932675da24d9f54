package wadm

import (
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// LatticeState is not enough for a step: the scalers also read the current
// links and the configs they own, which live on the hosts. LatticeReads
// supplies them (and whether commands wait in the queue) on demand, so a
// step that touches no app asks nothing.
type LatticeReads interface {
	// Links returns the lattice's links (control interface link.get).
	Links() []Link
	// Configs returns the named configs that exist, by name.
	Configs(names []string) map[string]map[string]string
	// CommandsQueued reports whether commands of the lattice wait to be
	// carried out.
	CommandsQueued() bool
}

// WorkerState is everything a lattice's event worker keeps between events
// (in KV wadm_state, so every wadm process sharing the lattice sees it):
// upstream's observed records plus the active manifests and the pending
// expected events of their scalers.
type WorkerState struct {
	Hosts      map[string]HostRecord
	Components map[string]ComponentRecord
	Providers  map[string]ProviderRecord
	// Apps maps app name to the canonical JSON of its deployed manifest.
	Apps map[string]json.RawMessage
	// Expected maps scaler id to what its last commands should cause.
	Expected map[string]*expectation
}

// NewWorkerState returns an empty state.
func NewWorkerState() *WorkerState {
	s := &WorkerState{}
	s.fill()
	return s
}

// fill replaces nil maps (absent KV documents) with empty ones.
func (s *WorkerState) fill() {
	if s.Hosts == nil {
		s.Hosts = map[string]HostRecord{}
	}
	if s.Components == nil {
		s.Components = map[string]ComponentRecord{}
	}
	if s.Providers == nil {
		s.Providers = map[string]ProviderRecord{}
	}
	if s.Apps == nil {
		s.Apps = map[string]json.RawMessage{}
	}
	if s.Expected == nil {
		s.Expected = map[string]*expectation{}
	}
}

func (s *WorkerState) observed() *observed {
	return &observed{hosts: s.Hosts, components: s.Components, providers: s.Providers}
}

// StepResult is what one event leads to: commands to publish (in order) and
// the statuses of the apps it concerned.
type StepResult struct {
	Commands []Command
	Statuses map[string]model.Status
	// Orphans would stop what wadm started on a host that came back for
	// apps no longer active; the shell sends those whose app wadm_manifests
	// confirms is not deployed.
	Orphans []Command
	// Notifications go to wadm.notify.<lattice> before the commands, for a
	// real wadm sharing the lattice (see Notification).
	Notifications []Notification
	// Route lists the apps whose scalers ran.
	Route []string
	// Recheck marks (by index into Commands) the commands a scaler re-planned
	// after waiting in vain for what its previous commands should cause: the
	// events may only be late (a NATS node died and the stream sourcing host
	// events recovers slowly), so the command worker first asks the host
	// whether it already runs what the command asks for.
	Recheck map[int]bool
}

// reconciler holds the decisions of a lattice's event worker: Step is a pure
// function of the previous state, the event, the time and the lattice reads;
// the only thing kept across calls is a cache of scalers built from
// manifests, which depends on nothing else.
type reconciler struct {
	hostExpiry time.Duration
	log        *slog.Logger
	cache      map[string]*appScalers
}

type appScalers struct {
	raw     string
	version string
	scalers []Scaler
}

func newReconciler(hostExpiry time.Duration, log *slog.Logger) *reconciler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &reconciler{hostExpiry: hostExpiry, log: log, cache: map[string]*appScalers{}}
}

// scalersFor returns (cached) scalers of an app's active manifest.
func (r *reconciler) scalersFor(app string, raw json.RawMessage) []Scaler {
	if len(raw) == 0 {
		return nil
	}
	if c := r.cache[app]; c != nil && c.raw == string(raw) {
		return c.scalers
	}
	m, err := model.ParseStoredManifestJSON(raw)
	if err != nil {
		r.log.Warn("wadm: active manifest unreadable", "app", app, "err", err)
		return nil
	}
	sc := BuildScalers(m)
	r.cache[app] = &appScalers{raw: string(raw), version: m.Version(), scalers: sc}
	return sc
}

// Step folds ev into st (in place) and runs the scalers of the apps the
// event concerns: it updates the observed records, the active manifests and
// the expected events, and returns the commands and statuses that follow.
func (r *reconciler) Step(st *WorkerState, ev events.Event, now time.Time, reads LatticeReads) StepResult {
	st.fill()
	obs := st.observed()
	apps, exp := st.Apps, st.Expected

	var notes []Notification
	var returning string // a host the state did not list before this event
	var deleted *string  // the app a manifest_unpublished removed
	// triggering is the event peers replay to register our scalers'
	// expectations (nil: they reconcile, as upstream asks after a deploy).
	var triggering json.RawMessage
	if ev.Type != EventTypeManifestPublished {
		triggering = notifiableEvent(ev)
	}
	var route []string                  // nil: every active app
	var cleanup []Scaler                // scalers whose cleanup commands run in this pass
	var upgradeFrom, upgradeTo []Scaler // set when a new version replaces cleanup's scalers
	override := map[string]model.Status{}
	switch ev.Type {
	case EventTypeManifestPublished:
		we := CloudEvent{Type: ev.Type, Data: ev.Data}
		man, err := we.PublishedManifest()
		if err != nil {
			r.log.Warn("wadm: skipping malformed manifest_published event", "err", err)
			return StepResult{}
		}
		name := man.Metadata.Name
		raw, err := man.MarshalCanonical()
		if err != nil {
			return StepResult{}
		}
		upgradeFrom = r.scalersFor(name, apps[name])
		apps[name] = raw
		upgradeTo = r.scalersFor(name, raw)
		cleanup = OutdatedScalers(upgradeFrom, upgradeTo)
		route = []string{name}
		notes = append(notes, Notification{CreateScalers: man})
	case EventTypeManifestUnpublished:
		we := CloudEvent{Type: ev.Type, Data: ev.Data}
		name, err := we.UnpublishedName()
		if err != nil {
			return StepResult{}
		}
		cleanup = r.scalersFor(name, apps[name])
		delete(apps, name)
		delete(r.cache, name)
		override[name] = model.UndeployedStatus
		route = []string{name}
		deleted = &name
	case EventTypeHostExpired:
		var d HostExpired
		if json.Unmarshal(ev.Data, &d) != nil {
			return StepResult{}
		}
		obs.expire(d, now, r.hostExpiry)
	case events.TypePrefix + events.HostHeartbeat, EventTypeHostInventory:
		host := ev.Source
		discovered := ev.Type == EventTypeHostInventory
		if discovered {
			// Same data as a heartbeat, sent by wadm about the host.
			var inv ctl.HostInventory
			if json.Unmarshal(ev.Data, &inv) != nil || inv.HostID == "" {
				return StepResult{}
			}
			host = inv.HostID
			ev.Source, ev.Type = host, events.TypePrefix+events.HostHeartbeat
		}
		before := obs.fingerprint(host)
		_, known := st.Hosts[host]
		if discovered {
			// Asked by a wadm process (at start, when the host's heartbeats seemed to
			// stop, or when a re-planned command found its work done): see mergeInventory.
			obs.mergeInventory(ev, now)
		} else {
			obs.apply(ev, now, r.hostExpiry)
			if !known {
				returning = host
			}
		}
		if obs.fingerprint(host) == before {
			// Nothing but last_seen changed: only scalers whose wait or
			// failure backoff ran out need this tick.
			route = []string{}
			for _, e := range exp {
				if _, ok := apps[e.App]; ok && (e.idle(now) || (e.FailMsg != "" && !now.Before(e.FailedUntil))) && !slices.Contains(route, e.App) {
					route = append(route, e.App)
				}
			}
		}
	default:
		if _, known := st.Hosts[ev.Source]; !known && ev.Type == events.TypePrefix+events.HostStarted {
			returning = ev.Source
		}
		obs.apply(ev, now, r.hostExpiry)
		if app := eventApp(ev); app != "" {
			if _, ok := apps[app]; ok {
				route = []string{app}
			}
		}
	}
	// A host that is gone will not answer the commands sent to it: waiting for
	// that (up to a minute for a provider) held its scalers back after a crash.
	if gone := removedHost(ev, st); gone != "" {
		for _, e := range exp {
			e.forgetHost(gone)
		}
	}
	if route == nil {
		for name := range apps {
			route = append(route, name)
		}
	}
	sort.Strings(route)
	for _, sc := range cleanup {
		delete(exp, sc.ID())
	}

	// The snapshot: links and the configs the scalers own, asked from the
	// lattice only when some scaler runs.
	var need []Scaler
	for _, app := range route {
		need = append(need, r.scalersFor(app, apps[app])...)
	}
	need = append(need, cleanup...)
	var links []Link
	var configs map[string]map[string]string
	if len(need) > 0 {
		links = reads.Links()
		configs = reads.Configs(ownedConfigNames(need))
	}
	snap := obs.snapshot(links, configs)

	// An expectation that timed out while commands of the lattice still wait
	// to be carried out (a process died holding them, or a consumer leader
	// moved) keeps holding its scaler back: re-issuing now would send the
	// same command twice once the queue moves again.
	queueChecked, queueBusy := false, false
	commandsQueued := func() bool {
		if !queueChecked {
			queueChecked = true
			queueBusy = reads.CommandsQueued()
		}
		return queueBusy
	}
	res := StepResult{Statuses: map[string]model.Status{}, Route: route, Notifications: notes}
	for _, app := range route {
		if st, ok := override[app]; ok {
			res.Statuses[app] = st
			continue
		}
		scalers := r.scalersFor(app, apps[app])
		if scalers == nil {
			continue
		}
		ss := make([]model.ScalerStatus, 0, len(scalers))
		for _, sc := range scalers {
			c, st := sc.Reconcile(snap)
			e := exp[sc.ID()]
			run, replan := true, false
			if e != nil {
				// The event may complete the expectation; then the scaler runs in this same pass
				// rather than waiting for the next heartbeat, so a host that appeared while it
				// waited is used at once.
				if e.consume(ev, now) && triggering != nil {
					res.Notifications = append(res.Notifications, Notification{RemoveExpectedEvent: &RemoveExpectedEvent{Name: app, ScalerID: sc.ID(), Event: triggering}})
				}
				if !e.idle(now) || (len(e.Events) > 0 && commandsQueued()) {
					run = false
				} else {
					replan = len(e.Events) > 0
					delete(exp, sc.ID())
					e = nil
				}
			}
			if run && len(c) > 0 {
				if replan {
					if res.Recheck == nil {
						res.Recheck = map[int]bool{}
					}
					for i := range c {
						res.Recheck[len(res.Commands)+i] = true
					}
				}
				exp[sc.ID()] = newExpectation(app, c, now)
				res.Commands = append(res.Commands, c...)
				res.Notifications = append(res.Notifications, Notification{RegisterExpectedEvents: &RegisterExpectedEvents{Name: app, ScalerID: sc.ID(), TriggeringEvent: triggering}})
			}
			if e != nil && now.Before(e.FailedUntil) {
				st = model.Failed(e.FailMsg)
			}
			if e != nil && len(e.Events) > 0 && st.Type == model.StatusDeployed && sc.Kind() == model.KindLinkScaler {
				// The link is readable as soon as the host stored it, which can be before
				// wadm folds an earlier-queued event; a wash host reports a built-in
				// provider's failure to apply the link before its linkdef_set, so the link
				// counts once that event came.
				st = model.Reconciling("Waiting for linkdef_set")
			}
			ss = append(ss, model.ScalerStatus{ID: sc.ID(), Kind: sc.Kind(), Name: sc.Name(), Status: st})
		}
		status := model.NewStatus(ss)
		// The deprecated version field (upstream always sends "") names the
		// version the status is about, so a client waiting for a deploy can
		// tell the new version's statuses from the old one's.
		if c := r.cache[app]; c != nil {
			status.Version = c.version
		}
		res.Statuses[app] = status
	}
	// Outdated scalers clean up after the new ones started (reference §4.15).
	if upgradeTo != nil {
		res.Commands = append(res.Commands, UpgradeCleanup(upgradeFrom, upgradeTo, snap)...)
	} else {
		res.Commands = append(res.Commands, CleanupAll(cleanup, snap)...)
	}
	if deleted != nil {
		res.Notifications = append(res.Notifications, Notification{DeleteScalers: deleted})
	}
	if returning != "" {

		res.Orphans = orphans(snap, returning, apps)
	}
	// Forget expectations of apps that are gone and ones long expired.
	for id, e := range exp {
		if _, ok := apps[e.App]; !ok || (e.idle(now) && !now.Before(e.Deadline.Add(time.Minute))) {
			delete(exp, id)
		}
	}
	return res
}

// orphans removes what wadm started on a host for apps that are no longer
// deployed. A host that was taken for gone (its heartbeats stopped, or it
// was cut off) and comes back still runs what it ran; an app undeployed
// meanwhile had no cleanup for it, and no scaler would ever stop it.
func orphans(s *LatticeState, host string, apps map[string]json.RawMessage) []Command {
	h := s.Hosts[host]
	if h == nil {
		return nil
	}
	orphaned := func(ann map[string]string) (string, bool) {
		app := ann[model.AppSpecAnnotation]
		_, active := apps[app]
		return app, ann[model.ManagedByAnnotation] == model.ManagedByWadm && app != "" && !active
	}
	var out []Command
	for _, id := range slices.Sorted(maps.Keys(h.Components)) {
		cs := h.Components[id]
		for _, in := range cs.Instances {
			if app, ok := orphaned(in.Annotations); ok {
				out = append(out, ScaleComponent{ComponentID: id, HostID: host, Count: 0, Reference: cs.Ref, ModelName: app,
					Annotations: SpreadAnnotations(in.Annotations[model.SpreadNameAnnotation], in.Annotations[model.ScalerAnnotation])})
				break
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(h.Providers)) {
		if app, ok := orphaned(h.Providers[id].Annotations); ok {
			out = append(out, StopProvider{ProviderID: id, HostID: host, ModelName: app, Annotations: map[string]string{}})
		}
	}
	return out
}

// removedHost returns the host a host_stopped or host_expired event removed
// from the state ("" otherwise).
func removedHost(ev events.Event, st *WorkerState) string {
	var id string
	switch ev.Type {
	case events.TypePrefix + events.HostStopped:
		id = ev.Source
	case EventTypeHostExpired:
		var d HostExpired
		if json.Unmarshal(ev.Data, &d) == nil {
			id = d.HostID
		}
	}
	if _, still := st.Hosts[id]; id == "" || still {
		return ""
	}
	return id
}

// ownedConfigNames lists the configs with data the scalers write, once each.
func ownedConfigNames(scalers []Scaler) []string {
	var out []string
	seen := map[string]bool{}
	for _, sc := range scalers {
		for _, c := range ownedConfigs(sc) {
			if c.data != nil && !seen[c.name] {
				seen[c.name] = true
				out = append(out, c.name)
			}
		}
	}
	return out
}

func ownedConfigs(sc Scaler) []ownedConfig {
	switch s := sc.(type) {
	case *ComponentSpreadScaler:
		return s.configs
	case *ComponentDaemonScaler:
		return s.configs
	case *ProviderSpreadScaler:
		return s.configs
	case *ProviderDaemonScaler:
		return s.configs
	case *LinkScaler:
		return s.configs
	}
	return nil
}
