// Package host is wash's built-in wasmCloud host: it serves the control interface, publishes
// lattice events and heartbeats, keeps links and config in the lattice's KV buckets and runs
// WebAssembly through runtime/.
package host

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wasmlattice/wash/lattice/buckets"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/wasmlattice/wash/internal/periodic"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/logs"
	"github.com/wasmlattice/wash/lattice/secrets"
	"github.com/wasmlattice/wash/lattice/telemetry"
	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/oci"
	"github.com/wasmlattice/wash/runtime"
)

// Version is the wasmCloud host version this host reports; wadm parses it as semver.
const Version = "1.9.2"

// DefaultHeartbeatInterval is upstream's heartbeat period.
const DefaultHeartbeatInterval = 30 * time.Second

// Config configures a host.
type Config struct {
	Lattice     string
	TopicPrefix string
	// Seed is an nkey server seed (SN…); empty generates a new identity.
	Seed string
	// Labels are user labels; hostcore.* keys are refused.
	Labels            map[string]string
	HeartbeatInterval time.Duration
	JSDomain          string
	AllowFileLoad     bool
	// MaxComponentSize bounds a component binary read from a file or a registry (default
	// MaxComponentSize); MaxProviderSize bounds a provider archive, both as fetched and as
	// unpacked (default MaxProviderSize).
	MaxComponentSize int64
	MaxProviderSize  int64
	// AllowLatest permits OCI references that resolve through the tag "latest".
	AllowLatest bool
	// AllowedInsecure lists registry authorities ("host" or "host:port") reached over plain HTTP.
	AllowedInsecure []string
	// OCICacheDir holds pulled artifacts (content-addressed) and extracted provider binaries;
	// wash up passes $WASH_HOME/oci-cache. "" uses a private temporary directory removed at Stop.
	OCICacheDir string
	// OCICredentials are registry credentials by registry authority from the start-up
	// configuration (WASMCLOUD_OCI_REGISTRY, _USER, _PASSWORD). Entries sent later with
	// registry.put take precedence; other registries are used anonymously.
	OCICredentials map[string]oci.Credential
	// CtlURL and RPCURL are reported in host.ping (without any user:password@). RPCURL, with
	// its credentials, is also the lattice_rpc_url native providers connect to.
	CtlURL string
	RPCURL string
	// RPCUserJWT and RPCUserSeed are the NATS user JWT and nkey seed native providers get in
	// HostData (lattice_rpc_user_jwt/_seed) when the lattice requires them; upstream passes
	// the host's own rpc credentials (host/src/wasmbus/providers/mod.rs:137-165).
	RPCUserJWT  string
	RPCUserSeed string
	// LogLevel is handed to native providers as HostData log_level (default "info").
	LogLevel string
	// SecretsTopic is the subject prefix of secrets backends (WASMCLOUD_SECRETS_TOPIC, e.g.
	// wasmcloud.secrets); without it any SECRET_ reference fails the start, as upstream.
	SecretsTopic string
	// RPCConn carries provider traffic (upstream's rpc connection, which may use other
	// credentials than the control connection); nil uses the control connection.
	RPCConn *nats.Conn
	// RPCTimeout bounds provider requests (health checks) and is given to providers as
	// default_rpc_timeout_ms (default 2 s).
	RPCTimeout time.Duration
	// Engine runs wasm; nil creates a private one.
	Engine *runtime.Engine
	// MaxExecutionTime bounds one invocation (default 10 minutes).
	MaxExecutionTime time.Duration
	// ProviderHealthDelay and ProviderHealthInterval time native provider health checks
	// (defaults 5 s and 30 s); ProviderRestartDelay is the first wait before restarting a
	// crashed provider (default 1 s, doubled per quick crash up to 30 s).
	ProviderHealthDelay    time.Duration
	ProviderHealthInterval time.Duration
	ProviderRestartDelay   time.Duration
	// ReuseInstances serves a component's HTTP requests on instances that served earlier ones
	// (runtime.Pool): guest state (globals, heap) lives on between requests. By default every
	// invocation gets a fresh instance, as in wasmCloud. The component annotation
	// AnnotationReuseInstances overrides it per component.
	ReuseInstances bool
	// NoInitSnapshots makes fresh instances of components with start functions (a Go guest's
	// runtime initialization) run them every time instead of starting from a snapshot taken
	// after they ran once (runtime.InstanceConfig.InitSnapshot). AnnotationInitSnapshot
	// overrides it per component.
	NoInitSnapshots bool
	// BuiltinTwins lets the host run the built-in twin of an upstream provider image
	// (ghcr.io/wasmcloud/<name>:<tag> with a wasmcloud+builtin://<name>) when the image cannot
	// be fetched, so manifests written for wasmCloud run offline. The inventory keeps the
	// requested image; the log and provider_started's builtin_twin say what runs.
	BuiltinTwins bool
	// HTTPClient makes the outbound wasi:http requests of components linked to the builtin
	// http-client (nil: a client with default transport settings).
	HTTPClient *http.Client
	// DefaultStopTimeout is the graceful deadline when host.stop carries none (default 10 s).
	DefaultStopTimeout time.Duration
	// CallTimeout bounds each wRPC call the host makes until its results arrive (default
	// DefaultCallTimeout).
	CallTimeout time.Duration
	// Propagator carries trace context on wRPC invocations (default: W3C passthrough).
	Propagator wrpc.Propagator
	Logger     *slog.Logger
	// Telemetry exports spans and metrics when enabled (nil: nothing is exported).
	Telemetry *telemetry.Telemetry
	// LogTap, when set, is the handler behind Logger that also serves the host's log lines over
	// the lattice (wash logs); the host starts and stops serving with itself.
	LogTap *logs.Tap
}

// Host is a running built-in host.
type Host struct {
	cfg      Config
	kp       nkeys.KeyPair
	id       string
	name     string
	started  time.Time
	nc       *nats.Conn
	subjects ctl.Subjects
	log      *slog.Logger
	engine   *runtime.Engine
	ownsEng  bool
	tel      *telemetry.Telemetry
	metrics  *telemetry.HostMetrics

	latticeData jetstream.KeyValue
	configData  jetstream.KeyValue

	// pubMu and published order heartbeats against the other events: see heartbeat.
	pubMu     sync.Mutex
	published uint64 // events other than heartbeats published so far; guarded by pubMu

	mu         sync.RWMutex
	labels     map[string]string
	components map[string]*component
	providers  map[string]*provider
	links      map[string][]ctl.Link // by source id
	configs    map[string]map[string]string
	httpClient *http.Client
	// linkMu orders link notifications to in-process providers
	linkMu     sync.Mutex
	linkRevs   map[string]uint64 // KV revision of each source's links; guarded by linkMu
	claims     map[string]ctl.StoredClaims
	registries map[string]ctl.RegistryCredential

	ociClient  *oci.Client
	ociDir     string
	ociTempDir string // removed at Stop when the host made it

	programs programCache
	cfgCache configCache
	xkeyOnce sync.Once
	xkey     nkeys.KeyPair // seals link secrets for native providers
	xkeyErr  error
	idLocks  keyedMutex

	subs          []*nats.Subscription
	watcher       jetstream.KeyWatcher
	configWatcher jetstream.KeyWatcher
	rpcState
	stopOnce sync.Once
	stopping chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup

	// secrets: the host's self-issued token and the backend client, made on first use
	secretsOnce   sync.Once
	hostJWT       string
	hostJWTErr    error
	secretsClient *secrets.Client
}

// New prepares a host on a connected NATS client. It validates the configuration and creates the
// lattice's KV buckets if missing, but serves nothing until Start.
func New(ctx context.Context, nc *nats.Conn, cfg Config) (*Host, error) {
	if cfg.Lattice == "" {
		cfg.Lattice = ctl.DefaultLattice
	}
	if err := ctl.CheckLatticeName(cfg.Lattice); err != nil {
		return nil, err
	}
	if cfg.TopicPrefix == "" {
		cfg.TopicPrefix = ctl.DefaultTopicPrefix
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.DefaultStopTimeout <= 0 {
		cfg.DefaultStopTimeout = 10 * time.Second
	}
	if cfg.MaxComponentSize <= 0 {
		cfg.MaxComponentSize = MaxComponentSize
	}
	if cfg.MaxProviderSize <= 0 {
		cfg.MaxProviderSize = MaxProviderSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	labels := HostcoreLabels()
	for k, v := range cfg.Labels {
		if err := ValidateUserLabel(k); err != nil {
			return nil, err
		}
		labels[k] = v
	}
	kp, id, err := newIdentity(cfg.Seed)
	if err != nil {
		return nil, err
	}
	h := &Host{
		cfg: cfg, kp: kp, id: id, name: FriendlyName(), nc: nc,
		subjects:   ctl.Subjects{Prefix: cfg.TopicPrefix, Lattice: cfg.Lattice},
		log:        cfg.Logger,
		labels:     labels,
		components: map[string]*component{},
		providers:  map[string]*provider{},
		links:      map[string][]ctl.Link{},
		configs:    map[string]map[string]string{},
		httpClient: cfg.HTTPClient,
		claims:     map[string]ctl.StoredClaims{},
		registries: map[string]ctl.RegistryCredential{},
		stopping:   make(chan struct{}),
		done:       make(chan struct{}),
	}
	if err := h.newOCIClient(); err != nil {
		return nil, err
	}
	if err := h.setupTelemetry(); err != nil {
		h.removeOCITemp()
		return nil, fmt.Errorf("host metrics: %w", err)
	}
	h.engine = cfg.Engine
	if h.engine == nil {
		eng, err := runtime.NewEngine(ctx, runtime.Options{MaxExecutionTime: cfg.MaxExecutionTime})
		if err != nil {
			h.removeOCITemp()
			return nil, err
		}
		h.engine, h.ownsEng = eng, true
	}
	if err := h.openBuckets(ctx); err != nil {
		h.closeEngine()
		h.removeOCITemp()
		return nil, err
	}
	return h, nil
}

// rpcConn is the connection for provider traffic (upstream's rpc connection).
func (h *Host) rpcConn() *nats.Conn {
	if h.cfg.RPCConn != nil {
		return h.cfg.RPCConn
	}
	return h.nc
}

// ID is the host's public key (N…).
func (h *Host) ID() string { return h.id }

// FriendlyName is the host's generated name.
func (h *Host) FriendlyName() string { return h.name }

// Lattice is the lattice the host serves.
func (h *Host) Lattice() string { return h.cfg.Lattice }

// Done is closed once the host has stopped (after host.stop or Stop).
func (h *Host) Done() <-chan struct{} { return h.done }

func (h *Host) closeEngine() {
	if h.ownsEng {
		_ = h.engine.Close(context.Background())
	}
}

func (h *Host) jetStream() (jetstream.JetStream, error) {
	return buckets.JetStream(h.nc, h.cfg.JSDomain)
}

func (h *Host) openBuckets(ctx context.Context) error {
	js, err := h.jetStream()
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ld := buckets.LatticeData(h.cfg.Lattice)
	if h.latticeData, err = buckets.OpenOrCreateKV(ctx, js, ld); err != nil {
		return fmt.Errorf("opening KV bucket %s on %s: %w (JetStream must be enabled)", ld, h.nc.ConnectedUrlRedacted(), err)
	}
	cd := buckets.ConfigData(h.cfg.Lattice)
	if h.configData, err = buckets.OpenOrCreateKV(ctx, js, cd); err != nil {
		return fmt.Errorf("opening KV bucket %s on %s: %w", cd, h.nc.ConnectedUrlRedacted(), err)
	}
	return nil
}

// Start replays lattice data, subscribes to the control interface, announces the host and sends
// the first heartbeat at once (upstream waits a full interval).
func (h *Host) Start(ctx context.Context) error {
	h.started = time.Now()
	if h.httpClient == nil {
		h.httpClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if err := h.startRPC(); err != nil {
		return err
	}
	if err := h.watchConfigData(ctx); err != nil {
		return err
	}
	if err := h.watchLatticeData(ctx); err != nil {
		_ = h.configWatcher.Stop()
		return err
	}
	if err := h.subscribe(); err != nil {
		h.unsubscribe()
		return err
	}
	if t := h.cfg.LogTap; t != nil {
		if err := t.Serve(h.nc, h.cfg.Lattice, h.id, h.name); err != nil {
			h.unsubscribe()
			return fmt.Errorf("serving host logs on %s: %w", h.nc.ConnectedUrlRedacted(), err)
		}
	}
	if err := h.nc.Flush(); err != nil {
		h.unsubscribe()
		return fmt.Errorf("subscribing to the control interface on %s: %w", h.nc.ConnectedUrlRedacted(), err)
	}
	h.publish(events.HostStarted, events.HostStartedData{
		FriendlyName: h.name, Labels: h.labelsCopy(), UptimeSeconds: 0, Version: Version,
	})
	h.wg.Add(1)
	go h.heartbeatLoop()
	return nil
}

func (h *Host) heartbeatLoop() {
	defer h.wg.Done()
	periodic.Every(h.stopping, 0, h.cfg.HeartbeatInterval, h.heartbeat)
}

// heartbeat publishes the inventory. The inventory is a snapshot: a component that starts
// between the snapshot and the heartbeat's publication would have its component_scaled reach
// wadm before a heartbeat that does not list it, and wadm, trusting the newer message, would
// forget it and scale it again. So a heartbeat goes out only when no other event was published
// since its snapshot was taken; a change whose event is still to come is published after it.
func (h *Host) heartbeat() {
	for range 10 {
		h.pubMu.Lock()
		before := h.published
		h.pubMu.Unlock()
		inv := h.Inventory()
		h.pubMu.Lock()
		if h.published == before {
			if err := events.Publish(h.nc, h.cfg.Lattice, h.id, events.HostHeartbeat, inv); err != nil {
				h.log.Warn("publishing event failed", "event", events.HostHeartbeat, "err", err)
			}
			h.pubMu.Unlock()
			return
		}
		h.pubMu.Unlock()
	}
	// Events kept coming while the inventory was taken: the next tick tries again.
}

// Heartbeat publishes a heartbeat now. Call it once the NATS connection is back after an
// outage, so wadm sees the host again without waiting a heartbeat interval.
func (h *Host) Heartbeat() {
	select {
	case <-h.stopping:
	default:
		h.heartbeat()
	}
}

func (h *Host) publish(name string, data any) {
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	h.published++
	if err := events.Publish(h.nc, h.cfg.Lattice, h.id, name, data); err != nil {
		h.log.Warn("publishing event failed", "event", name, "err", err)
	}
}

func (h *Host) labelsCopy() map[string]string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return maps.Clone(h.labels)
}

func (h *Host) uptime() uint64 { return uint64(time.Since(h.started) / time.Second) }

// Describe is the host.ping reply.
func (h *Host) Describe() ctl.Host {
	up := h.uptime()
	return ctl.Host{
		RPCHost: redactURL(h.cfg.RPCURL), CtlHost: redactURL(h.cfg.CtlURL), FriendlyName: h.name, ID: h.id,
		JSDomain: h.cfg.JSDomain, Labels: h.labelsCopy(), Lattice: h.cfg.Lattice,
		UptimeHuman: HumanUptime(up), UptimeSeconds: up, Version: Version,
	}
}

// Inventory is the host.get reply and the heartbeat payload. It lists only what really runs.
func (h *Host) Inventory() ctl.HostInventory {
	h.mu.RLock()
	comps := make([]ctl.ComponentDescription, 0, len(h.components))
	for _, c := range h.components {
		comps = append(comps, c.describe())
	}
	provs := make([]ctl.ProviderDescription, 0, len(h.providers))
	for _, p := range h.providers {
		provs = append(provs, p.describe())
	}
	labels := maps.Clone(h.labels)
	h.mu.RUnlock()
	sort.Slice(comps, func(i, j int) bool { return comps[i].ID < comps[j].ID })
	sort.Slice(provs, func(i, j int) bool { return provs[i].ID < provs[j].ID })
	up := h.uptime()
	return ctl.HostInventory{
		Components: comps, Providers: provs, HostID: h.id, FriendlyName: h.name, Labels: labels,
		Version: Version, UptimeHuman: HumanUptime(up), UptimeSeconds: up,
	}
}

// Stop shuts the host down gracefully within timeout: providers are asked to shut down, every
// component stops, host_stopped is published and the subscriptions end.
func (h *Host) Stop(ctx context.Context, timeout time.Duration) {
	h.stopOnce.Do(func() {
		if timeout <= 0 {
			timeout = h.cfg.DefaultStopTimeout
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		close(h.stopping)
		h.unsubscribe()
		if h.watcher != nil {
			_ = h.watcher.Stop()
		}
		if h.configWatcher != nil {
			_ = h.configWatcher.Stop()
		}
		h.stopRPC()
		h.stopAllProviders(ctx)
		h.mu.Lock()
		comps := h.components
		h.components = map[string]*component{}
		h.mu.Unlock()
		for _, c := range comps {
			c.close(ctx)
		}
		h.wg.Wait()
		h.publish(events.HostStopped, events.HostStoppedData{Labels: h.labelsCopy()})
		_ = h.nc.FlushTimeout(time.Second)
		h.programs.closeAll(ctx)
		h.metrics.Close()
		h.closeEngine()
		h.removeOCITemp()
		close(h.done)
	})
}

func (h *Host) unsubscribe() {
	if h.cfg.LogTap != nil {
		h.cfg.LogTap.Close()
	}
	for _, s := range h.subs {
		_ = s.Unsubscribe()
	}
	h.subs = nil
}

// keyedMutex serialises work per component or provider id.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func (k *keyedMutex) lock(id string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*sync.Mutex{}
	}
	m, ok := k.locks[id]
	if !ok {
		m = &sync.Mutex{}
		k.locks[id] = m
	}
	k.mu.Unlock()
	m.Lock()
	return m.Unlock
}

func trimmed(s string) string { return strings.TrimSpace(s) }

// redactURL drops user:password@ from a URL (upstream reports the URLs it connects with,
// credentials included, in host.ping; we do not hand them to every client).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = nil
	return u.String()
}
