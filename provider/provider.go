// Package provider is the Go SDK for native wasmCloud capability providers: the binary inside
// a provider archive (wash par create) that a host starts as a process. It speaks the same
// protocol as upstream's Rust provider-sdk, so a host treats both alike:
//
//   - HostData: one base64 JSON line on stdin, read at start (lattice, NATS URL and
//     credentials, provider key, initial links, config, ...).
//   - Control subjects on NATS, under wasmbus.rpc.<lattice>.<provider-key>: health (answered
//     with {"healthy","message"}), default.shutdown (for this host only), linkdefs.put (on
//     the provider's xkey public key when the host gave one), linkdefs.del, config.update.
//   - wRPC: exports are served under "<lattice>.<provider-key>" in queue group
//     "<lattice>.<provider-key>", so several instances of a provider share calls; components
//     are called under "<lattice>.<component-id>" with source-id and target-id headers.
//
// A provider is Options plus a call to Run:
//
//	func main() {
//		err := provider.Run(provider.Options{
//			Exports:  keyvalue.Exports(open),
//			PutLink:  func(ctx context.Context, l provider.Link) error { ... },
//		})
//		if err != nil { log.Fatal(err) }
//	}
//
// Handlers find who is calling with Caller(ctx) and the link it came through with
// (*Provider).LinkFor. The package links only nats.go and the wRPC transport: no wazero.
package provider

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/wasmlattice/wash/lattice/wrpc"
)

// HostData is what the host writes to the provider's stdin at start.
type HostData struct {
	HostID                 string            `json:"host_id"`
	LatticeRPCPrefix       string            `json:"lattice_rpc_prefix"`
	LinkName               string            `json:"link_name"`
	LatticeRPCUserJWT      string            `json:"lattice_rpc_user_jwt"`
	LatticeRPCUserSeed     string            `json:"lattice_rpc_user_seed"`
	LatticeRPCURL          string            `json:"lattice_rpc_url"`
	ProviderKey            string            `json:"provider_key"`
	EnvValues              map[string]string `json:"env_values"`
	InstanceID             string            `json:"instance_id"`
	LinkDefinitions        []Link            `json:"link_definitions"`
	ClusterIssuers         []string          `json:"cluster_issuers"`
	Config                 map[string]string `json:"config"`
	HostXKeyPublicKey      string            `json:"host_xkey_public_key"`
	ProviderXKeyPrivateKey string            `json:"provider_xkey_private_key"`
	DefaultRPCTimeoutMS    *uint64           `json:"default_rpc_timeout_ms,omitempty"`
	StructuredLogging      bool              `json:"structured_logging"`
	LogLevel               *string           `json:"log_level,omitempty"`
	// Secrets are the provider's SECRET_ config as the host sent them (plaintext values by
	// name: {"kind": "String"|"Bytes", "value": ...}).
	Secrets json.RawMessage `json:"secrets,omitempty"`
	// Raw is the whole HostData JSON, for fields this struct does not model (otel_config, ...).
	Raw json.RawMessage `json:"-"`
}

// Link is a link definition as providers receive it: config names resolved to values.
type Link struct {
	SourceID     string            `json:"source_id"`
	Target       string            `json:"target"`
	Name         string            `json:"name"`
	WitNamespace string            `json:"wit_namespace"`
	WitPackage   string            `json:"wit_package"`
	Interfaces   []string          `json:"interfaces"`
	SourceConfig map[string]string `json:"source_config"`
	TargetConfig map[string]string `json:"target_config"`
	// The secrets arrive encrypted for this provider's xkey; this SDK does not decrypt them.
	SourceSecrets json.RawMessage `json:"source_secrets,omitempty"`
	TargetSecrets json.RawMessage `json:"target_secrets,omitempty"`
}

func (l Link) name() string {
	if l.Name == "" {
		return "default"
	}
	return l.Name
}

func (l Link) key() string {
	return strings.Join([]string{l.SourceID, l.Target, l.name(), l.WitNamespace, l.WitPackage}, "\x00")
}

// ReadHostData reads the HostData line from r (the host writes base64 of the JSON, then a
// newline) and checks the fields a provider cannot work without.
func ReadHostData(r io.Reader) (HostData, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 16<<20)).ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return HostData{}, fmt.Errorf("reading host data from stdin: %w (a provider is started by a wasmCloud host)", err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
	if err != nil {
		return HostData{}, fmt.Errorf("host data is not base64: %w", err)
	}
	var hd HostData
	if err := json.Unmarshal(raw, &hd); err != nil {
		return HostData{}, fmt.Errorf("host data is not valid JSON: %w", err)
	}
	hd.Raw = raw
	if hd.LatticeRPCPrefix == "" || hd.ProviderKey == "" || hd.HostID == "" {
		return HostData{}, errors.New("host data lacks lattice_rpc_prefix, provider_key or host_id")
	}
	if hd.LatticeRPCURL == "" {
		hd.LatticeRPCURL = "nats://127.0.0.1:4222"
	}
	return hd, nil
}

// Options are what a provider does; every field is optional.
type Options struct {
	// Exports are served over wRPC for the whole lattice (e.g. keyvalue.Exports(...)).
	Exports []wrpc.Export
	// Init runs once the provider is connected, before links are delivered and exports
	// served; it may add exports with (*Provider).Serve.
	Init func(ctx context.Context, p *Provider) error
	// PutLink receives each link whose source or target is this provider (the initial ones
	// from HostData first). An error is logged.
	PutLink func(ctx context.Context, l Link) error
	// DeleteLink receives links that went away.
	DeleteLink func(ctx context.Context, l Link) error
	// UpdateConfig receives new provider config (wasmbus.rpc.<lattice>.<key>.config.update).
	UpdateConfig func(ctx context.Context, config map[string]string) error
	// Health answers health checks (default: healthy).
	Health func(ctx context.Context) (healthy bool, message string)
	// Shutdown runs when the host stops the provider (or on SIGTERM/SIGINT), before the
	// connection closes.
	Shutdown func(ctx context.Context) error
	// Logger defaults to text on stderr.
	Logger *slog.Logger
	// Stdin overrides os.Stdin (tests).
	Stdin io.Reader
}

// Provider is a running provider.
type Provider struct {
	HostData HostData
	NC       *nats.Conn
	RPC      *wrpc.Conn
	Log      *slog.Logger

	opts   Options
	mu     sync.RWMutex
	links  map[string]Link
	served []*wrpc.Served
	subs   []*nats.Subscription
	done   chan struct{}
	once   sync.Once
}

// Run starts the provider from stdin's HostData and blocks until the host shuts it down.
func Run(opts Options) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := Start(ctx, opts)
	if err != nil {
		return err
	}
	select {
	case <-p.Done():
	case <-ctx.Done():
		p.shutdown(context.Background())
	}
	return nil
}

// Start connects and serves; it returns once everything is subscribed.
func Start(ctx context.Context, opts Options) (*Provider, error) {
	in := opts.Stdin
	if in == nil {
		in = os.Stdin
	}
	hd, err := ReadHostData(in)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(hd.LogLevel)}))
	}
	log = log.With("provider_id", hd.ProviderKey)
	nopts := []nats.Option{nats.Name("wasmcloud-provider " + hd.ProviderKey), nats.MaxReconnects(-1)}
	if hd.LatticeRPCUserJWT != "" && hd.LatticeRPCUserSeed != "" {
		nopts = append(nopts, nats.UserJWTAndSeed(hd.LatticeRPCUserJWT, hd.LatticeRPCUserSeed))
	}
	nc, err := nats.Connect(hd.LatticeRPCURL, nopts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to the lattice at %s: %w", hd.LatticeRPCURL, err)
	}
	rpc, err := wrpc.NewConn(nc, wrpc.Options{Log: log})
	if err != nil {
		nc.Close()
		return nil, err
	}
	p := &Provider{HostData: hd, NC: nc, RPC: rpc, Log: log, opts: opts, links: map[string]Link{}, done: make(chan struct{})}
	if err := p.subscribe(); err != nil {
		p.close()
		return nil, err
	}
	if opts.Init != nil {
		if err := opts.Init(ctx, p); err != nil {
			p.close()
			return nil, fmt.Errorf("initializing the provider: %w", err)
		}
	}
	for _, l := range hd.LinkDefinitions {
		p.putLink(ctx, l)
	}
	if len(opts.Exports) > 0 {
		if err := p.Serve(opts.Exports...); err != nil {
			p.close()
			return nil, err
		}
	}
	if err := nc.Flush(); err != nil {
		p.close()
		return nil, fmt.Errorf("subscribing on %s: %w", hd.LatticeRPCURL, err)
	}
	log.Info("provider started", "lattice", hd.LatticeRPCPrefix, "host_id", hd.HostID, "links", len(hd.LinkDefinitions))
	return p, nil
}

func logLevel(l *string) slog.Level {
	if l == nil {
		return slog.LevelInfo
	}
	switch strings.ToLower(*l) {
	case "trace", "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error", "critical":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Done is closed once the provider has shut down.
func (p *Provider) Done() <-chan struct{} { return p.done }

// Prefix is where the lattice reaches this provider: "<lattice>.<provider-key>".
func (p *Provider) Prefix() string { return p.HostData.LatticeRPCPrefix + "." + p.HostData.ProviderKey }

// Serve serves more exports (queue group "<lattice>.<provider-key>").
func (p *Provider) Serve(exports ...wrpc.Export) error {
	s, err := p.RPC.Serve(wrpc.ServeOptions{Prefix: p.Prefix(), Queue: p.Prefix()}, exports...)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.served = append(p.served, s)
	p.mu.Unlock()
	return nil
}

// CallTimeout is the default bound of Call (the host's default_rpc_timeout_ms, else 10 s).
func (p *Provider) CallTimeout() time.Duration {
	if ms := p.HostData.DefaultRPCTimeoutMS; ms != nil && *ms > 0 {
		return time.Duration(*ms) * time.Millisecond
	}
	return 10 * time.Second
}

// Call invokes a function a component exports (a handler, a watcher, an HTTP handler), on
// whichever host runs it, with source-id (this provider) and target-id headers.
func (p *Provider) Call(ctx context.Context, componentID, instance, fn string, ft *wrpc.FuncType, args ...wrpc.Value) ([]wrpc.Value, error) {
	return p.RPC.Invoke(ctx, p.Invocation(componentID, instance, fn), ft, args)
}

// Invocation is how this provider reaches a component: for wrpchttp.Transport and the like.
func (p *Provider) Invocation(componentID, instance, fn string) wrpc.Invocation {
	return wrpc.Invocation{
		Prefix: p.HostData.LatticeRPCPrefix + "." + componentID, Instance: instance, Func: fn,
		Header:  nats.Header{"source-id": {p.HostData.ProviderKey}, "target-id": {componentID}},
		Timeout: p.CallTimeout(),
	}
}

// Caller is who made the invocation a handler serves: the source-id header ("<unknown>"
// without one, as upstream) and the link name (default "default").
func Caller(ctx context.Context) (sourceID, linkName string) {
	h := wrpc.InvocationHeader(ctx)
	sourceID, linkName = h.Get("source-id"), h.Get("link-name")
	if sourceID == "" {
		sourceID = "<unknown>"
	}
	if linkName == "" {
		linkName = "default"
	}
	return sourceID, linkName
}

// LinkFor is the link the invocation a handler serves came through: from the caller, with
// its link name, to this provider, on namespace:package.
func (p *Provider) LinkFor(ctx context.Context, namespace, pkg string) (Link, error) {
	source, name := Caller(ctx)
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, l := range p.links {
		if l.SourceID == source && l.Target == p.HostData.ProviderKey && l.name() == name &&
			l.WitNamespace == namespace && l.WitPackage == pkg {
			return l, nil
		}
	}
	return Link{}, fmt.Errorf("no link named %q from %s to %s on %s:%s", name, source, p.HostData.ProviderKey, namespace, pkg)
}

// Links lists the links the provider has now.
func (p *Provider) Links() []Link {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]Link, 0, len(p.links))
	for _, l := range p.links {
		out = append(out, l)
	}
	return out
}

func (p *Provider) rpcSubject(suffix string) string {
	return "wasmbus.rpc." + p.HostData.LatticeRPCPrefix + "." + suffix
}

func (p *Provider) subscribe() error {
	hd := p.HostData
	putKey := hd.ProviderKey
	if hd.ProviderXKeyPrivateKey != "" {
		kp, err := nkeys.FromCurveSeed([]byte(hd.ProviderXKeyPrivateKey))
		if err != nil {
			return fmt.Errorf("provider xkey in host data: %w", err)
		}
		if putKey, err = kp.PublicKey(); err != nil {
			return err
		}
	}
	subs := map[string]nats.MsgHandler{
		p.rpcSubject(hd.ProviderKey + ".health"):           p.onHealth,
		p.rpcSubject(hd.ProviderKey + ".default.shutdown"): p.onShutdown,
		p.rpcSubject(putKey + ".linkdefs.put"):             p.onLinkPut,
		p.rpcSubject(hd.ProviderKey + ".linkdefs.del"):     p.onLinkDel,
		p.rpcSubject(hd.ProviderKey + ".config.update"):    p.onConfigUpdate,
	}
	for subj, h := range subs {
		s, err := p.NC.Subscribe(subj, h)
		if err != nil {
			return fmt.Errorf("subscribing to %s: %w", subj, err)
		}
		p.subs = append(p.subs, s)
	}
	return nil
}

func (p *Provider) onHealth(m *nats.Msg) {
	healthy, msg := true, ""
	if p.opts.Health != nil {
		healthy, msg = p.opts.Health(context.Background())
	}
	b, _ := json.Marshal(struct {
		Healthy bool   `json:"healthy"`
		Message string `json:"message,omitempty"`
	}{healthy, msg})
	_ = m.Respond(b)
}

func (p *Provider) onShutdown(m *nats.Msg) {
	var req struct {
		HostID string `json:"host_id"`
	}
	if json.Unmarshal(m.Data, &req) != nil || req.HostID != p.HostData.HostID {
		return // another host's provider of the same id
	}
	p.Log.Info("shutdown requested by the host")
	p.shutdownThen(context.Background(), func() { _ = m.Respond([]byte("shutting down")) })
}

func (p *Provider) onLinkPut(m *nats.Msg) {
	var l Link
	if err := json.Unmarshal(m.Data, &l); err != nil {
		p.Log.Warn("received an invalid link definition", "err", err)
		return
	}
	p.putLink(context.Background(), l)
}

func (p *Provider) putLink(ctx context.Context, l Link) {
	k := l.key()
	p.mu.Lock()
	old, had := p.links[k]
	p.links[k] = l
	p.mu.Unlock()
	if had && sameLink(old, l) {
		return // the same link again (a restart replay, or both put subjects)
	}
	if p.opts.PutLink != nil {
		if err := p.opts.PutLink(ctx, l); err != nil {
			p.Log.Warn("link put failed", "source_id", l.SourceID, "target", l.Target, "name", l.name(), "err", err)
		}
	}
}

func sameLink(a, b Link) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func (p *Provider) onLinkDel(m *nats.Msg) {
	var l Link
	if err := json.Unmarshal(m.Data, &l); err != nil {
		p.Log.Warn("received an invalid link definition", "err", err)
		return
	}
	p.mu.Lock()
	delete(p.links, l.key())
	p.mu.Unlock()
	if p.opts.DeleteLink != nil {
		if err := p.opts.DeleteLink(context.Background(), l); err != nil {
			p.Log.Warn("link delete failed", "source_id", l.SourceID, "target", l.Target, "err", err)
		}
	}
}

func (p *Provider) onConfigUpdate(m *nats.Msg) {
	var cfg map[string]string
	if err := json.Unmarshal(m.Data, &cfg); err != nil {
		p.Log.Warn("received invalid config", "err", err)
		return
	}
	p.mu.Lock()
	p.HostData.Config = cfg
	p.mu.Unlock()
	if p.opts.UpdateConfig != nil {
		if err := p.opts.UpdateConfig(context.Background(), cfg); err != nil {
			p.Log.Warn("config update failed", "err", err)
		}
	}
}

func (p *Provider) shutdown(ctx context.Context) { p.shutdownThen(ctx, nil) }

// shutdownThen runs the provider's Shutdown, acknowledges, and closes everything (once).
func (p *Provider) shutdownThen(ctx context.Context, ack func()) {
	p.once.Do(func() {
		p.mu.RLock()
		served := p.served
		p.mu.RUnlock()
		for _, s := range served {
			s.Stop()
		}
		if p.opts.Shutdown != nil {
			if err := p.opts.Shutdown(ctx); err != nil {
				p.Log.Warn("shutdown failed", "err", err)
			}
		}
		if ack != nil {
			ack()
		}
		p.close()
	})
}

func (p *Provider) close() {
	for _, s := range p.subs {
		_ = s.Unsubscribe()
	}
	if p.RPC != nil {
		_ = p.RPC.Close()
	}
	_ = p.NC.Drain()
	select {
	case <-p.done:
	default:
		close(p.done)
	}
}

// Config returns one provider config value (case-insensitive key match, as upstream providers
// accept both "url" and "URL").
func (p *Provider) Config(key string) string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return configValue(p.HostData.Config, key)
}

func configValue(cfg map[string]string, key string) string {
	if v, ok := cfg[key]; ok {
		return v
	}
	for k, v := range cfg {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// ConfigValue reads a link config value the same way.
func ConfigValue(cfg map[string]string, key string) string { return configValue(cfg, key) }
