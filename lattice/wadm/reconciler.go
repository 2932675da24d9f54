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

// ---- catching up at start ------------------------------------------------------

// ---- host expiry ---------------------------------------------------------------

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
