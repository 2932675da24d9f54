package host

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host/providers"
	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/oci/par"
	"github.com/wasmlattice/wash/provider/keyvalue"
	"github.com/wasmlattice/wash/runtime"
	"github.com/wasmlattice/wash/runtime/cabi"
)

// startNativeProvider fetches a provider archive, extracts this platform's binary and runs it
// under supervision (reference §6.3).
func (h *Host) startNativeProvider(ctx context.Context, cmd ctl.StartProviderCommand) error {
	fp, err := h.fetchProvider(ctx, cmd.ProviderRef)
	if errors.Is(err, par.ErrNoTarget) {
		return fmt.Errorf("%w; rebuild it with `wash par insert --arch %s`", err, par.NativeTarget())
	}
	if err != nil {
		return &fetchError{err}
	}
	bin, archive := fp.binary, fp.archive
	config, err := h.resolveConfig(ctx, cmd.Config)
	if err != nil {
		return err
	}
	if err := h.ensureSpec(ctx, cmd.ProviderID, cmd.ProviderRef); err != nil {
		return fmt.Errorf("writing provider spec: %w", err)
	}
	xk, err := nkeys.CreateCurveKeys()
	if err != nil {
		return err
	}
	xpub, _ := xk.PublicKey()
	xseed, _ := xk.Seed()
	hostX, err := h.hostXKey()
	if err != nil {
		return err
	}
	p := &provider{
		id: cmd.ProviderID, ref: normalizeProviderRef(cmd.ProviderRef), name: archive.Name,
		annotations: maps.Clone(nonNil(cmd.Annotations)), configNames: slices.Clone(cmd.Config),
	}
	p.identity = providerIdentity{xkeyPublic: xpub, jwt: archive.Token.JWT, annotations: p.annotations}
	// SECRET_ config: plaintext in HostData, fetched with the archive's claims
	secretValues, err := h.fetchSecrets(ctx, cmd.Config, p.identity.jwt, p.annotations)
	if err != nil {
		return err
	}
	if archive.Rev != nil {
		p.revision = *archive.Rev
	}
	// CLAIMS_<subject> before the process starts, as upstream (host/src/wasmbus/mod.rs:1969)
	if c := archive.Claims(); c != nil {
		if sc, ok := storedProviderClaims(*c); ok {
			if err := h.storeClaims(ctx, sc); err != nil {
				return err
			}
		}
	}
	rpcURL := h.cfg.RPCURL
	if rpcURL == "" {
		rpcURL = h.rpcConn().ConnectedUrl()
	}
	rpcTimeout := h.cfg.RPCTimeout
	if rpcTimeout <= 0 {
		rpcTimeout = providers.DefaultRPCTimeout
	}
	n, err := providers.StartNative(providers.NativeConfig{
		Binary: bin, NC: h.rpcConn(), Lattice: h.cfg.Lattice, HostID: h.id, ProviderID: cmd.ProviderID,
		XKeyPublic: xpub, RPCTimeout: rpcTimeout,
		HostData: func() (providers.HostData, error) {
			timeout := uint64(rpcTimeout / time.Millisecond)
			links := h.providerLinks(context.Background(), cmd.ProviderID, p.identity)
			p.setSent(links)
			level := h.cfg.LogLevel
			if level == "" {
				level = "info"
			}
			return providers.HostData{
				HostID: h.id, LatticeRPCPrefix: h.cfg.Lattice, LatticeRPCURL: rpcURL,
				LatticeRPCUserJWT: h.cfg.RPCUserJWT, LatticeRPCUserSeed: h.cfg.RPCUserSeed,
				ProviderKey: cmd.ProviderID, InstanceID: uuid.NewString(), LinkDefinitions: links,
				Config: config, Secrets: providerSecretValues(secretValues), HostXKeyPublicKey: hostX, ProviderXKeyPrivateKey: string(xseed),
				DefaultRPCTimeoutMS: &timeout, LogLevel: &level, OtelConfig: h.providerOtelConfig(),
			}, nil
		},
		HealthDelay: h.cfg.ProviderHealthDelay, HealthInterval: h.cfg.ProviderHealthInterval,
		RestartDelay: h.cfg.ProviderRestartDelay,
		OnHealth: func(evt string) {
			h.mu.RLock()
			running := h.providers[cmd.ProviderID]
			h.mu.RUnlock()
			if evt == providers.HealthCheckPassed && running != nil && running.native != nil {
				// A link put between HostData and the provider's first subscription is lost;
				// once it answers it listens, so it gets every link again (the SDKs ignore
				// puts they already have).
				for _, l := range h.providerLinks(context.Background(), cmd.ProviderID, running.identity) {
					if err := running.native.PutLink(l); err != nil {
						h.log.Warn("sending link to provider", "provider_id", cmd.ProviderID, "err", err)
					}
				}
			}
			h.publish(evt, events.HealthCheckData{HostID: h.id, ProviderID: cmd.ProviderID})
		},
		Log: h.log,
		// the process's output becomes host log lines carrying the provider id (wash logs --provider)
		Stdout: &logWriter{log: h.log.With("provider_id", cmd.ProviderID), stream: "stdout"},
		Stderr: &logWriter{log: h.log.With("provider_id", cmd.ProviderID), stream: "stderr"},
	})
	if err != nil {
		return err
	}
	p.stop = n.Stop
	p.native = n
	h.mu.Lock()
	h.providers[cmd.ProviderID] = p
	h.mu.Unlock()
	evt := events.ProviderStartedData{HostID: h.id, ImageRef: p.ref, ProviderID: p.id, Annotations: maps.Clone(p.annotations)}
	if c := archive.Claims(); c != nil {
		evt.Claims = eventProviderClaims(*c)
		evt.InstanceID, evt.PublicKey, evt.LinkName = p.id, p.id, "default"
	}
	h.publish(events.ProviderStarted, evt)
	return nil
}

// hostXKey is the host's xkey public key, made once; the host seals link secrets for native
// providers with its private half.
func (h *Host) hostXKey() (string, error) {
	h.xkeyOnce.Do(func() {
		h.xkey, h.xkeyErr = nkeys.CreateCurveKeys()
	})
	if h.xkeyErr != nil {
		return "", h.xkeyErr
	}
	return h.xkey.PublicKey()
}

// cacheName turns a reference into a file name: every non-alphanumeric character becomes _.
func cacheName(ref string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, strings.ToLower(ref))
}

// linkKey is a link's identity for provider delivery.
func linkKey(l providers.InterfaceLinkDefinition) string {
	return l.SourceID + "\x00" + l.Target + "\x00" + l.WitNamespace + "\x00" + l.WitPackage + "\x00" + l.Name
}

// providerLinks resolves every link where id is the source or the target, its secrets sealed
// for the provider. A link whose config or secrets cannot be resolved is left out (logged), as
// upstream.
func (h *Host) providerLinks(ctx context.Context, id string, pid providerIdentity) []providers.InterfaceLinkDefinition {
	out := []providers.InterfaceLinkDefinition{}
	for _, l := range h.allLinks() {
		if l.SourceID != id && l.Target != id {
			continue
		}
		rl, err := h.resolveLink(ctx, l)
		if err == nil {
			rl.SourceSecrets, rl.TargetSecrets, err = h.sealLinkSecrets(ctx, l, pid)
		}
		if err != nil {
			h.log.Warn("leaving out a link whose config cannot be resolved", "source", l.SourceID, "target", l.Target, "err", err)
			continue
		}
		out = append(out, rl)
	}
	return out
}

func (h *Host) resolveLink(ctx context.Context, l ctl.Link) (providers.InterfaceLinkDefinition, error) {
	sc, err := h.cachedConfig(ctx, l.SourceConfig)
	if err != nil {
		return providers.InterfaceLinkDefinition{}, err
	}
	tc, err := h.cachedConfig(ctx, l.TargetConfig)
	if err != nil {
		return providers.InterfaceLinkDefinition{}, err
	}
	return providers.InterfaceLinkDefinition{
		SourceID: l.SourceID, Target: l.Target, Name: l.Name, WitNamespace: l.WitNamespace,
		WitPackage: l.WitPackage, Interfaces: slices.Clone(l.Interfaces), SourceConfig: sc, TargetConfig: tc,
	}.Normalized(), nil
}

// publishLinkDelete tells every provider instance in the lattice, on any host, that a link is
// gone: the host serving link.del publishes the link (names only, no config or secrets) to
// wasmbus.rpc.<lattice>.<source>.linkdefs.del and ...<target>.linkdefs.del (upstream
// host/src/wasmbus/mod.rs:2482-2522). Other hosts' KV watches only push new links, so this is
// how providers on them learn of deletes.
func (h *Host) publishLinkDelete(l ctl.Link) {
	b, err := json.Marshal(providers.InterfaceLinkDefinition{
		SourceID: l.SourceID, Target: l.Target, Name: l.Name, WitNamespace: l.WitNamespace,
		WitPackage: l.WitPackage, Interfaces: l.Interfaces,
	}.Normalized())
	if err != nil {
		return
	}
	for _, id := range []string{l.SourceID, l.Target} {
		subject := "wasmbus.rpc." + h.cfg.Lattice + "." + id + ".linkdefs.del"
		if err := h.rpcConn().Publish(subject, b); err != nil {
			h.log.Warn("publishing link delete to providers", "subject", subject, "err", err)
		}
	}
}

// syncProviderLinks brings every native provider's links up to date: puts for new or changed
// links involving it. Deletes reach native providers from the host that served link.del
// (publishLinkDelete), here or elsewhere, so they are only forgotten here. Called whenever the
// link table changes. (Builtins get their link changes from setLinks directly.)
func (h *Host) syncProviderLinks() {
	h.mu.RLock()
	var natives []*provider
	for _, p := range h.providers {
		if p.native != nil {
			natives = append(natives, p)
		}
	}
	h.mu.RUnlock()
	for _, p := range natives {
		n := p.native
		want := h.providerLinks(context.Background(), p.id, p.identity)
		puts, _ := p.diffSent(want)
		for _, l := range puts {
			if err := n.PutLink(l); err != nil {
				h.log.Warn("sending link to provider", "provider_id", p.id, "err", err)
			}
		}
	}
}

// providerLinkState tracks the links a native provider has been sent.
type providerLinkState struct {
	mu   sync.Mutex
	sent map[string]providers.InterfaceLinkDefinition
}

func (s *providerLinkState) setSent(links []providers.InterfaceLinkDefinition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = map[string]providers.InterfaceLinkDefinition{}
	for _, l := range links {
		s.sent[linkKey(l)] = l
	}
}

func (s *providerLinkState) diffSent(want []providers.InterfaceLinkDefinition) (puts, dels []providers.InterfaceLinkDefinition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent == nil {
		s.sent = map[string]providers.InterfaceLinkDefinition{}
	}
	seen := map[string]bool{}
	for _, l := range want {
		k := linkKey(l)
		seen[k] = true
		if old, ok := s.sent[k]; !ok || !sameResolved(old, l) {
			puts = append(puts, l)
			s.sent[k] = l
		}
	}
	for k, l := range s.sent {
		if !seen[k] {
			dels = append(dels, l)
			delete(s.sent, k)
		}
	}
	return puts, dels
}

func sameResolved(a, b providers.InterfaceLinkDefinition) bool {
	return slices.Equal(a.Interfaces, b.Interfaces) && maps.Equal(a.SourceConfig, b.SourceConfig) && maps.Equal(a.TargetConfig, b.TargetConfig)
}

// configCache keeps resolved config briefly, so capability calls do not read CONFIGDATA on
// every invocation.
type configCache struct {
	mu      sync.Mutex
	entries map[string]configEntry
}

type configEntry struct {
	values map[string]string
	at     time.Time
}

const configCacheTTL = time.Second

func (h *Host) cachedConfig(ctx context.Context, names []string) (map[string]string, error) {
	if len(names) == 0 {
		return map[string]string{}, nil
	}
	key := strings.Join(names, "\x00")
	h.cfgCache.mu.Lock()
	e, ok := h.cfgCache.entries[key]
	h.cfgCache.mu.Unlock()
	if ok && time.Since(e.at) < configCacheTTL {
		return e.values, nil
	}
	values, err := h.resolveConfig(ctx, names)
	if err != nil {
		return nil, err
	}
	h.cfgCache.mu.Lock()
	if h.cfgCache.entries == nil {
		h.cfgCache.entries = map[string]configEntry{}
	}
	h.cfgCache.entries[key] = configEntry{values: values, at: time.Now()}
	h.cfgCache.mu.Unlock()
	return values, nil
}

// capability is where a component's calls to one capability interface go: the link
// (following wasmcloud:bus/lattice link-name overrides), the provider when it is a builtin on
// this host (served in process, the short cut), and the invocation that reaches it over wRPC
// otherwise (a native provider, or a provider on another host).
type capability struct {
	link    ctl.Link
	builtin *provider
	inv     wrpc.Invocation
}

// linkedCapability resolves a component's link for namespace:package/iface as upstream does:
// the link name set for the interface (else "default") and a link with that name listing the
// interface ("" accepts any interface of the package).
func (h *Host) linkedCapability(componentID, ns, pkg, iface string) (capability, error) {
	name := h.linkNameFor(componentID, ns+":"+pkg+"/"+iface)
	h.mu.RLock()
	defer h.mu.RUnlock()
	var link *ctl.Link
	for i, l := range h.links[componentID] {
		if l.WitNamespace == ns && l.WitPackage == pkg && linkNameOr(l.Name) == name {
			link = &h.links[componentID][i]
			break
		}
	}
	if link == nil {
		return capability{}, &providers.LinkError{Msg: fmt.Sprintf(
			"component %s has no link named %q for %s:%s; link it to a provider (wash link put %s <provider-id> %s %s --interface %s)",
			componentID, name, ns, pkg, componentID, ns, pkg, cmp.Or(iface, "..."))}
	}
	if iface != "" && !slices.Contains(link.Interfaces, iface) {
		return capability{}, &providers.LinkError{Msg: fmt.Sprintf(
			"the link %q from %s to %s on %s:%s does not list interface %s; put the link again with --interface %s",
			name, componentID, link.Target, ns, pkg, iface, iface)}
	}
	c := capability{link: *link, inv: wrpc.Invocation{
		Prefix:  h.rpcPrefix(link.Target),
		Header:  nats.Header{"source-id": {componentID}, "link-name": {name}},
		Timeout: h.callTimeout(),
	}}
	if p := h.providers[link.Target]; p != nil && p.builtin != nil {
		c.builtin = p
	}
	return c, nil
}

// unreachable turns a call to a link's target that could not be made into the error that
// fails the component's call, saying plainly when the target runs nowhere.
func (h *Host) unreachable(l ctl.Link) func(error) error {
	return func(err error) error {
		if errors.Is(err, wrpc.ErrNoResponders) {
			return &providers.LinkError{Msg: fmt.Sprintf("component %s is linked to %s for %s:%s, but %s is not running anywhere in lattice %q; start it (wash start provider ...) or link to one that runs (%v)",
				l.SourceID, l.Target, l.WitNamespace, l.WitPackage, l.Target, h.cfg.Lattice, err)}
		}
		return &providers.LinkError{Msg: err.Error()}
	}
}

// builtinAs is the builtin a capability resolved to, as the interface it must serve, with the
// link's config resolved.
func builtinAs[T any](ctx context.Context, h *Host, componentID string, c capability, what string) (T, providers.InterfaceLinkDefinition, error) {
	var zero T
	b, ok := c.builtin.builtin.(T)
	if !ok {
		return zero, providers.InterfaceLinkDefinition{}, &providers.LinkError{Msg: fmt.Sprintf(
			"component %s is linked to %s for %s, but provider %s (%s) does not serve %s",
			componentID, c.builtin.id, what, c.builtin.id, c.builtin.ref, what)}
	}
	rl, err := h.resolveLink(ctx, c.link)
	if err != nil {
		return zero, providers.InterfaceLinkDefinition{}, fmt.Errorf("link %s -> %s: %w", c.link.SourceID, c.link.Target, err)
	}
	return b, rl, nil
}

// openCapability opens the backend B behind a component's link for ns:pkg/iface: the builtin
// on this host in process, as the opener O it must be, or else remote's client that reaches
// the provider over wRPC.
func openCapability[O, B any](ctx context.Context, h *Host, componentID, ns, pkg, iface string,
	remote func(capability) B, open func(O, context.Context, providers.InterfaceLinkDefinition) (B, error)) (B, error) {
	var zero B
	c, err := h.linkedCapability(componentID, ns, pkg, iface)
	if err != nil {
		return zero, err
	}
	if c.builtin == nil {
		return remote(c), nil
	}
	o, rl, err := builtinAs[O](ctx, h, componentID, c, ns+":"+pkg)
	if err != nil {
		return zero, err
	}
	return open(o, ctx, rl)
}

// capabilityInterfaces are the host interfaces every component instance gets for the
// capabilities providers serve. They resolve the link on each call, so an instance follows
// link changes and pooled instances stay valid; a builtin on this host is called in process,
// any other provider over wRPC.
func (h *Host) capabilityInterfaces(componentID string) []*runtime.HostInterface {
	msg := providers.MessagingInterfaces(func(ctx context.Context) (providers.MessageBroker, error) {
		return openCapability(ctx, h, componentID, "wasmcloud", "messaging", "consumer",
			func(c capability) providers.MessageBroker {
				return providers.RemoteMessaging{Conn: h.rpc, Invocation: c.inv, Fail: h.unreachable(c.link)}
			},
			providers.MessagingOpener.OpenMessaging)
	})
	blob := providers.BlobstoreInterfaces(func(ctx context.Context) (providers.BlobBackend, error) {
		return openCapability(ctx, h, componentID, "wasi", "blobstore", "blobstore",
			func(c capability) providers.BlobBackend {
				return &providers.RemoteBlobs{Conn: h.rpc, Invocation: c.inv, Fail: h.unreachable(c.link)}
			},
			providers.BlobstoreOpener.OpenBlobstore)
	})
	pg := providers.PostgresInterfaces(func(ctx context.Context) (providers.PostgresBackend, error) {
		return openCapability(ctx, h, componentID, "wasmcloud", "postgres", "",
			func(c capability) providers.PostgresBackend {
				return &providers.RemotePostgres{Conn: h.rpc, Invocation: c.inv, Fail: h.unreachable(c.link)}
			},
			func(pp *providers.PostgresProvider, _ context.Context, rl providers.InterfaceLinkDefinition) (providers.PostgresBackend, error) {
				return pp.Open(rl)
			})
	})
	return slices.Concat(
		h.busInterfaces(componentID),
		h.secretsInterfaces(componentID),
		h.logBackendErrors(componentID, "wasmcloud", "postgres", pg),
		h.logBackendErrors(componentID, "wasmcloud", "messaging", msg),
		h.logBackendErrors(componentID, "wasi", "keyvalue", kvInterfaces(h, componentID)),
		h.logBackendErrors(componentID, "wasi", "blobstore", blob))
}

// logBackendErrors wraps every function of ifaces so that an error value a provider hands the
// component (Redis refusing connections, an invalid object name, a failed publish) also
// reaches the host log with the component and the provider its link names: the component may
// ignore the error or turn it into a bare 500. Errors that fail the call (a missing link) are
// logged where the invocation fails.
func (h *Host) logBackendErrors(componentID, ns, pkg string, ifaces []*runtime.HostInterface) []*runtime.HostInterface {
	out := make([]*runtime.HostInterface, len(ifaces))
	for i, hi := range ifaces {
		w := &runtime.HostInterface{Name: hi.Name, Funcs: make(map[string]runtime.HostFunc, len(hi.Funcs)), Types: hi.Types}
		for name, f := range hi.Funcs {
			function := hi.Name + "." + name
			w.Funcs[name] = func(ctx context.Context, a []cabi.Value) (cabi.Value, error) {
				ctx, end := h.capabilitySpan(ctx, componentID, function)
				v, err := f(ctx, a)
				end(err)
				if r, ok := v.(cabi.ResultValue); ok && err == nil && r.IsErr {
					providerID := ""
					h.mu.RLock()
					for _, l := range h.links[componentID] {
						if l.WitNamespace == ns && l.WitPackage == pkg {
							providerID = l.Target
							break
						}
					}
					h.mu.RUnlock()
					h.log.Warn("capability call returned an error to the component", "component_id", componentID,
						"provider_id", providerID, "function", hi.Name+"#"+name, "err", errorText(r.Value))
				}
				return v, err
			}
		}
		out[i] = w
	}
	return out
}

// errorText is the message of an interface's error value: a string (blobstore, messaging) or
// a wasi:keyvalue error variant.
func errorText(v cabi.Value) string {
	switch e := v.(type) {
	case nil:
		return "(no detail)"
	case string:
		return e
	case cabi.VariantValue:
		switch {
		case e.Value != nil:
			return errorText(e.Value)
		case e.Case == 0:
			return "no such store"
		case e.Case == 1:
			return "access denied"
		}
	}
	return fmt.Sprint(v)
}

func kvInterfaces(h *Host, componentID string) []*runtime.HostInterface {
	return providers.KeyValueInterfaces(func(ctx context.Context, identifier string) (providers.KVStore, string, error) {
		// upstream's open only names the bucket; every operation resolves its link
		return &routedKV{h: h, component: componentID}, identifier, nil
	})
}

// routedKV sends each wasi:keyvalue operation where the component's link for that interface
// points: a keyvalue builtin on this host, or a provider anywhere over wrpc:keyvalue.
type routedKV struct {
	h         *Host
	component string
}

func (r *routedKV) store(ctx context.Context, iface, identifier string) (providers.KVStore, string, error) {
	c, err := r.h.linkedCapability(r.component, "wasi", "keyvalue", iface)
	if err != nil {
		return nil, "", err
	}
	if c.builtin == nil {
		return &keyvalue.Client{Conn: r.h.rpc, Invocation: c.inv, Fail: r.h.unreachable(c.link)}, identifier, nil
	}
	kv, rl, err := builtinAs[providers.KeyValueOpener](ctx, r.h, r.component, c, "wasi:keyvalue")
	var le *providers.LinkError
	if err != nil && !errors.As(err, &le) {
		return nil, "", &providers.KVError{Case: keyvalue.CaseOther, Msg: err.Error()}
	}
	if err != nil {
		return nil, "", err
	}
	return kv.Open(ctx, rl, identifier)
}

func (r *routedKV) Get(ctx context.Context, bucket, key string) ([]byte, bool, error) {
	s, b, err := r.store(ctx, "store", bucket)
	if err != nil {
		return nil, false, err
	}
	return s.Get(ctx, b, key)
}

func (r *routedKV) Set(ctx context.Context, bucket, key string, value []byte) error {
	s, b, err := r.store(ctx, "store", bucket)
	if err != nil {
		return err
	}
	return s.Set(ctx, b, key, value)
}

func (r *routedKV) Delete(ctx context.Context, bucket, key string) error {
	s, b, err := r.store(ctx, "store", bucket)
	if err != nil {
		return err
	}
	return s.Delete(ctx, b, key)
}

func (r *routedKV) Exists(ctx context.Context, bucket, key string) (bool, error) {
	s, b, err := r.store(ctx, "store", bucket)
	if err != nil {
		return false, err
	}
	return s.Exists(ctx, b, key)
}

func (r *routedKV) ListKeys(ctx context.Context, bucket string, cursor uint64) ([]string, *uint64, error) {
	s, b, err := r.store(ctx, "store", bucket)
	if err != nil {
		return nil, nil, err
	}
	return s.ListKeys(ctx, b, cursor)
}

func (r *routedKV) Increment(ctx context.Context, bucket, key string, delta uint64) (uint64, error) {
	s, b, err := r.store(ctx, "atomics", bucket)
	if err != nil {
		return 0, err
	}
	return s.Increment(ctx, b, key, delta)
}

// deliverMessage runs the component's wasmcloud:messaging/handler for one message.
func (h *Host) deliverMessage(providerID, componentID string, msg providers.BrokerMessage) {
	h.mu.RLock()
	c := h.components[componentID]
	h.mu.RUnlock()
	if c == nil {
		// as upstream's messaging provider does: the handler runs wherever the component runs
		ctx, end := h.rpcClientSpan(context.Background(), providerID, componentID, providers.MessagingHandler, "handle-message")
		err := providers.DeliverRemote(ctx, h.rpc, wrpc.Invocation{
			Prefix: h.rpcPrefix(componentID), Timeout: h.callTimeout(),
			Header: nats.Header{"source-id": {providerID}, "target-id": {componentID}},
		}, msg)
		end(err)
		if err != nil {
			h.log.Warn("messaging handler failed", "component_id", componentID, "provider_id", providerID, "subject", msg.Subject, "err", err)
		}
		return
	}
	ctx, end := h.invocation(context.Background(), c, providers.MessagingHandler+".handle-message")
	res, err := c.program.Invoke(ctx, runtime.InstanceConfig{HostInterfaces: h.capabilityInterfaces(componentID), InitSnapshot: c.initSnap},
		providers.MessagingHandler, "handle-message", msg.Value())
	end(err)
	if err != nil {
		h.log.Warn("messaging handler failed", "component_id", componentID, "provider_id", providerID, "subject", msg.Subject, "err", err)
		return
	}
	if len(res) == 1 {
		if r, ok := res[0].(cabi.ResultValue); ok && r.IsErr {
			h.log.Warn("messaging handler returned an error", "component_id", componentID, "provider_id", providerID, "subject", msg.Subject, "err", r.Value)
		}
	}
}
