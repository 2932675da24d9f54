package host

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/lattice/buckets"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host/providers"
	"github.com/wasmlattice/wash/lattice/secrets"
	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/wrpchttp"
	"github.com/wasmlattice/wash/oci"
	"github.com/wasmlattice/wash/runtime"
)

// startBuiltin starts a wasmcloud+builtin:// provider in process. Unlike 1.9.2 no feature flag
// is needed: this host always accepts the builtins it has.
func (h *Host) startBuiltin(ctx context.Context, cmd ctl.StartProviderCommand, name string) {
	config, err := h.resolveConfig(ctx, cmd.Config)
	if err != nil {
		h.providerStartFailed(cmd, err)
		return
	}
	b, err := providers.Start(name, cmd.ProviderID, config, h.builtinDeps())
	if err != nil {
		h.providerStartFailed(cmd, err)
		return
	}
	if err := h.ensureSpec(ctx, cmd.ProviderID, cmd.ProviderRef); err != nil {
		_ = b.Stop(ctx)
		h.providerStartFailed(cmd, fmt.Errorf("writing provider spec: %w", err))
		return
	}
	select {
	case <-h.stopping:
		_ = b.Stop(ctx)
		return
	default:
	}
	p := &provider{
		id: cmd.ProviderID, ref: normalizeProviderRef(cmd.ProviderRef), name: name,
		annotations: maps.Clone(nonNil(cmd.Annotations)), builtin: b, configNames: slices.Clone(cmd.Config),
		stop: func(ctx context.Context) { _ = b.Stop(ctx) },
	}
	// Registering and replaying the links already in the lattice happen under linkMu, so a
	// link change racing with the start is delivered exactly once. provider_started goes out
	// first, then the replay, then one health report (a link the provider cannot apply makes it
	// health_check_failed): wash's wadm waits for that report before it counts the provider,
	// so an app never shows Deployed on a listener that failed to bind.
	h.linkMu.Lock()
	h.mu.Lock()
	h.providers[p.id] = p
	existing := h.providerLinksLocked(p.id)
	h.mu.Unlock()
	// image_ref is the normalised reference: the bare builtin name (upstream
	// host/src/wasmbus/mod.rs:2040-2070 reports "http-server", not the URL), or the image a
	// built-in twin stands in for
	evt := events.ProviderStartedData{
		HostID: h.id, ImageRef: p.ref, ProviderID: p.id, Annotations: nonNil(maps.Clone(p.annotations)),
		ReportsHealth: true,
	}
	if rr, err := oci.ParseResourceRef(cmd.ProviderRef); err == nil && rr.Kind != oci.RefBuiltin {
		evt.BuiltinTwin = "wasmcloud+builtin://" + name // standing in for an image it could not fetch
	}
	h.serveBuiltin(p.id, b)
	h.publish(events.ProviderStarted, evt)
	for _, l := range existing {
		h.pushLink(ctx, p, l, true)
	}
	// The health report provider_started promised (ReportsHealth): a failed link already
	// published health_check_failed; otherwise say it passed, so wadm counts the provider.
	p.healthMu.Lock()
	healthy := len(p.linkErrs) == 0
	p.healthMu.Unlock()
	if healthy {
		h.publish(events.HealthCheckPassed, events.HealthCheckData{HostID: h.id, ProviderID: p.id})
	}
	h.linkMu.Unlock()
}

// providerLinksLocked lists the links in which provider id is the source or the target, to
// hand a (re)started provider. Called with h.mu held.
func (h *Host) providerLinksLocked(id string) []ctl.Link {
	var links []ctl.Link
	for _, ls := range h.links {
		for _, l := range ls {
			if l.SourceID == id || l.Target == id {
				links = append(links, l)
			}
		}
	}
	return links
}

func (h *Host) builtinDeps() providers.Deps {
	return providers.Deps{HTTP: h, Log: h.log, NC: h.nc, JSDomain: h.cfg.JSDomain, Deliver: h.deliverMessage, HTTPClient: h.httpClient}
}

// restartBuiltin starts a builtin again with its config as it is now (its own config changed:
// an http-server's default_address or routing_mode) and hands it its links again. If the new
// config does not work, the provider stays registered and reports itself unhealthy.
// Called with linkMu held.
func (h *Host) restartBuiltin(ctx context.Context, p *provider) {
	config, err := h.resolveConfig(ctx, p.configNames)
	var b providers.Builtin
	if err == nil {
		_ = p.builtin.Stop(ctx) // first: the new one may want the same listener
		b, err = providers.Start(p.name, p.id, config, h.builtinDeps())
	}
	if err != nil {
		h.log.Warn("builtin provider cannot apply its new config", "provider_id", p.id, "err", err)
		h.setLinkHealth(p, "\x00config", true, fmt.Errorf("provider config: %w", err))
		return
	}
	h.mu.Lock()
	p.builtin = b
	p.stop = func(ctx context.Context) { _ = b.Stop(ctx) }
	h.mu.Unlock()
	h.serveBuiltin(p.id, b) // its exports now reach the new instance
	h.mu.Lock()
	links := h.providerLinksLocked(p.id)
	h.mu.Unlock()
	h.log.Info("builtin provider restarted with its new config", "provider_id", p.id)
	h.setLinkHealth(p, "\x00config", false, nil)
	for _, l := range links {
		h.pushLink(ctx, p, l, true)
	}
}

// setLinks records the links of one source (from a link put/delete here, or from the
// LATTICEDATA watch) and tells the in-process providers named by links that appeared,
// changed or went away. Calling it twice with the same links notifies nothing the second time.
// setLinks records the links of one source as of KV revision rev and tells providers what
// changed. The KV watch can deliver a revision after this host already applied a newer one
// (its own write); older revisions are ignored so links never flap back.
func (h *Host) setLinks(source string, links []ctl.Link, rev uint64) {
	h.linkMu.Lock()
	defer h.linkMu.Unlock()
	if rev != 0 && rev <= h.linkRevs[source] {
		return
	}
	if h.linkRevs == nil {
		h.linkRevs = map[string]uint64{}
	}
	h.linkRevs[source] = rev
	h.mu.Lock()
	old := h.links[source]
	h.links[source] = links
	added, removed := diffLinks(old, links)
	type note struct {
		p   *provider
		l   ctl.Link
		put bool
	}
	var notes []note
	for _, set := range []struct {
		ls  []ctl.Link
		put bool
	}{{removed, false}, {added, true}} {
		for _, l := range set.ls {
			for _, id := range uniq(l.SourceID, l.Target) {
				if p := h.providers[id]; p != nil && p.builtin != nil {
					notes = append(notes, note{p, l, set.put})
				}
			}
		}
	}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, n := range notes {
		h.pushLink(ctx, n.p, n.l, n.put)
	}
	h.syncProviderLinks() // native providers
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// diffLinks compares two link lists of one source: a link whose definition changed in any
// way (config names, interfaces) counts as removed and added.
func diffLinks(old, cur []ctl.Link) (added, removed []ctl.Link) {
	has := func(ls []ctl.Link, l ctl.Link) bool {
		return slices.ContainsFunc(ls, func(x ctl.Link) bool { return reflect.DeepEqual(x.Normalized(), l.Normalized()) })
	}
	for _, l := range cur {
		if !has(old, l) {
			added = append(added, l)
		}
	}
	for _, l := range old {
		if !has(cur, l) {
			removed = append(removed, l)
		}
	}
	return added, removed
}

// pushLink hands a link put or delete to a builtin provider. A put the provider cannot apply
// (an address in use, a missing path) makes the provider unhealthy: the host publishes
// health_check_failed, which wadm turns into a failed app status, and health_check_passed
// once every link of the provider applies again.
func (h *Host) pushLink(ctx context.Context, p *provider, l ctl.Link, put bool) {
	b := p.builtin
	pl := providers.Link{
		SourceID: l.SourceID, Target: l.Target, Name: l.Name, WitNamespace: l.WitNamespace,
		WitPackage: l.WitPackage, Interfaces: slices.Clone(l.Interfaces),
	}
	if pl.Name == "" {
		pl.Name = "default"
	}
	var err error
	if put {
		// config is resolved when the link reaches the provider, as upstream does
		if pl.SourceConfig, err = h.resolveConfig(ctx, l.SourceConfig); err == nil {
			pl.TargetConfig, err = h.resolveConfig(ctx, l.TargetConfig)
		}
		if err == nil {
			err = b.PutLink(ctx, pl)
		}
	} else {
		pl.SourceConfig, _ = h.resolveConfig(ctx, l.SourceConfig)
		pl.TargetConfig, _ = h.resolveConfig(ctx, l.TargetConfig)
		err = b.DeleteLink(ctx, pl)
	}
	if err != nil {
		h.log.Warn("builtin provider rejected a link", "source_id", l.SourceID, "target", l.Target,
			"name", l.Name, "interfaces", strings.Join(l.Interfaces, ","), "put", put, "err", err)
	}
	h.setLinkHealth(p, pl.Key(), put, err)
}

// setLinkHealth records whether a link applied and publishes the provider's health when it
// changes.
func (h *Host) setLinkHealth(p *provider, key string, put bool, err error) {
	p.healthMu.Lock()
	wasHealthy := len(p.linkErrs) == 0
	if put && err != nil {
		if p.linkErrs == nil {
			p.linkErrs = map[string]string{}
		}
		p.linkErrs[key] = err.Error()
	} else {
		delete(p.linkErrs, key)
	}
	healthy := len(p.linkErrs) == 0
	var reason string
	for _, e := range p.linkErrs {
		reason = e
		break
	}
	p.healthMu.Unlock()
	switch {
	case !healthy && (wasHealthy || put && err != nil):
		h.publish(events.HealthCheckFailed, events.HealthCheckData{HostID: h.id, ProviderID: p.id, Message: reason})
	case healthy && !wasHealthy:
		h.publish(events.HealthCheckPassed, events.HealthCheckData{HostID: h.id, ProviderID: p.id})
	}
}

// configChanged re-delivers every link that names config name to the builtin providers it
// involves (delete, then put with the new values: an http-server moves its listener) and
// sends native providers whose own config includes name their merged config on
// wasmbus.rpc.<lattice>.<provider id>.config.update, as a wasmCloud host does.
func (h *Host) configChanged(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.cfgCache.mu.Lock()
	h.cfgCache.entries = nil // resolve links with the new values
	h.cfgCache.mu.Unlock()
	h.linkMu.Lock()
	defer h.linkMu.Unlock()
	type note struct {
		p *provider
		l ctl.Link
	}
	var notes []note
	var natives, restarts []*provider
	h.mu.RLock()
	for _, ls := range h.links {
		for _, l := range ls {
			if !slices.Contains(l.SourceConfig, name) && !slices.Contains(l.TargetConfig, name) {
				continue
			}
			for _, id := range uniq(l.SourceID, l.Target) {
				if p := h.providers[id]; p != nil && p.builtin != nil {
					notes = append(notes, note{p, l})
				}
			}
		}
	}
	for _, p := range h.providers {
		switch {
		case !slices.Contains(p.configNames, name):
		case p.native != nil:
			natives = append(natives, p)
		case p.builtin != nil:
			restarts = append(restarts, p)
		}
	}
	h.mu.RUnlock()
	for _, p := range restarts {
		h.restartBuiltin(ctx, p)
	}
	for _, n := range notes {
		if slices.Contains(restarts, n.p) {
			continue // restarted with all its links
		}
		h.pushLink(ctx, n.p, n.l, false)
		h.pushLink(ctx, n.p, n.l, true)
	}
	for _, p := range natives {
		h.mu.RLock()
		merged := h.mergedConfigLocked(p.configNames)
		h.mu.RUnlock()
		if err := p.native.UpdateConfig(merged); err != nil {
			h.log.Warn("sending a config update to a provider", "provider_id", p.id, "config", name, "err", err)
		}
	}
	h.syncProviderLinks() // native providers' links whose config changed are put again
}

// ServeComponentHTTP serves one request with a component (providers.HTTPInvoker): on this
// host when it runs here, else on an instance anywhere in the lattice over wRPC.
func (h *Host) ServeComponentHTTP(ctx context.Context, id string, w http.ResponseWriter, r *http.Request) error {
	if tp := r.Header.Get(wrpc.TraceparentHeader); tp != "" {
		if _, ok := wrpc.TraceContextFrom(ctx); !ok {
			// the calls the component makes carry the request's trace context on
			ctx = wrpc.WithTraceContext(ctx, wrpc.TraceContext{Traceparent: tp, Tracestate: r.Header.Get(wrpc.TracestateHeader)})
		}
	}
	h.mu.RLock()
	local := h.components[id] != nil
	h.mu.RUnlock()
	if !local {
		return h.forwardHTTP(ctx, id, w, r)
	}
	return h.serveLocalHTTP(ctx, id, w, r)
}

// serveLocalHTTP serves one request with a component running here: it waits for one of the
// component's max_instances slots, then runs it on a pooled or fresh instance with the
// component's config, limits and outbound permission.
func (h *Host) serveLocalHTTP(ctx context.Context, id string, w http.ResponseWriter, r *http.Request) error {
	h.mu.RLock()
	c := h.components[id]
	var slots chan struct{}
	var pool *runtime.Pool
	if c != nil {
		slots, pool = c.slots, c.pool
	}
	h.mu.RUnlock()
	if c == nil {
		return fmt.Errorf("%s: %w", id, providers.ErrComponentNotFound)
	}
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-slots }()
	cfg := h.instanceConfig(c)
	ctx, w, end := h.httpInvocation(ctx, c, w, r)
	var err error
	if pool != nil {
		err = pool.HandleHTTP(ctx, w, r, cfg)
	} else {
		err = c.program.HandleHTTP(ctx, w, r, cfg)
	}
	end(err)
	return err
}

// instanceConfig is what an invocation of c sees: merged named config from CONFIGDATA (read
// now, so a config.put applies to the next call), the host log, the component's limits and
// outbound HTTP when it is linked to a running http-client.
func (h *Host) instanceConfig(c *component) runtime.InstanceConfig {
	h.mu.RLock()
	cfg := runtime.InstanceConfig{
		Config:           h.mergedConfigLocked(c.config),
		MaxExecutionTime: c.maxTime,
		MaxMemoryBytes:   c.maxMemory,
		Stdout:           c.stdout,
		Stderr:           c.stderr,
		Log:              c.logf,
		HostInterfaces:   c.ifaces,
		ResolveImport:    h.importResolver(c.id),
		InitSnapshot:     c.initSnap,
	}
	if client := h.outboundClientLocked(c.id); client != nil {
		cfg.AllowedHosts = []string{"*"}
		cfg.HTTPClient = client
	}
	h.mu.RUnlock()
	return cfg
}

func (h *Host) mergedConfigLocked(names []string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		if !secrets.IsReference(n) { // a reference's fields are not config
			maps.Copy(out, h.configs[n])
		}
	}
	return out
}

// outboundClientLocked is how a component makes outbound wasi:http requests, nil when it may
// not: its link on wasi:http/outgoing-handler names the builtin http-client on this host (the
// host's client) or a provider elsewhere, reached over wrpc:http/outgoing-handler.
func (h *Host) outboundClientLocked(id string) *http.Client {
	for _, l := range h.links[id] {
		if l.WitNamespace != "wasi" || l.WitPackage != "http" || !slices.Contains(l.Interfaces, "outgoing-handler") {
			continue
		}
		if p := h.providers[l.Target]; p != nil && p.builtin != nil {
			if p.name == providers.HTTPClientName {
				return h.httpClient
			}
			continue
		}
		inv := wrpc.Invocation{Prefix: h.rpcPrefix(l.Target), Timeout: h.callTimeout(),
			Header: nats.Header{"source-id": {id}, "link-name": {linkNameOr(l.Name)}}}
		return &http.Client{
			Transport:     &wrpchttp.Transport{Conn: h.rpc, Outgoing: true, Target: func(*http.Request) wrpc.Invocation { return inv }},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return nil
}

// watchConfigData mirrors CONFIGDATA in memory so invocations read config without a KV round
// trip. A deleted config becomes absent (its part of a merge is empty), as upstream does.
func (h *Host) watchConfigData(ctx context.Context) error {
	w, err := h.replayAndWatch(ctx, h.configData, buckets.ConfigData(h.cfg.Lattice), h.applyConfigEntry)
	h.configWatcher = w
	return err
}

func (h *Host) applyConfigEntry(e jetstream.KeyValueEntry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.Operation() != jetstream.KeyValuePut {
		delete(h.configs, e.Key())
		return
	}
	var values map[string]string
	if json.Unmarshal(e.Value(), &values) != nil {
		delete(h.configs, e.Key())
		return
	}
	h.setConfigLocked(e.Key(), values)
}

// setConfigLocked records a config's values; when they changed, running providers that use
// the config hear of it (on another goroutine: configChanged takes linkMu, which setLinks may
// hold while it waits for the KV watcher that calls this).
func (h *Host) setConfigLocked(name string, values map[string]string) {
	old, had := h.configs[name]
	h.configs[name] = values
	if had && maps.Equal(old, values) {
		return
	}
	select {
	case <-h.stopping:
		return
	default:
	}
	h.wg.Add(1)
	go func() { defer h.wg.Done(); h.configChanged(name) }()
}
