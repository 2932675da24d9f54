// Package wadm is the wadm server: the API on wadm.api.<lattice>.>, the
// manifest store (KV wadm_manifests), and per lattice an event worker that
// folds host and wadm events into the observed state (KV wadm_state), runs
// the scalers (pure: lattice snapshot in, commands out) and publishes
// statuses, plus a command worker that carries the commands out over the
// control interface. Run starts it in-process (wash up) or alone (wash wadm).
//
// Clients use lattice/wadm/client and lattice/wadm/model, which never import
// this package.
package wadm

import (
	"encoding/json"

	"github.com/wasmlattice/wash/lattice/buckets"
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
)

// Config configures a wadm process (reference §4.19 for upstream's flags).
type Config struct {
	// APIPrefix is the API subject prefix (default wadm.api).
	APIPrefix string
	// Lattices get their workers at start; others start when a host of that
	// lattice is first heard from or an app of it is deployed.
	Lattices []string
	// HostExpiry is how long a host may stay silent before it is considered
	// gone (default 70 s, upstream's --cleanup-interval).
	HostExpiry time.Duration
	// MemoryStorage keeps wadm's streams and buckets in memory (upstream
	// --stream-persistence memory); default file.
	MemoryStorage bool
	// ManifestBucket and StateBucket default to wadm_manifests and wadm_state (lattice/buckets).
	ManifestBucket string
	StateBucket    string
	// CtlTopicPrefix defaults to wasmbus.ctl.
	CtlTopicPrefix string
	// CtlTimeout bounds each control-interface request (default 5 s).
	CtlTimeout time.Duration
	// JSDomain is the JetStream domain of wadm's streams and buckets.
	JSDomain string
	// StreamReplicas is the replica count of the streams and buckets wadm
	// creates when they are missing; 0 means min(3, cluster size). Existing
	// ones are used as they are.
	StreamReplicas int
	// MaxJobs caps how many events and commands this process handles at
	// once over all lattices (upstream --max-jobs); 0 means no cap.
	MaxJobs int
	// HostID names this wadm process in logs, spans and its NATS client
	// name (upstream --host-id); default a random UUIDv4.
	HostID string
	// TracerProvider receives spans around API requests, reconcile passes
	// and commands; nil means the global provider (a no-op unless set).
	TracerProvider trace.TracerProvider
	Logger         *slog.Logger
}

// Wadm is a running wadm process: the API server plus one event worker,
// command worker and reaper per lattice it has seen.
type Wadm struct {
	cfg   Config
	nc    *nats.Conn
	js    jetstream.JetStream
	objs  *jsObjects
	api   *apiServer
	log   *slog.Logger
	subs  []*nats.Subscription
	ctx   context.Context
	stopF context.CancelFunc

	tracer trace.Tracer
	// jobs is the --max-jobs semaphore (nil: no cap).
	jobs chan struct{}

	mu       sync.Mutex
	lattices map[string]*latticeWorker
	stopped  bool
	wg       sync.WaitGroup
}

// Run starts wadm on an existing connection. It creates the JetStream
// objects it needs (existing ones are used as they are), answers the API on
// <prefix>.> in queue group wadm_server and reconciles every lattice it
// learns of. Stop ends it.
func Run(ctx context.Context, nc *nats.Conn, cfg Config) (*Wadm, error) {
	cfg.APIPrefix = strings.Trim(strings.TrimSpace(cfg.APIPrefix), ".")
	if cfg.APIPrefix == "" {
		cfg.APIPrefix = model.DefaultAPIPrefix
	}
	if cfg.HostExpiry <= 0 {
		cfg.HostExpiry = 70 * time.Second
	}
	if cfg.ManifestBucket == "" {
		cfg.ManifestBucket = buckets.WadmManifests
	}
	if cfg.StateBucket == "" {
		cfg.StateBucket = buckets.WadmState
	}
	if cfg.CtlTopicPrefix == "" {
		cfg.CtlTopicPrefix = ctl.DefaultTopicPrefix
	}
	if cfg.CtlTimeout <= 0 {
		cfg.CtlTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HostID == "" {
		cfg.HostID = uuid.NewString()
	}
	cfg.Logger = cfg.Logger.With("wadm_host_id", cfg.HostID)
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = otel.GetTracerProvider()
	}
	if cfg.StreamReplicas < 0 || cfg.StreamReplicas > 5 {
		return nil, fmt.Errorf("wadm: stream replicas %d out of range (1-5, or 0 for automatic)", cfg.StreamReplicas)
	}
	js, err := buckets.JetStream(nc, cfg.JSDomain)
	if err != nil {
		return nil, fmt.Errorf("wadm: JetStream: %w", err)
	}
	storage := jetstream.FileStorage
	if cfg.MemoryStorage {
		storage = jetstream.MemoryStorage
	}
	objs, err := setUpJetStream(ctx, js, nc, cfg.JSDomain, jsLayout{storage: storage, replicas: cfg.StreamReplicas,
		manifestBucket: cfg.ManifestBucket, stateBucket: cfg.StateBucket}, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("wadm: %w (is JetStream enabled on %s?)", err, nc.ConnectedUrlRedacted())
	}
	runCtx, stop := context.WithCancel(context.Background())
	w := &Wadm{cfg: cfg, nc: nc, js: js, objs: objs, log: cfg.Logger, ctx: runCtx, stopF: stop, lattices: map[string]*latticeWorker{},
		tracer: cfg.TracerProvider.Tracer(tracerName)}
	if cfg.MaxJobs > 0 {
		w.jobs = make(chan struct{}, cfg.MaxJobs)
	}
	w.api = &apiServer{nc: nc, js: js, store: manifestStore{objs.manifests}, status: objs.status, prefix: cfg.APIPrefix,
		log: cfg.Logger, timeout: 10 * time.Second, touched: w.ensureLattice, tracer: w.tracer}

	// Lattice discovery: any host start or heartbeat names a lattice.
	disc, err := nc.Subscribe("wasmbus.evt.*.>", func(m *nats.Msg) {
		tokens := strings.SplitN(m.Subject, ".", 4)
		if len(tokens) < 4 {
			return
		}
		if tokens[3] == "host_heartbeat" || tokens[3] == "host_started" {
			w.ensureLattice(tokens[2])
			if ev, err := events.Parse(m.Data); err == nil && ev.Source != "" {
				w.mu.Lock()
				lw := w.lattices[tokens[2]]
				w.mu.Unlock()
				if lw != nil {
					lw.heard(ev.Source)
				}
			}
		}
	})
	if err != nil {
		stop()
		return nil, fmt.Errorf("wadm: subscribing to host events: %w", err)
	}
	w.subs = append(w.subs, disc)
	// A host process that dies sends no host_stopped. Where the server shares
	// its client disconnect advisories (the embedded NATS of wash up does;
	// elsewhere nothing arrives and heartbeats expire), a host connection
	// closing makes every lattice check its hosts at once.
	adv, err := nc.Subscribe(disconnectAdvisories, func(m *nats.Msg) {
		var d struct {
			Client struct {
				Name string `json:"name"`
			} `json:"client"`
		}
		if json.Unmarshal(m.Data, &d) != nil || !mayBeHost(d.Client.Name) {
			return
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, lw := range w.lattices {
			lw.hostsMayBeGone()
		}
	})
	if err != nil {
		stop()
		return nil, fmt.Errorf("wadm: subscribing to disconnect advisories: %w", err)
	}
	w.subs = append(w.subs, adv)
	for _, l := range cfg.Lattices {
		w.ensureLattice(l)
	}
	// Re-attach to the lattices earlier processes worked on.
	sctx, cancel := context.WithTimeout(ctx, jsAttempt)
	defer cancel()
	if st, err := js.Stream(sctx, EventConsumerStream); err == nil {
		lister := st.ListConsumers(sctx)
		for ci := range lister.Info() {
			if l := ci.Config.Metadata["lattice"]; l != "" {
				w.ensureLattice(l)
			} else if l, ok := strings.CutPrefix(ci.Name, eventConsumerPrefix+"-"); ok {
				w.ensureLattice(l)
			}
		}
	}
	apiSub, err := w.api.subscribe()
	if err != nil {
		w.Stop()
		return nil, fmt.Errorf("wadm: subscribing to the API: %w", err)
	}
	w.subs = append(w.subs, apiSub)
	if err := nc.Flush(); err != nil {
		w.Stop()
		return nil, fmt.Errorf("wadm: %w", err)
	}
	return w, nil
}

// Setting up wadm's streams and buckets: each attempt gets jsAttempt; attempts that ran out
// of time are made again until jsSetupFor has passed.
const (
	jsAttempt  = 15 * time.Second
	jsSetupFor = 2 * time.Minute
)

// setUpJetStream is ensureJetStream, tried again while JetStream does not answer in time. In
// a cluster that has just formed (or lost a node) every replicated stream and bucket waits
// for a leader election; on a loaded machine, with other wadm processes creating the same
// objects, that took longer than one attempt, and a `wash wadm` of an HA set exited at
// start: CI's TestClusterFailover then killed the only wadm still running. The buckets read
// through their stream leader (leaderReads).
func setUpJetStream(ctx context.Context, js jetstream.JetStream, nc *nats.Conn, domain string, l jsLayout, log *slog.Logger) (*jsObjects, error) {
	giveUp := time.Now().Add(jsSetupFor)
	for {
		actx, cancel := context.WithTimeout(ctx, jsAttempt)
		objs, err := ensureJetStream(actx, js, l)
		if err == nil {
			if objs.manifests, err = leaderReads(actx, nc, domain, objs.manifests); err == nil {
				objs.state, err = leaderReads(actx, nc, domain, objs.state)
			}
		}
		cancel()
		if err == nil || ctx.Err() != nil || !jsTimedOut(err) || time.Now().After(giveUp) {
			return objs, err
		}
		log.Warn("wadm: JetStream did not answer in time while setting up streams and buckets; trying again", "err", err)
	}
}

// jsTimedOut reports a JetStream request that no server answered in time, or that the
// cluster refused until it has a leader: made again, it may succeed.
func jsTimedOut(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		(errors.As(err, &apiErr) && apiErr.ErrorCode == jsErrCodeClusterNotAvailable)
}

// jsErrCodeClusterNotAvailable is nats-server's "JetStream system temporarily unavailable".
const jsErrCodeClusterNotAvailable = 10008

// Stop ends the API server and every worker. Pending work stays in the
// JetStream consumers for other (or later) wadm processes.
func (w *Wadm) Stop() {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	w.stopped = true
	for _, s := range w.subs {
		_ = s.Unsubscribe()
	}
	workers := w.lattices
	w.mu.Unlock()
	w.stopF()
	for _, lw := range workers {
		lw.stop()
	}
	w.wg.Wait()
}

// Lattices lists the lattices this process reconciles.
func (w *Wadm) Lattices() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.lattices))
	for l := range w.lattices {
		out = append(out, l)
	}
	return out
}

// ensureLattice starts the workers of a lattice once.
func (w *Wadm) ensureLattice(lattice string) {
	if !ctl.ValidLatticeName(lattice) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped || w.lattices[lattice] != nil {
		return
	}
	lw := newLatticeWorker(w, lattice)
	w.lattices[lattice] = lw
	if err := lw.start(w.ctx); err != nil {
		w.log.Error("wadm: starting lattice worker failed", "lattice", lattice, "err", err)
		delete(w.lattices, lattice)
	}
}

// disconnectAdvisories is the NATS server's client disconnect advisory
// subject (system account).
const disconnectAdvisories = "$SYS.ACCOUNT.*.DISCONNECT"

// mayBeHost reports whether a NATS connection name can be a host's:
// wasmCloud hosts (ours and upstream's) name their connection "wasmbus";
// unnamed ones are checked too.
func mayBeHost(name string) bool { return name == "" || strings.HasPrefix(name, "wasmbus") }

// tracerName is the instrumentation scope of wadm's spans.
const tracerName = "github.com/wasmlattice/wash/lattice/wadm"

// HostID is the id this process goes by.
func (w *Wadm) HostID() string { return w.cfg.HostID }

// acquire takes a --max-jobs slot; release gives it back.
func (w *Wadm) acquire(ctx context.Context) bool {
	if w.jobs == nil {
		return true
	}
	select {
	case w.jobs <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (w *Wadm) release() {
	if w.jobs != nil {
		<-w.jobs
	}
}

// isBenign reports shutdown-time errors not worth logging.
func isBenign(err error) bool {
	return err == nil || errors.Is(err, context.Canceled) || errors.Is(err, nats.ErrConnectionClosed) ||
		errors.Is(err, jetstream.ErrMsgIteratorClosed)
}
