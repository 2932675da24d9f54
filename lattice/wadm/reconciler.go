package wadm

import (
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
)

// Keys this implementation adds to wadm_state next to upstream's host_,
// component_ and provider_ keys: the manifests whose scalers are active and
// the pending expected events. Keeping them in the bucket (not in memory)
// lets several wadm processes share a lattice's events without repeating
// each other's commands, and lets a restarted process pick up where it was.
func appsStateKey(lattice string) string     { return "apps_" + lattice }
func expectedStateKey(lattice string) string { return "expected_" + lattice }

// Consumer settings. Events of one lattice are handled strictly one at a
// time across all processes (MaxAckPending 1): each handler reads and
// writes the shared state, so serial handling keeps it exact. A message is
// acked only once its work is done; while a handler works it tells the
// server so every keepAliveEvery, so the short AckWait only runs out when
// the process handling a message died (then another one gets it).
const (
	eventAckWait   = 5 * time.Second
	commandAckWait = 5 * time.Second
	keepAliveEvery = time.Second
	// Events carry state (a lost manifest_published is an app never deployed), so they are
	// redelivered until handled; storage errors during a NATS leader election last seconds.
	// A failed command is re-planned by its scaler anyway, so it gets a bounded number of tries.
	eventMaxDeliver   = -1
	commandMaxDeliver = 10
	maxRetryDelay     = 5 * time.Second
	// pullExpiry bounds each pull request: when the consumer's leader moves
	// (a NATS node died) a pending pull is lost, and the client notices
	// after missed heartbeats (expiry/2) instead of the 30 s default.
	pullExpiry = 4 * time.Second
	// staleCommand is the age after which a command is checked against the
	// host before it is carried out.
	staleCommand = 2 * time.Second
)

var errConflict = errors.New("wadm state changed concurrently")

// latticeWorker reconciles one lattice in this process.
type latticeWorker struct {
	w       *Wadm
	lattice string
	ctl     *ctl.Client
	kv      jetstream.KeyValue
	log     interface {
		Warn(string, ...any)
		Debug(string, ...any)
	}

	cancel  context.CancelFunc
	evCC    jetstream.ConsumeContext
	cmdCC   jetstream.ConsumeContext
	cmdCons jetstream.Consumer
	wg      sync.WaitGroup

	// Used only by the (serial) event handler.
	cache map[string]*appScalers
}

type appScalers struct {
	raw     string
	scalers []Scaler
}

func newLatticeWorker(w *Wadm, lattice string) *latticeWorker {
	return &latticeWorker{
		w: w, lattice: lattice, kv: w.objs.state, log: w.log,
		ctl:   ctl.NewClient(w.nc, ctl.ClientOptions{Lattice: lattice, TopicPrefix: w.cfg.CtlTopicPrefix, Timeout: w.cfg.CtlTimeout}),
		cache: map[string]*appScalers{},
	}
}

func (lw *latticeWorker) start(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	lw.cancel = cancel
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	meta := map[string]string{"lattice": lw.lattice}
	evCons, err := ensureConsumer(sctx, lw.w.js, EventConsumerStream, jetstream.ConsumerConfig{
		Durable: eventConsumerPrefix + "-" + lw.lattice, FilterSubjects: EventConsumerSubjects(lw.lattice),
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: eventAckWait, MaxDeliver: eventMaxDeliver,
		MaxAckPending: 1, DeliverPolicy: jetstream.DeliverAllPolicy, Metadata: meta,
	})
	if err != nil {
		cancel()
		return err
	}
	cmdCons, err := ensureConsumer(sctx, lw.w.js, CommandsStream, jetstream.ConsumerConfig{
		Durable: commandConsumerPrefix + "-" + lw.lattice, FilterSubject: CommandSubject(lw.lattice),
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: commandAckWait, MaxDeliver: commandMaxDeliver,
		DeliverPolicy: jetstream.DeliverAllPolicy, Metadata: meta,
	})
	if err != nil {
		cancel()
		return err
	}
	if lw.evCC, err = evCons.Consume(func(m jetstream.Msg) { lw.handleEvent(ctx, m) }, jetstream.PullMaxMessages(1), jetstream.PullExpiry(pullExpiry)); err != nil {
		cancel()
		return fmt.Errorf("consuming events of lattice %s: %w", lw.lattice, err)
	}
	// One command at a time: a prefetched command would wait in this
	// process's buffer with its ack timer running.
	lw.cmdCons = cmdCons
	if lw.cmdCC, err = cmdCons.Consume(func(m jetstream.Msg) { lw.handleCommand(ctx, m) }, jetstream.PullMaxMessages(1), jetstream.PullExpiry(pullExpiry)); err != nil {
		lw.evCC.Stop()
		cancel()
		return fmt.Errorf("consuming commands of lattice %s: %w", lw.lattice, err)
	}
	lw.w.wg.Add(1)
	go func() {
		defer lw.w.wg.Done()
		lw.probeHosts(ctx)
		lw.reap(ctx)
	}()
	return nil
}

func (lw *latticeWorker) stop() {
	if lw.evCC != nil {
		lw.evCC.Drain()
		<-lw.evCC.Closed()
	}
	if lw.cmdCC != nil {
		lw.cmdCC.Drain()
		<-lw.cmdCC.Closed()
	}
	if lw.cancel != nil {
		lw.cancel()
	}
}

func ensureConsumer(ctx context.Context, js jetstream.JetStream, stream string, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	c, err := js.Consumer(ctx, stream, cfg.Durable)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("opening consumer %s: %w", cfg.Durable, err)
	}
	c, err = js.CreateConsumer(ctx, stream, cfg)
	if errors.Is(err, jetstream.ErrConsumerExists) {
		return js.Consumer(ctx, stream, cfg.Durable)
	}
	if err != nil {
		return nil, fmt.Errorf("creating consumer %s: %w", cfg.Durable, err)
	}
	return c, nil
}

// ---- shared state --------------------------------------------------------------

type kvDoc struct {
	key  string
	rev  uint64
	orig []byte
}

func (lw *latticeWorker) load(ctx context.Context, key string, v any) (kvDoc, error) {
	d := kvDoc{key: key}
	e, err := lw.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("reading %s: %w", key, err)
	}
	d.rev, d.orig = e.Revision(), e.Value()
	if len(d.orig) > 0 {
		if err := json.Unmarshal(d.orig, v); err != nil {
			return d, fmt.Errorf("decoding %s: %w", key, err)
		}
	}
	return d, nil
}

// save writes v when it differs from what was read, with compare-and-set.
func (lw *latticeWorker) save(ctx context.Context, d kvDoc, v any) error {
	b, err := model.Marshal(v)
	if err != nil {
		return err
	}
	if bytes.Equal(b, d.orig) {
		return nil
	}
	if d.rev == 0 {
		_, err = lw.kv.Create(ctx, d.key, b)
	} else {
		_, err = lw.kv.Update(ctx, d.key, b, d.rev)
	}
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.Is(err, jetstream.ErrKeyExists) || (errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence) {
			return errConflict
		}
		return fmt.Errorf("writing %s: %w", d.key, err)
	}
	return nil
}

// scalersFor returns (cached) scalers of an app's active manifest.
func (lw *latticeWorker) scalersFor(app string, raw json.RawMessage) []Scaler {
	if len(raw) == 0 {
		return nil
	}
	if c := lw.cache[app]; c != nil && c.raw == string(raw) {
		return c.scalers
	}
	m, err := model.ParseStoredManifestJSON(raw)
	if err != nil {
		lw.log.Warn("wadm: active manifest unreadable", "lattice", lw.lattice, "app", app, "err", err)
		return nil
	}
	sc := BuildScalers(m)
	lw.cache[app] = &appScalers{raw: string(raw), scalers: sc}
	return sc
}

// ---- events -------------------------------------------------------------------

// keepAlive tells the server every keepAliveEvery that m is still being
// worked on, until the returned stop is called.
func keepAlive(m jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(keepAliveEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = m.InProgress()
			}
		}
	}()
	return func() { close(done) }
}

// retryDelay doubles from first with each delivery of m, up to maxRetryDelay.
func retryDelay(m jetstream.Msg, first time.Duration) time.Duration {
	d := first
	if md, err := m.Metadata(); err == nil {
		for i := uint64(1); i < md.NumDelivered && d < maxRetryDelay; i++ {
			d *= 2
		}
	}
	return min(d, maxRetryDelay)
}

func (lw *latticeWorker) handleEvent(ctx context.Context, m jetstream.Msg) {
	ev, err := events.Parse(m.Data())
	lw.log.Debug("wadm: event", "lattice", lw.lattice, "subject", m.Subject(), "type", ev.Type, "err", err)
	if err != nil {
		_ = m.Ack() // unparsable events are skipped, like upstream
		return
	}
	defer keepAlive(m)()
	if !lw.w.acquire(ctx) {
		return // shutting down: the message goes to another process
	}
	defer lw.w.release()
	ctx, span := lw.w.tracer.Start(ctx, "wadm.reconcile", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("wadm.lattice", lw.lattice), attribute.String("cloudevents.event_type", ev.Type),
			attribute.String("cloudevents.event_source", ev.Source)))
	defer span.End()
	for range 5 {
		err = lw.process(ctx, ev)
		if !errors.Is(err, errConflict) {
			break
		}
	}
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
		if !isBenign(err) {
			lw.log.Warn("wadm: handling event failed", "lattice", lw.lattice, "event", ev.Type, "err", err)
		}
		_ = m.NakWithDelay(retryDelay(m, 200*time.Millisecond))
		return
	}
	_ = m.Ack()
}

// process handles one event: update the observed state, run the scalers of
// the apps the event concerns, store state and expectations, then publish
// commands and changed statuses.
func (lw *latticeWorker) process(ctx context.Context, ev events.Event) error {
	now := time.Now()
	obs := newObserved()
	hd, err := lw.load(ctx, HostStateKey(lw.lattice), &obs.hosts)
	if err != nil {
		return err
	}
	cd, err := lw.load(ctx, ComponentStateKey(lw.lattice), &obs.components)
	if err != nil {
		return err
	}
	pd, err := lw.load(ctx, ProviderStateKey(lw.lattice), &obs.providers)
	if err != nil {
		return err
	}
	apps := map[string]json.RawMessage{}
	ad, err := lw.load(ctx, appsStateKey(lw.lattice), &apps)
	if err != nil {
		return err
	}
	exp := map[string]*expectation{}
	ed, err := lw.load(ctx, expectedStateKey(lw.lattice), &exp)
	if err != nil {
		return err
	}
	if obs.hosts == nil {
		obs.hosts = map[string]HostRecord{}
	}
	if obs.components == nil {
		obs.components = map[string]ComponentRecord{}
	}
	if obs.providers == nil {
		obs.providers = map[string]ProviderRecord{}
	}

	var route []string // nil: every active app
	var cleanup []Scaler
	override := map[string]model.Status{}
	switch ev.Type {
	case EventTypeManifestPublished:
		we := CloudEvent{Type: ev.Type, Data: ev.Data}
		man, err := we.PublishedManifest()
		if err != nil {
			lw.log.Warn("wadm: skipping malformed manifest_published event", "lattice", lw.lattice, "err", err)
			return nil
		}
		name := man.Metadata.Name
		raw, err := man.MarshalCanonical()
		if err != nil {
			return nil
		}
		old := lw.scalersFor(name, apps[name])
		apps[name] = raw
		cleanup = OutdatedScalers(old, lw.scalersFor(name, raw))
		route = []string{name}
	case EventTypeManifestUnpublished:
		we := CloudEvent{Type: ev.Type, Data: ev.Data}
		name, err := we.UnpublishedName()
		if err != nil {
			return nil
		}
		cleanup = lw.scalersFor(name, apps[name])
		delete(apps, name)
		delete(lw.cache, name)
		override[name] = model.UndeployedStatus
		route = []string{name}
	case EventTypeHostExpired:
		var d HostExpired
		if json.Unmarshal(ev.Data, &d) != nil {
			return nil
		}
		obs.expire(d, now, lw.w.cfg.HostExpiry)
	case events.TypePrefix + events.HostHeartbeat:
		before := obs.fingerprint(ev.Source)
		obs.apply(ev, now, lw.w.cfg.HostExpiry)
		if obs.fingerprint(ev.Source) == before {
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
		obs.apply(ev, now, lw.w.cfg.HostExpiry)
		if app := eventApp(ev); app != "" {
			if _, ok := apps[app]; ok {
				route = []string{app}
			}
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
	// lattice through the control interface.
	var need []Scaler
	for _, app := range route {
		need = append(need, lw.scalersFor(app, apps[app])...)
	}
	snap := obs.snapshot(lw.links(ctx), lw.configs(ctx, need))

	// An expectation that timed out while commands of the lattice still wait
	// to be carried out (a process died holding them, or a consumer leader
	// moved) keeps holding its scaler back: re-issuing now would send the
	// same command twice once the queue moves again.
	queueChecked, queueBusy := false, false
	commandsQueued := func() bool {
		if !queueChecked {
			queueChecked = true
			queueBusy = lw.commandsQueued(ctx)
		}
		return queueBusy
	}
	var cmds []Command
	statuses := map[string]model.Status{}
	for _, app := range route {
		if st, ok := override[app]; ok {
			statuses[app] = st
			continue
		}
		scalers := lw.scalersFor(app, apps[app])
		if scalers == nil {
			continue
		}
		ss := make([]model.ScalerStatus, 0, len(scalers))
		for _, sc := range scalers {
			c, st := sc.Reconcile(snap)
			e := exp[sc.ID()]
			run := true
			if e != nil {
				// The event may complete the expectation; then the scaler runs in this same pass
				// rather than waiting for the next heartbeat, so a host that appeared while it
				// waited is used at once.
				e.consume(ev, now)
				if !e.idle(now) || (len(e.Events) > 0 && commandsQueued()) {
					run = false
				} else {
					delete(exp, sc.ID())
					e = nil
				}
			}
			if run && len(c) > 0 {
				ne := &expectation{App: app}
				var wait time.Duration
				for _, cmd := range c {
					if x, d, ok := expectFor(cmd); ok {
						ne.Events = append(ne.Events, x)
						wait = max(wait, d)
					}
				}
				ne.Deadline = now.Add(wait)
				exp[sc.ID()] = ne
				cmds = append(cmds, c...)
			}
			if e != nil && now.Before(e.FailedUntil) {
				st = model.Failed(e.FailMsg)
			}
			ss = append(ss, model.ScalerStatus{ID: sc.ID(), Kind: sc.Kind(), Name: sc.Name(), Status: st})
		}
		statuses[app] = model.NewStatus(ss)
	}
	// Outdated scalers clean up after the new ones started (reference §4.15).
	cmds = append(cmds, CleanupAll(cleanup, snap)...)
	// Forget expectations of apps that are gone and ones long expired.
	for id, e := range exp {
		if _, ok := apps[e.App]; !ok || (e.idle(now) && !now.Before(e.Deadline.Add(time.Minute))) {
			delete(exp, id)
		}
	}

	for _, step := range []struct {
		d kvDoc
		v any
	}{{hd, obs.hosts}, {cd, obs.components}, {pd, obs.providers}, {ad, apps}, {ed, exp}} {
		if err := lw.save(ctx, step.d, step.v); err != nil {
			return err
		}
	}
	lw.log.Debug("wadm: processed", "event", ev.Type, "route", route, "commands", len(cmds), "apps", len(apps))
	trace.SpanFromContext(ctx).SetAttributes(attribute.Int("wadm.commands", len(cmds)), attribute.StringSlice("wadm.apps", route))
	for _, c := range cmds {
		b, err := MarshalCommand(c)
		if err != nil {
			return err
		}
		if _, err := lw.w.js.Publish(ctx, CommandSubject(lw.lattice), b); err != nil {
			return fmt.Errorf("publishing command: %w", err)
		}
	}
	for _, app := range slices.Sorted(mapsKeys(statuses)) {
		if err := lw.publishStatus(ctx, app, statuses[app]); err != nil {
			lw.log.Warn("wadm: publishing status failed", "app", app, "err", err)
		}
	}
	return nil
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// publishStatus sends an app status when it differs from the last one.
func (lw *latticeWorker) publishStatus(ctx context.Context, app string, st model.Status) error {
	b, err := model.Marshal(st)
	if err != nil {
		return err
	}
	subj := model.StatusSubject(lw.lattice, app)
	if last, err := lw.w.objs.status.GetLastMsgForSubject(ctx, subj); err == nil && bytes.Equal(last.Data, b) {
		return nil
	}
	_, err = lw.w.js.Publish(ctx, subj, b)
	return err
}

func (lw *latticeWorker) links(ctx context.Context) []Link {
	ls, err := lw.ctl.GetLinks(ctx)
	if err != nil {
		return nil
	}
	out := make([]Link, 0, len(ls))
	for _, l := range ls {
		l = l.Normalized()
		out = append(out, Link{SourceID: l.SourceID, Target: l.Target, Name: l.Name, WitNamespace: l.WitNamespace,
			WitPackage: l.WitPackage, Interfaces: l.Interfaces, SourceConfig: l.SourceConfig, TargetConfig: l.TargetConfig})
	}
	return out
}

// configs fetches the configs the scalers write, by name.
func (lw *latticeWorker) configs(ctx context.Context, scalers []Scaler) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, sc := range scalers {
		for _, c := range ownedConfigs(sc) {
			if c.data == nil {
				continue
			}
			if _, done := out[c.name]; done {
				continue
			}
			v, found, err := lw.ctl.GetConfig(ctx, c.name)
			if err == nil && found {
				out[c.name] = v
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

// ---- commands -------------------------------------------------------------------

func (lw *latticeWorker) handleCommand(ctx context.Context, m jetstream.Msg) {
	cmd, err := UnmarshalCommand(m.Data())
	if err != nil {
		_ = m.Term()
		return
	}
	defer keepAlive(m)()
	if !lw.w.acquire(ctx) {
		return
	}
	defer lw.w.release()
	ctx, span := lw.w.tracer.Start(ctx, "wadm.command", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("wadm.lattice", lw.lattice), attribute.String("wadm.command", cmd.CommandName())))
	defer span.End()
	// A redelivered command may have been carried out by a process that
	// died before acking it, and a command that waited long may have been
	// overtaken by a newer one: skip it when the host already shows its
	// effect.
	if md, merr := m.Metadata(); merr == nil && (md.NumDelivered > 1 || time.Since(md.Timestamp) > staleCommand) && lw.alreadyDone(ctx, cmd) {
		span.SetAttributes(attribute.Bool("wadm.already_done", true))
		_ = m.Ack()
		return
	}
	if err := lw.execute(ctx, cmd); err != nil {
		span.SetStatus(codes.Error, err.Error())
		if !isBenign(err) {
			lw.log.Warn("wadm: command failed", "lattice", lw.lattice, "command", cmd.CommandName(), "err", err)
		}
		_ = m.NakWithDelay(retryDelay(m, 500*time.Millisecond))
		return
	}
	_ = m.Ack()
}

// commandsQueued reports whether commands of the lattice wait in the
// command stream or are being carried out.
func (lw *latticeWorker) commandsQueued(ctx context.Context) bool {
	if lw.cmdCons == nil {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ci, err := lw.cmdCons.Info(cctx)
	if err != nil {
		return true // unknown: keep waiting, the next tick asks again
	}
	return ci.NumPending > 0 || ci.NumAckPending > 0
}

// alreadyDone reports whether the host already runs what a scale or
// provider command asks for.
func (lw *latticeWorker) alreadyDone(ctx context.Context, c Command) bool {
	var hostID string
	switch c := deref(c).(type) {
	case ScaleComponent:
		hostID = c.HostID
	case StartProvider:
		hostID = c.HostID
	case StopProvider:
		hostID = c.HostID
	default:
		return false
	}
	inv, err := lw.ctl.GetHostInventory(ctx, hostID)
	if err != nil || inv == nil {
		return false
	}
	switch c := deref(c).(type) {
	case ScaleComponent:
		for _, cd := range inv.Components {
			if cd.ID == c.ComponentID {
				return cd.ImageRef == c.Reference && int(cd.MaxInstances) == c.Count
			}
		}
		return c.Count == 0
	case StartProvider:
		for _, p := range inv.Providers {
			if p.ID == c.ProviderID {
				return true
			}
		}
	case StopProvider:
		for _, p := range inv.Providers {
			if p.ID == c.ProviderID {
				return false
			}
		}
		return true
	}
	return false
}

// execute turns a command into its control-interface request.
func (lw *latticeWorker) execute(ctx context.Context, c Command) error {
	var err error
	switch c := deref(c).(type) {
	case ScaleComponent:
		_, err = lw.ctl.ScaleComponent(ctx, ctl.ScaleComponentCommand{
			ComponentRef: c.Reference, ComponentID: c.ComponentID, HostID: c.HostID, Count: uint32(max(0, c.Count)),
			Annotations: WithManagedAnnotations(c.Annotations, c.ModelName), Config: c.Config, AllowUpdate: true,
		})
	case StartProvider:
		_, err = lw.ctl.StartProvider(ctx, ctl.StartProviderCommand{
			ProviderID: c.ProviderID, ProviderRef: c.Reference, HostID: c.HostID, Config: c.Config,
			Annotations: WithManagedAnnotations(c.Annotations, c.ModelName),
		})
	case StopProvider:
		_, err = lw.ctl.StopProvider(ctx, ctl.StopProviderCommand{HostID: c.HostID, ProviderID: c.ProviderID})
	case PutLink:
		_, err = lw.ctl.PutLink(ctx, ctl.Link{SourceID: c.SourceID, Target: c.Target, Name: c.Name, WitNamespace: c.WitNamespace,
			WitPackage: c.WitPackage, Interfaces: c.Interfaces, SourceConfig: c.SourceConfig, TargetConfig: c.TargetConfig})
	case DeleteLink:
		_, err = lw.ctl.DeleteLink(ctx, ctl.DeleteLinkRequest{SourceID: c.SourceID, Name: c.LinkName, WitNamespace: c.WitNamespace, WitPackage: c.WitPackage})
	case PutConfig:
		_, err = lw.ctl.PutConfig(ctx, c.ConfigName, c.Config)
	case DeleteConfig:
		_, err = lw.ctl.DeleteConfig(ctx, c.ConfigName)
	default:
		return fmt.Errorf("unknown command %T", c)
	}
	return err
}

// ---- host expiry ---------------------------------------------------------------

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

// reap reports hosts whose heartbeats stopped (reference §4.17); the event
// handler removes them and reconciles.
func (lw *latticeWorker) reap(ctx context.Context) {
	tick := max(lw.w.cfg.HostExpiry/2, 100*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	reported := map[string]time.Time{}
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
			if now.Sub(h.LastSeen) < lw.w.cfg.HostExpiry {
				continue
			}
			if at, ok := reported[id]; ok && now.Sub(at) < tick*2 {
				continue
			}
			reported[id] = now
			lw.publishExpired(ctx, HostExpired{HostID: id})
		}
	}
}

func (lw *latticeWorker) publishExpired(ctx context.Context, d HostExpired) {
	data, _ := json.Marshal(d)
	ev := CloudEvent{SpecVersion: "1.0", ID: NewVersionID(), Type: EventTypeHostExpired, Source: EventSource,
		DataContentType: "application/json", Time: time.Now().UTC(), Data: data}
	b, err := model.Marshal(ev)
	if err != nil {
		return
	}
	if _, err := lw.w.js.Publish(ctx, EventSubject(lw.lattice, EventHostExpired), b); err != nil && !isBenign(err) {
		lw.log.Warn("wadm: reporting expired host failed", "host", d.HostID, "err", err)
	}
}
