package wadm

import (
	"maps"

	"github.com/google/uuid"
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
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
	// hostGoneGrace is how long after a host connection closed its hosts are
	// checked: long enough for a reconnecting host to be back.
	hostGoneGrace = time.Second
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

	cancel context.CancelFunc
	// checkHosts wakes checkHostsLoop: a connection that may have been a
	// host's closed.
	checkHosts chan struct{}
	evCC       jetstream.ConsumeContext
	cmdCC      jetstream.ConsumeContext
	cmdCons    jetstream.Consumer
	notifyCC   jetstream.ConsumeContext
	notifyCons jetstream.Consumer
	wg         sync.WaitGroup

	// rec makes the decisions, for the (serial) event handler and for
	// notifications from a real wadm; recMu keeps them apart.
	recMu sync.Mutex
	rec   *reconciler
	// procMu keeps the event handler and applyDrift apart (processRetrying).
	procMu sync.Mutex

	// lastHeard is when this process last saw each host's heartbeat on the
	// wire (not through the event stream, which can lag): see reap.
	heardMu   sync.Mutex
	lastHeard map[string]time.Time
}

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

func newLatticeWorker(w *Wadm, lattice string) *latticeWorker {
	return &latticeWorker{
		w: w, lattice: lattice, kv: w.objs.state, log: w.log,
		ctl: ctl.NewClient(w.nc, ctl.ClientOptions{Lattice: lattice, TopicPrefix: w.cfg.CtlTopicPrefix, Timeout: w.cfg.CtlTimeout}),
		rec: newReconciler(w.cfg.HostExpiry, w.log.With("lattice", lattice)),

		checkHosts: make(chan struct{}, 1),
	}
}

func (lw *latticeWorker) start(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	lw.cancel = cancel
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	meta := map[string]string{"lattice": lw.lattice}
	evCons, err := ensureConsumer(sctx, lw.w.js, EventConsumerStream, jetstream.ConsumerConfig{
		Durable: eventConsumerPrefix + "-" + lw.lattice, FilterSubject: EventConsumerSubject(lw.lattice),
		Description: "Durable wadm events consumer for lattice " + lw.lattice,
		AckPolicy:   jetstream.AckExplicitPolicy, AckWait: eventAckWait, MaxDeliver: eventMaxDeliver,
		MaxAckPending: 1, DeliverPolicy: jetstream.DeliverAllPolicy, Metadata: meta,
	})
	if err != nil {
		cancel()
		return err
	}
	cmdCons, err := ensureConsumer(sctx, lw.w.js, CommandsStream, jetstream.ConsumerConfig{
		Durable: commandConsumerPrefix + "-" + lw.lattice, FilterSubject: CommandSubject(lw.lattice),
		Description: "Durable wadm commands consumer for lattice " + lw.lattice,
		AckPolicy:   jetstream.AckExplicitPolicy, AckWait: commandAckWait, MaxDeliver: commandMaxDeliver,
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
	// Notifications of a real wadm sharing the lattice; an ephemeral
	// consumer like upstream's (scaler/manager.rs:146-161), from now on: our
	// state is in wadm_state, older notifications are already in it.
	if lw.notifyCons, err = lw.w.js.CreateConsumer(sctx, NotifyStream, jetstream.ConsumerConfig{
		Description: "Ephemeral wadm notifier consumer for lattice " + lw.lattice, AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: 2 * time.Second, MaxDeliver: 3, DeliverPolicy: jetstream.DeliverNewPolicy, FilterSubject: NotifySubject(lw.lattice),
	}); err == nil {
		lw.notifyCC, err = lw.notifyCons.Consume(func(m jetstream.Msg) { lw.handleNotification(ctx, m) }, jetstream.PullExpiry(pullExpiry))
	}
	if err != nil {
		lw.evCC.Stop()
		lw.cmdCC.Stop()
		cancel()
		return fmt.Errorf("consuming notifications of lattice %s: %w", lw.lattice, err)
	}
	lw.w.wg.Add(1)
	go func() {
		defer lw.w.wg.Done()
		lw.catchUp(ctx)
		lw.reap(ctx)
	}()
	lw.w.wg.Add(2)
	go func() {
		defer lw.w.wg.Done()
		lw.checkHostsLoop(ctx)
	}()
	go func() {
		defer lw.w.wg.Done()
		lw.driftLoop(ctx)
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
	if lw.notifyCC != nil {
		lw.notifyCC.Stop()
		<-lw.notifyCC.Closed()
		dctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = lw.w.js.DeleteConsumer(dctx, NotifyStream, lw.notifyCons.CachedInfo().Name)
		cancel()
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
		// A replicated bucket reports a revision mismatch with another code
		// (10164) than a single replica (10071): both are a conflict.
		var apiErr *jetstream.APIError
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) ||
			(errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence) {
			return errConflict
		}
		return fmt.Errorf("writing %s: %w", d.key, err)
	}
	return nil
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
	if err = lw.processRetrying(ctx, ev); err != nil {
		span.SetStatus(codes.Error, err.Error())
		if !isBenign(err) {
			lw.log.Warn("wadm: handling event failed", "lattice", lw.lattice, "event", ev.Type, "err", err)
		}
		_ = m.NakWithDelay(retryDelay(m, 200*time.Millisecond))
		return
	}
	_ = m.Ack()
}

// processRetrying is process, made again (up to five times) when another
// handler changed the state meanwhile. procMu keeps this process's handlers
// (the event worker and applyDrift) one at a time.
func (lw *latticeWorker) processRetrying(ctx context.Context, ev events.Event) error {
	lw.procMu.Lock()
	defer lw.procMu.Unlock()
	var err error
	for range 5 {
		err = lw.process(ctx, ev)
		if !errors.Is(err, errConflict) {
			break
		}
	}
	return err
}

// process handles one event: load the worker state, let the reconciler
// decide, store the state, then publish commands and changed statuses.
func (lw *latticeWorker) process(ctx context.Context, ev events.Event) error {
	st := NewWorkerState()
	docs, err := lw.loadState(ctx, st)
	if err != nil {
		return err
	}
	lw.recMu.Lock()
	res := lw.rec.Step(st, ev, time.Now(), &ctlReads{ctx: ctx, lw: lw})
	lw.recMu.Unlock()
	if err := lw.saveState(ctx, docs, st); err != nil {
		return err
	}
	for _, n := range res.Notifications {
		lw.publishNotification(n)
	}
	res.Commands = append(res.Commands, lw.confirmOrphans(ctx, res.Orphans)...)
	lw.log.Debug("wadm: processed", "event", ev.Type, "route", res.Route, "commands", len(res.Commands), "apps", len(st.Apps))
	trace.SpanFromContext(ctx).SetAttributes(attribute.Int("wadm.commands", len(res.Commands)), attribute.StringSlice("wadm.apps", res.Route))
	for i, c := range res.Commands {
		b, err := MarshalCommand(c)
		if err != nil {
			return err
		}
		msg := &nats.Msg{Subject: CommandSubject(lw.lattice), Data: b, Header: nats.Header{}}
		if res.Recheck[i] {
			msg.Header.Set(recheckHeader, "1")
		}
		// The id is the same when the same pass is published again, and differs when the
		// event is handled again on another state.
		if err := lw.publishCommand(ctx, msg, fmt.Sprintf("%s/%d/%d", ev.ID, docs.expected.rev, i)); err != nil {
			return err
		}
	}
	// A status that did not reach the stream (its leader moved) would stay stale until
	// the app's next event, which may never come: the event is handled again instead,
	// which changes nothing but publishes the statuses.
	var statusErr error
	for _, app := range slices.Sorted(maps.Keys(res.Statuses)) {
		if err := lw.publishStatus(ctx, app, res.Statuses[app]); err != nil {
			statusErr = fmt.Errorf("publishing the status of %s: %w", app, err)
		}
	}
	return statusErr
}

// recheckHeader marks a command its scaler re-planned (StepResult.Recheck).
const recheckHeader = "Wash-Wadm-Recheck"

// publishCommand publishes a command, retrying while the command stream
// does not answer (its leader moved). The state that expects the command's
// effect is saved already: handling the event again would not plan it a
// second time, so giving up early would lose it until its expectation timed
// out. The message id (the event's id and the command's place) lets the
// stream drop a copy whose first publication landed but was not answered.
func (lw *latticeWorker) publishCommand(ctx context.Context, msg *nats.Msg, id string) error {
	delay := 100 * time.Millisecond
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := lw.w.js.PublishMsg(ctx, msg, jetstream.WithMsgID(id))
		if err == nil || isBenign(err) || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("publishing command: %w", err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// stateDocs are the KV revisions a WorkerState was read at.
type stateDocs struct{ hosts, components, providers, apps, expected kvDoc }

// loadState reads the worker state of the lattice from wadm_state.
func (lw *latticeWorker) loadState(ctx context.Context, st *WorkerState) (stateDocs, error) {
	var d stateDocs
	var err error
	for _, step := range []struct {
		doc *kvDoc
		key string
		v   any
	}{
		{&d.hosts, HostStateKey(lw.lattice), &st.Hosts},
		{&d.components, ComponentStateKey(lw.lattice), &st.Components},
		{&d.providers, ProviderStateKey(lw.lattice), &st.Providers},
		{&d.apps, appsStateKey(lw.lattice), &st.Apps},
		{&d.expected, expectedStateKey(lw.lattice), &st.Expected},
	} {
		if *step.doc, err = lw.load(ctx, step.key, step.v); err != nil {
			return d, err
		}
	}
	st.fill()
	return d, nil
}

// saveState writes the documents that changed, each with compare-and-set.
func (lw *latticeWorker) saveState(ctx context.Context, d stateDocs, st *WorkerState) error {
	for _, step := range []struct {
		d kvDoc
		v any
	}{{d.hosts, st.Hosts}, {d.components, st.Components}, {d.providers, st.Providers}, {d.apps, st.Apps}, {d.expected, st.Expected}} {
		if err := lw.save(ctx, step.d, step.v); err != nil {
			return err
		}
	}
	return nil
}

// ctlReads answers a step's lattice reads over the control interface.
type ctlReads struct {
	ctx context.Context
	lw  *latticeWorker
}

func (r *ctlReads) Links() []Link { return r.lw.links(r.ctx) }

func (r *ctlReads) Configs(names []string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, name := range names {
		v, found, err := r.lw.ctl.GetConfig(r.ctx, name)
		if err == nil && found {
			out[name] = v
		}
	}
	return out
}

func (r *ctlReads) CommandsQueued() bool { return r.lw.commandsQueued(r.ctx) }

// confirmOrphans keeps the orphan cleanups whose app wadm_manifests says is
// not deployed: the active manifests in wadm_state may lag behind (a wadm
// starting on a fresh state bucket, a deploy a real wadm made).
func (lw *latticeWorker) confirmOrphans(ctx context.Context, cmds []Command) []Command {
	var out []Command
	store := manifestStore{lw.w.objs.manifests}
	for _, c := range cmds {
		app := ""
		switch c := c.(type) {
		case ScaleComponent:
			app = c.ModelName
		case StopProvider:
			app = c.ModelName
		}
		if sm, _, err := store.get(ctx, lw.lattice, app); err == nil && (sm == nil || sm.Deployed == nil) {
			lw.log.Debug("wadm: removing what an undeployed app left on a returning host", "lattice", lw.lattice, "app", app, "command", c.CommandName())
			out = append(out, c)
		}
	}
	return out
}

// publishNotification tells a real wadm sharing the lattice what our scalers
// did. It does not wait for the stream's ack (the event handler would, per
// notification): a lost notification only costs a peer duplicate work, and
// messages of one connection keep their order, so they still reach the
// stream before the commands published after them.
func (lw *latticeWorker) publishNotification(n Notification) {
	b, err := model.Marshal(n)
	if err == nil {
		msg := &nats.Msg{Subject: NotifySubject(lw.lattice), Data: b, Header: nats.Header{}}
		msg.Header.Set(notifySenderHeader, lw.w.cfg.HostID)
		_, err = lw.w.js.PublishMsgAsync(msg)
	}
	if err != nil && !isBenign(err) {
		lw.log.Warn("wadm: publishing notification failed", "lattice", lw.lattice, "app", n.App(), "err", err)
	}
}

// handleNotification applies a real wadm's notification to wadm_state;
// those of this wadm's processes (marked by a header) carry nothing new.
func (lw *latticeWorker) handleNotification(ctx context.Context, m jetstream.Msg) {
	defer func() { _ = m.Ack() }()
	if m.Headers().Get(notifySenderHeader) != "" {
		return
	}
	var n Notification
	if err := json.Unmarshal(m.Data(), &n); err != nil {
		lw.log.Warn("wadm: skipping unreadable notification", "lattice", lw.lattice, "err", err)
		return
	}
	deployed := ""
	if n.CreateScalers != nil || n.DeleteScalers != nil {
		sm, _, err := manifestStore{lw.w.objs.manifests}.get(ctx, lw.lattice, n.App())
		if err != nil {
			return
		}
		if sm != nil && sm.Deployed != nil {
			deployed = *sm.Deployed
		}
	}
	for range 5 {
		st := NewWorkerState()
		docs, err := lw.loadState(ctx, st)
		if err != nil {
			return
		}
		lw.recMu.Lock()
		statuses, err := lw.rec.ApplyNotification(st, n, deployed, time.Now(), &ctlReads{ctx: ctx, lw: lw})
		lw.recMu.Unlock()
		if err != nil {
			return
		}
		if err := lw.saveState(ctx, docs, st); errors.Is(err, errConflict) {
			continue
		} else if err != nil {
			lw.log.Warn("wadm: applying notification failed", "lattice", lw.lattice, "app", n.App(), "err", err)
			return
		}
		for app, s := range statuses {
			if err := lw.publishStatus(ctx, app, s); err != nil {
				lw.log.Warn("wadm: publishing status failed", "app", app, "err", err)
			}
		}
		return
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
	// So is a command re-planned after its expected events did not come in time: they may
	// only be late.
	recheck := m.Headers().Get(recheckHeader) != ""
	if md, merr := m.Metadata(); merr == nil && (recheck || md.NumDelivered > 1 || time.Since(md.Timestamp) > staleCommand) {
		if done, inv := lw.alreadyDone(ctx, cmd); done {
			span.SetAttributes(attribute.Bool("wadm.already_done", true))
			if recheck {
				// The events that tell the state are late; the inventory tells it now.
				lw.publishWadmEvent(ctx, EventHostInventory, EventTypeHostInventory, inv)
			}
			_ = m.Ack()
			return
		}
	}
	if err := lw.execute(ctx, cmd); err != nil {
		span.SetStatus(codes.Error, err.Error())
		if hostID := commandHost(cmd); hostID != "" && (errors.Is(err, ctl.ErrNoResponders) || !lw.hostKnown(ctx, hostID)) {
			// The host is gone (or died while answering, and wadm already
			// removed it): retrying cannot help and holds up the commands
			// behind this one; its scalers re-plan once it is reported gone.
			lw.log.Debug("wadm: command for a vanished host dropped", "lattice", lw.lattice, "command", cmd.CommandName(), "host", hostID)
			_ = m.Term()
			lw.hostsMayBeGone()
			return
		}
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

// hostKnown reports whether the lattice state still lists a host (true when
// the state cannot be read).
func (lw *latticeWorker) hostKnown(ctx context.Context, hostID string) bool {
	hosts := map[string]HostRecord{}
	if _, err := lw.load(ctx, HostStateKey(lw.lattice), &hosts); err != nil {
		return true
	}
	_, ok := hosts[hostID]
	return ok
}

// commandHost is the host a command is addressed to ("" for lattice-wide
// ones such as links and config).
func commandHost(c Command) string {
	switch c := deref(c).(type) {
	case ScaleComponent:
		return c.HostID
	case StartProvider:
		return c.HostID
	case StopProvider:
		return c.HostID
	}
	return ""
}

// alreadyDone reports whether the host already runs what a scale or
// provider command asks for, and the inventory that says so.
func (lw *latticeWorker) alreadyDone(ctx context.Context, c Command) (bool, *ctl.HostInventory) {
	hostID := commandHost(c)
	if hostID == "" {
		return false, nil
	}
	inv, err := lw.ctl.GetHostInventory(ctx, hostID)
	if err != nil || inv == nil {
		return false, nil
	}
	if inv.HostID == "" {
		inv.HostID = hostID
	}
	return inventoryShows(inv, c), inv
}

func inventoryShows(inv *ctl.HostInventory, c Command) bool {
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

// ---- catching up at start ------------------------------------------------------

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
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		drift, err := lw.manifestDrift(ctx)
		if err != nil {
			continue
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

// publishWadmEvent sends one of this wadm's own events to the lattice's
// event worker.
func (lw *latticeWorker) publishWadmEvent(ctx context.Context, key, typ string, data any) {
	ev, err := newWadmEvent(uuid.NewString(), typ, time.Now(), data)
	if err == nil {
		lw.publishEvent(ctx, key, ev)
	}
}

func (lw *latticeWorker) publishEvent(ctx context.Context, key string, ev CloudEvent) {
	b, err := model.Marshal(ev)
	if err != nil {
		return
	}
	if _, err := lw.w.js.Publish(ctx, EventSubject(lw.lattice, key), b); err != nil && !isBenign(err) {
		lw.log.Warn("wadm: publishing event failed", "event", ev.Type, "err", err)
	}
}
