package host

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host/providers"
	"github.com/wasmlattice/wash/lattice/host/wrpcbridge"
	"github.com/wasmlattice/wash/lattice/telemetry"
	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
	"github.com/wasmlattice/wash/lattice/wrpc/wrpchttp"
	"github.com/wasmlattice/wash/runtime"
	"github.com/wasmlattice/wash/runtime/cabi"
	rtcomponent "github.com/wasmlattice/wash/runtime/component"
)

// DefaultCallTimeout bounds a call this host makes over wRPC (a component's import, the
// http-server reaching a component elsewhere) until its results (or the response head)
// arrive: upstream's invocation timeout, applied to the whole wait so a host that dies
// mid-call cannot hang the caller.
const DefaultCallTimeout = 10 * time.Second

// rpcState is what the host keeps for wRPC: the connection, the served exports of components
// and builtins, and the link-name overrides components set with wasmcloud:bus/lattice.
type rpcState struct {
	rpc       *wrpc.Conn
	servedMu  sync.Mutex
	served    map[string]*wrpc.Served // by component or provider id
	importers sync.Map                // component id -> *importer
	targetsMu sync.RWMutex
	targets   map[string]map[string]string // component id -> "ns:pkg/iface" -> link name
}

// otelPropagator carries OpenTelemetry trace context on wRPC invocations: wrpc.Carrier has the
// method set of OpenTelemetry's TextMapCarrier.
type otelPropagator struct{ p propagation.TextMapPropagator }

func (o otelPropagator) Inject(ctx context.Context, c wrpc.Carrier) { o.p.Inject(ctx, c) }
func (o otelPropagator) Extract(ctx context.Context, c wrpc.Carrier) context.Context {
	return o.p.Extract(ctx, c)
}

func (h *Host) startRPC() error {
	prop := h.cfg.Propagator
	if prop == nil && h.tel != nil && h.tel.Tracing() {
		prop = otelPropagator{telemetry.Propagator()}
	}
	// wRPC goes over the host's RPC connection (its own NATS account or server when the host
	// was given one), as upstream's rpc_nats
	c, err := wrpc.NewConn(h.rpcConn(), wrpc.Options{Propagator: prop, Log: h.log})
	if err != nil {
		return err
	}
	h.rpc = c
	h.served = map[string]*wrpc.Served{}
	h.targets = map[string]map[string]string{}
	return nil
}

func (h *Host) stopRPC() {
	h.servedMu.Lock()
	for id, s := range h.served {
		s.Stop()
		delete(h.served, id)
	}
	h.servedMu.Unlock()
	if h.rpc != nil {
		_ = h.rpc.Close()
	}
}

func (h *Host) callTimeout() time.Duration {
	if h.cfg.CallTimeout > 0 {
		return h.cfg.CallTimeout
	}
	return DefaultCallTimeout
}

// rpcPrefix is where the lattice reaches an entity: "<lattice>.<id>".
func (h *Host) rpcPrefix(id string) string { return h.cfg.Lattice + "." + id }

func (h *Host) setServed(id string, s *wrpc.Served) {
	h.servedMu.Lock()
	old := h.served[id]
	if s == nil {
		delete(h.served, id)
	} else {
		h.served[id] = s
	}
	h.servedMu.Unlock()
	if old != nil {
		old.Stop()
	}
}

// unserve stops serving a component's or provider's exports.
func (h *Host) unserve(id string) {
	h.setServed(id, nil)
	h.importers.Delete(id)
}

// rpcFuncName is the wire name of a component function: resource functions lose their
// [method]/[static]/[constructor] prefix ("[method]counter.get-count" -> "counter.get-count").
func rpcFuncName(name string) string {
	for _, p := range []string{"[constructor]", "[method]", "[static]"} {
		if strings.HasPrefix(name, p) {
			return name[len(p):]
		}
	}
	return name
}

// serveComponent serves every export of a running component on upstream's subjects,
// "<lattice>.<id>.wrpc.0.0.1.<instance>.<function>", in queue group "<lattice>.<id>", so the
// instances on every host running the component share the calls. wasi:http/incoming-handler
// is served as wrpc:http/incoming-handler@0.1.0; functions passing resources are not served
// (upstream serves exports without guest resources).
func (h *Host) serveComponent(c *component) error {
	id := c.id
	var exports []wrpc.Export
	httpDone := false
	for _, ef := range c.program.ExportedFuncs() {
		if rtcomponent.Compatible(runtime.HTTPIncomingHandler, ef.Interface) {
			if !httpDone {
				httpDone = true
				exports = append(exports, wrpc.Export{Instance: interfaces.HTTPIncomingHandler, Func: "handle",
					Type: interfaces.HTTPHandle.Type, Handler: wrpchttp.IncomingHandler(func(w http.ResponseWriter, r *http.Request) error {
						return h.serveLocalHTTP(r.Context(), id, w, r)
					})})
			}
			continue
		}
		if strings.HasPrefix(ef.Interface, "wasi:keyvalue/watcher@") {
			continue // served upstream as wrpc:keyvalue/watcher with a string bucket; not adapted here
		}
		wt := wrpcbridge.Func(ef.Type)
		if wrpcbridge.HasResources(wt) {
			h.log.Debug("not serving an exported function that passes resources over wRPC", "component_id", id,
				"function", ef.Interface+"#"+ef.Name)
			continue
		}
		exports = append(exports, wrpc.Export{Instance: ef.Interface, Func: rpcFuncName(ef.Name), Type: wt,
			Handler: h.exportHandler(id, ef.Interface, ef.Name, wt)})
	}
	if len(exports) == 0 {
		h.setServed(id, nil)
		return nil
	}
	s, err := h.rpc.Serve(wrpc.ServeOptions{Prefix: h.rpcPrefix(id), Queue: h.rpcPrefix(id), Async: true}, exports...)
	if err != nil {
		return fmt.Errorf("serving the component's exports over wRPC: %w", err)
	}
	h.setServed(id, s)
	return nil
}

// exportHandler runs one served invocation on a fresh instance of the component as it runs
// now (a rescale or update swaps it), under its max_instances slots and limits.
func (h *Host) exportHandler(id, iface, fn string, wt *wrpc.FuncType) wrpc.Handler {
	return func(ctx context.Context, args []wrpc.Value) ([]wrpc.Value, error) {
		cargs, err := wrpcbridge.ParamsFromWire(wt, args)
		if err != nil {
			return nil, err
		}
		h.mu.RLock()
		c := h.components[id]
		h.mu.RUnlock()
		if c == nil {
			return nil, fmt.Errorf("component %s is not running on this host", id)
		}
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-c.slots }()
		ctx, end := h.servedInvocation(ctx, c, iface, rpcFuncName(fn))
		res, err := c.program.Invoke(ctx, h.instanceConfig(c), iface, fn, cargs...)
		end(err)
		if err != nil {
			h.log.Warn("served invocation failed", "component_id", id, "function", iface+"#"+fn,
				"source_id", wrpc.InvocationHeader(ctx).Get("source-id"), "err", err)
			return nil, err
		}
		return wrpcbridge.Results(wt, res)
	}
}

// forwardHTTP sends a request for a component that does not run here to an instance of it on
// another host, as upstream's http-server does: wrpc:http/incoming-handler@0.1.0.handle on
// "<lattice>.<component>", with source-id (the provider, when known) and target-id.
func (h *Host) forwardHTTP(ctx context.Context, id string, w http.ResponseWriter, r *http.Request) error {
	hdr := nats.Header{"target-id": {id}}
	if src := providers.SourceIDFrom(ctx); src != "" {
		hdr.Set("source-id", src)
	}
	t := &wrpchttp.Transport{Conn: h.rpc, Target: func(*http.Request) wrpc.Invocation {
		return wrpc.Invocation{Prefix: h.rpcPrefix(id), Header: hdr, Timeout: h.callTimeout()}
	}}
	// the client span lasts until the response has been written back, body included
	ctx, end := h.forwardSpan(ctx, hdr.Get("source-id"), id, r)
	var spanErr error
	defer func() { end(spanErr) }()
	resp, err := t.RoundTrip(r.WithContext(ctx))
	spanErr = err
	switch {
	case errors.Is(err, wrpc.ErrNoResponders):
		return fmt.Errorf("%s: %w (no host in the lattice serves it)", id, providers.ErrComponentNotFound)
	case errors.Is(err, wrpc.ErrTimeout):
		return fmt.Errorf("%w: %w", providers.ErrComponentTimeout, err)
	case err != nil:
		return err
	}
	if err := wrpchttp.WriteResponse(w, resp); err != nil {
		spanErr = err
		return fmt.Errorf("%w: %w", runtime.ErrResponseStarted, err)
	}
	return nil
}

// importer routes one component's imports that nothing on this host implements to their link
// targets over wRPC, typed by the component's own WIT.
type importer struct {
	h     *Host
	id    string
	funcs sync.Map // *cabi.FuncType -> runtime.HostFunc
}

func (h *Host) importResolver(id string) runtime.ImportResolver {
	v, _ := h.importers.LoadOrStore(id, &importer{h: h, id: id})
	return v.(*importer).resolve
}

// inProcess lists the namespaces whose interfaces a wasmCloud host implements itself (and
// never sends over wRPC): an import of one this host lacks stays unsatisfied, so the
// component fails to start with a message naming it, as before.
func inProcess(iface string) bool {
	return iface == "" || strings.HasPrefix(iface, "wasi:") || strings.HasPrefix(iface, "wasmcloud:")
}

func (im *importer) resolve(iface, name string, ft *cabi.FuncType) runtime.HostFunc {
	if inProcess(iface) {
		return nil
	}
	if f, ok := im.funcs.Load(ft); ok {
		return f.(runtime.HostFunc)
	}
	wt := wrpcbridge.Func(ft)
	fn := rpcFuncName(name)
	h := im.h
	f := runtime.HostFunc(func(ctx context.Context, args []cabi.Value) (cabi.Value, error) {
		target, linkName, err := h.importTarget(im.id, iface, name)
		if err != nil {
			return nil, err
		}
		wargs, err := wrpcbridge.Params(wt, args)
		if err != nil {
			return nil, fmt.Errorf("%s#%s: %w", iface, name, err)
		}
		ctx, end := h.rpcClientSpan(ctx, im.id, target, iface, fn)
		res, err := h.rpc.Invoke(ctx, wrpc.Invocation{
			Prefix: h.rpcPrefix(target), Instance: iface, Func: fn,
			Header:  nats.Header{"source-id": {im.id}, "link-name": {linkName}},
			Timeout: h.callTimeout(),
		}, wt, wargs)
		end(err)
		if errors.Is(err, wrpc.ErrNoResponders) {
			return nil, fmt.Errorf("%s#%s: %s (link %q) is not running anywhere in lattice %q: %w", iface, name, target, linkName, h.cfg.Lattice, err)
		}
		if err != nil {
			return nil, fmt.Errorf("%s#%s on %s (link %q): %w", iface, name, target, linkName, err)
		}
		out, err := wrpcbridge.ResultsFromWire(wt, res)
		if err != nil {
			return nil, err
		}
		switch len(out) {
		case 0:
			return nil, nil
		case 1:
			return out[0], nil
		}
		return out, nil
	})
	im.funcs.Store(ft, f)
	return f
}

// linkKey is an interface without its version ("wasi:keyvalue/store@0.2.0-draft" ->
// "wasi:keyvalue/store"), the key links and link-name overrides use.
func linkKeyOf(iface string) string {
	if i := strings.IndexByte(iface, '@'); i >= 0 {
		return iface[:i]
	}
	return iface
}

// importTarget resolves where a component's call to iface goes, as upstream does: the link
// name is the one set for the interface with wasmcloud:bus/lattice (else "default"), and the
// link from the component with that name must list the interface.
func (h *Host) importTarget(id, iface, fn string) (target, linkName string, err error) {
	key := linkKeyOf(iface)
	linkName = h.linkNameFor(id, key)
	ns, rest, _ := strings.Cut(key, ":")
	pkg, name, _ := strings.Cut(rest, "/")
	h.mu.RLock()
	defer h.mu.RUnlock()
	named := false
	for _, l := range h.links[id] {
		if linkNameOr(l.Name) != linkName {
			continue
		}
		named = true
		if l.WitNamespace == ns && l.WitPackage == pkg && slices.Contains(l.Interfaces, name) {
			return l.Target, linkName, nil
		}
	}
	if !named {
		return "", linkName, &providers.LinkError{Msg: fmt.Sprintf("link `%s` not found for instance `%s`; link the component (wash link put %s <target> %s %s --interface %s)",
			linkName, key, id, ns, pkg, name)}
	}
	return "", linkName, &providers.LinkError{Msg: fmt.Sprintf("failed to call `%s` in instance `%s` (failed to find a configured link with name `%s` from component `%s`, please check your configuration)",
		rpcFuncName(fn), iface, linkName, id)}
}

func linkNameOr(n string) string {
	if n == "" {
		return "default"
	}
	return n
}

// linkNameFor is the link name a component's calls to key ("ns:pkg/iface") use.
func (h *Host) linkNameFor(id, key string) string {
	h.targetsMu.RLock()
	defer h.targetsMu.RUnlock()
	if n, ok := h.targets[id][key]; ok {
		return n
	}
	return "default"
}

// Interface names of wasmcloud:bus/lattice, and the types its functions are declared with
// (checked at link): 2.0 reports an unknown link name, 1.0 does not.
const (
	BusLatticeV1 = "wasmcloud:bus/lattice@1.0.0"
	BusLatticeV2 = "wasmcloud:bus/lattice@2.0.0"
)

var (
	busV1Types = cabi.MustScope(nil, BusLatticeV1, `resource call-target-interface`)
	busV2Types = cabi.MustScope(nil, BusLatticeV2, `resource call-target-interface`)
	busV1Sigs  = cabi.Signatures(busV1Types, map[string]string{
		"[constructor]call-target-interface": "func(namespace: string, pkg: string, iface: string) -> call-target-interface",
		"set-link-name":                      "func(name: string, interfaces: list<call-target-interface>)",
	})
	busV2Sigs = cabi.Signatures(busV2Types, map[string]string{
		"[constructor]call-target-interface": "func(namespace: string, pkg: string, iface: string) -> call-target-interface",
		"set-link-name":                      "func(name: string, interfaces: list<call-target-interface>) -> result<_, string>",
	})
)

// callTarget is the host representation of wasmcloud:bus/lattice.call-target-interface.
type callTarget struct{ namespace, pkg, iface string }

func (t *callTarget) key() string { return t.namespace + ":" + t.pkg + "/" + t.iface }

// busInterfaces implement wasmcloud:bus/lattice 1.0.0 and 2.0.x for one component: the link
// name chosen for an interface applies to the component's later calls (from every
// invocation, as upstream's shared handler does).
func (h *Host) busInterfaces(id string) []*runtime.HostInterface {
	ctor := cabi.Fn3(func(_ context.Context, ns, pkg, iface string) (*callTarget, error) {
		return &callTarget{ns, pkg, iface}, nil
	})
	targets := func(list []cabi.Value) []*callTarget {
		var ts []*callTarget
		for _, x := range list {
			if t, ok := x.(*callTarget); ok {
				ts = append(ts, t)
			}
		}
		return ts
	}
	apply := func(ts []*callTarget, name string) {
		h.targetsMu.Lock()
		defer h.targetsMu.Unlock()
		m := h.targets[id]
		if m == nil {
			m = map[string]string{}
			h.targets[id] = m
		}
		for _, t := range ts {
			if name == "default" {
				delete(m, t.key())
			} else {
				m[t.key()] = name
			}
		}
	}
	v1 := cabi.Typed(BusLatticeV1, busV1Sigs, map[string]runtime.HostFunc{
		"[constructor]call-target-interface": ctor,
		"set-link-name": cabi.Fn2(func(_ context.Context, name string, list []cabi.Value) (cabi.NoResult, error) {
			apply(targets(list), name)
			return cabi.NoResult{}, nil
		}),
	})
	v2 := cabi.Typed(BusLatticeV2, busV2Sigs, map[string]runtime.HostFunc{
		"[constructor]call-target-interface": ctor,
		"set-link-name": cabi.Fn2(func(_ context.Context, name string, list []cabi.Value) (cabi.Value, error) {
			ts := targets(list)
			for _, t := range ts {
				if !h.hasLink(id, name, t) {
					return cabi.Err(fmt.Sprintf("interface `%s` does not have an existing link with name `%s`", t.key(), name)), nil
				}
			}
			apply(ts, name)
			return cabi.Ok(nil), nil
		}),
	})
	return []*runtime.HostInterface{v1, v2}
}

func (h *Host) hasLink(id, name string, t *callTarget) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, l := range h.links[id] {
		if linkNameOr(l.Name) == name && l.WitNamespace == t.namespace && l.WitPackage == t.pkg && slices.Contains(l.Interfaces, t.iface) {
			return true
		}
	}
	return false
}

// callerLink finds the link an invocation served for provider providerID came through: from
// the invocation's source-id, named by its link-name (default "default"), on namespace:package.
func (h *Host) callerLink(providerID string) providers.CallerLink {
	return func(ctx context.Context, namespace, pkg string) (providers.InterfaceLinkDefinition, error) {
		hdr := wrpc.InvocationHeader(ctx)
		source := hdr.Get("source-id")
		name := linkNameOr(hdr.Get("link-name"))
		if source == "" {
			return providers.InterfaceLinkDefinition{}, errors.New("the invocation names no source-id: cannot tell which link it came through")
		}
		h.mu.RLock()
		var found *ctl.Link
		for i, l := range h.links[source] {
			if l.Target == providerID && linkNameOr(l.Name) == name && l.WitNamespace == namespace && l.WitPackage == pkg {
				found = &h.links[source][i]
				break
			}
		}
		h.mu.RUnlock()
		if found == nil {
			return providers.InterfaceLinkDefinition{}, fmt.Errorf("no link named %q from %s to %s on %s:%s", name, source, providerID, namespace, pkg)
		}
		return h.resolveLink(ctx, *found)
	}
}

// serveBuiltin serves a builtin's exports over wRPC under "<lattice>.<provider-id>", so
// components on any host (ours or wasmCloud's) reach it as they reach a native provider.
func (h *Host) serveBuiltin(id string, b providers.Builtin) {
	exports := h.tracedExports(id, providers.WRPCExports(b, h.callerLink(id)))
	if len(exports) == 0 {
		h.setServed(id, nil)
		return
	}
	s, err := h.rpc.Serve(wrpc.ServeOptions{Prefix: h.rpcPrefix(id), Queue: h.rpcPrefix(id), Async: true}, exports...)
	if err != nil {
		h.log.Warn("serving a builtin provider over wRPC failed", "provider_id", id, "err", err)
		return
	}
	h.setServed(id, s)
}
