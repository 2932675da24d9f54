package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/secrets"
	"github.com/wasmlattice/wash/runtime"
	"github.com/wasmlattice/wash/wascap"
)

// component is one running component: a compiled program and a concurrency cap.
type component struct {
	id          string
	ref         string
	digest      string
	annotations map[string]string
	maxInst     uint32
	limits      map[string]string
	config      []string
	program     *runtime.Program
	slots       chan struct{} // max_instances concurrent invocations
	pool        *runtime.Pool // nil: a fresh instance per invocation
	initSnap    bool          // fresh instances may start from an init snapshot
	maxTime     time.Duration // from component_limits; 0: the engine's
	maxMemory   uint64        // from component_limits; 0: the engine's
	stdout      io.Writer     // guest stdout/stderr and wasi:logging go to the host log
	stderr      io.Writer
	logf        func(level, context, message string)
	// ifaces serve the capability imports (key-value, messaging) through whatever provider the
	// component's links name at call time, so they are built once per component.
	ifaces []*runtime.HostInterface

	// claims are the verified embedded claims; nil when the component is unsigned
	claims *wascap.Token[wascap.Component]
	// secrets are the values of its SECRET_ config, by secret name (wasmcloud:secrets)
	secrets map[string]secrets.Value
}

func (c *component) describe() ctl.ComponentDescription {
	d := ctl.ComponentDescription{
		ID: c.id, ImageRef: c.ref, Annotations: maps.Clone(c.annotations),
		Revision: 0, MaxInstances: c.maxInst, Limits: maps.Clone(c.limits),
	}
	// name and revision come from the embedded claims, as upstream
	if c.claims != nil && c.claims.Claims.Metadata != nil {
		m := c.claims.Claims.Metadata
		d.Name = m.Name
		if m.Rev != nil {
			d.Revision = *m.Rev
		}
	}
	return d
}

// scaledEvent is component_scaled for this component: with public_key and claims when it is
// signed (upstream host/src/wasmbus/event.rs:43-70).
func (h *Host) scaledEvent(claims *wascap.Token[wascap.Component], id, ref string, annotations map[string]string, count uint32) events.ComponentScaledData {
	d := events.ComponentScaledData{
		Annotations: nonNil(maps.Clone(annotations)), HostID: h.id, ImageRef: ref,
		MaxInstances: count, ComponentID: id,
	}
	if claims != nil {
		d.PublicKey, d.Claims = claims.Claims.Subject, eventComponentClaims(claims.Claims)
	}
	return d
}

// claimedError is a scale failure of a component whose claims were read: its event names the
// component's public key.
type claimedError struct {
	subject string
	err     error
}

func (e *claimedError) Error() string { return e.err.Error() }
func (e *claimedError) Unwrap() error { return e.err }

// claimed marks err as a failure of this (possibly signed) component.
func (c *component) claimed(err error) error {
	if c == nil || c.claims == nil {
		return err
	}
	return &claimedError{subject: c.claims.Claims.Subject, err: err}
}

func (c *component) close(context.Context) {
	if c.pool != nil {
		c.pool.Close()
	}
}

// maxPooled caps the idle instances kept per component.
const maxPooled = 32

// setup prepares the invocation side of a component: limits, log writers and the pool.
func (h *Host) setup(c *component) error {
	t, m, err := parseLimits(c.limits)
	if err != nil {
		return err
	}
	c.maxTime, c.maxMemory = t, m
	log := h.log.With("component_id", c.id)
	c.stdout = &logWriter{log: log, stream: "stdout"}
	c.stderr = &logWriter{log: log, stream: "stderr"}
	c.logf = func(level, ctxName, msg string) {
		l := slog.LevelInfo
		switch level {
		case "trace", "debug":
			l = slog.LevelDebug
		case "warn":
			l = slog.LevelWarn
		case "error", "critical":
			l = slog.LevelError
		}
		log.Log(context.Background(), l, msg, "stream", "logging", "context", ctxName)
	}
	reuse, err := annotationBool(c.annotations, AnnotationReuseInstances, h.cfg.ReuseInstances)
	if err != nil {
		return err
	}
	if c.initSnap, err = annotationBool(c.annotations, AnnotationInitSnapshot, !h.cfg.NoInitSnapshots); err != nil {
		return err
	}
	if reuse && c.program.Kind() == runtime.KindComponent && c.program.HasExport(runtime.HTTPIncomingHandler) {
		if c.pool != nil {
			c.pool.Close()
		}
		c.pool = c.program.NewPool(min(int(c.maxInst), maxPooled), 0)
	}
	return nil
}

// Component annotations that choose how invocations get instances (see Config).
const (
	// AnnotationReuseInstances "true" serves HTTP requests on reused instances: guest state
	// lives on between requests. A guest written for fresh instances can misbehave (a
	// componentize-js guest fails every second request). Default: the host's setting.
	AnnotationReuseInstances = "wash.dev/reuse-instances"
	// AnnotationInitSnapshot "false" runs a component's start functions for every fresh
	// instance; "true" lets instances start from a snapshot taken after they ran once.
	AnnotationInitSnapshot = "wash.dev/init-snapshot"
)

// annotationBool reads a "true"/"false" annotation, def when absent.
func annotationBool(ann map[string]string, key string, def bool) (bool, error) {
	v, ok := ann[key]
	if !ok {
		return def, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, fmt.Errorf("invalid annotation %s=%q: use true or false", key, v)
	}
	return b, nil
}

// parseLimits reads component_limits: max_memory_limit in bytes and max_execution_time in
// seconds (upstream's documented unit), both decimal strings.
func parseLimits(l map[string]string) (time.Duration, uint64, error) {
	var t time.Duration
	var m uint64
	if v, ok := l["max_execution_time"]; ok && strings.TrimSpace(v) != "" {
		secs, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || secs <= 0 {
			return 0, 0, fmt.Errorf("invalid component_limits max_execution_time %q: expected a positive number of seconds", v)
		}
		t = time.Duration(secs * float64(time.Second))
	}
	if v, ok := l["max_memory_limit"]; ok && strings.TrimSpace(v) != "" {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil || n == 0 {
			return 0, 0, fmt.Errorf("invalid component_limits max_memory_limit %q: expected a positive number of bytes", v)
		}
		m = n
	}
	return t, m, nil
}

// logWriter turns guest (and provider process) stdout/stderr writes into host log lines. Guests
// often write a line in pieces, so output is cut at newlines; a trailing piece without one is
// logged once no more output follows for a moment, or when it grows past maxPartialLine.
type logWriter struct {
	log    *slog.Logger
	stream string

	mu      sync.Mutex
	partial []byte
	timer   *time.Timer
}

const (
	maxPartialLine = 16 << 10
	partialFlush   = 50 * time.Millisecond
)

func (w *logWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := b
	if len(w.partial) > 0 {
		data = append(w.partial, b...)
		w.partial = nil
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		w.emit(data[:i])
		data = data[i+1:]
	}
	if len(data) >= maxPartialLine {
		w.emit(data)
		data = nil
	}
	if len(data) > 0 {
		w.partial = append([]byte(nil), data...)
		if w.timer == nil {
			w.timer = time.AfterFunc(partialFlush, w.flush)
		} else {
			w.timer.Reset(partialFlush)
		}
	}
	return len(b), nil
}

func (w *logWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.emit(w.partial)
		w.partial = nil
	}
}

func (w *logWriter) emit(line []byte) {
	line = bytes.TrimRight(line, "\r")
	if len(line) > 0 {
		w.log.Info(string(line), "stream", w.stream)
	}
}

// semaphoreSize caps the slot channel: max_instances is a concurrency limit, and u32::MAX
// means unbounded.
func semaphoreSize(n uint32) int {
	const maxSlots = 1 << 16
	if n > maxSlots {
		return maxSlots
	}
	return int(n)
}

func msDuration(ms uint64) time.Duration { return time.Duration(ms) * time.Millisecond }

func (h *Host) handleScaleComponent(data []byte) ctl.Response {
	var cmd ctl.ScaleComponentCommand
	if err := decode(data, &cmd); err != nil {
		return ctl.Fail("failed to deserialize component scale command")
	}
	cmd.ComponentID = trimmed(cmd.ComponentID)
	if cmd.ComponentID == "" {
		return ctl.Fail("failed to deserialize component scale command: component_id is required")
	}
	h.mu.RLock()
	existing := h.components[cmd.ComponentID]
	var originalRef string
	if existing != nil {
		originalRef = existing.ref
	}
	h.mu.RUnlock()
	msg := ""
	update := false
	if existing != nil && originalRef != cmd.ComponentRef {
		if cmd.AllowUpdate {
			update = true
			msg = fmt.Sprintf("Requested to scale existing component, with a changed image reference: %s != %s. The component will be scaled, and the image reference will be updated afterwards.", originalRef, cmd.ComponentRef)
		} else {
			msg = fmt.Sprintf("Requested to scale existing component to a different image reference: %s != %s. The component will be scaled but the image reference will not be updated. If you meant to update this component to a new image ref, use the update command.", originalRef, cmd.ComponentRef)
		}
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.scaleComponent(context.Background(), cmd)
		if update && cmd.Count > 0 {
			h.updateComponent(context.Background(), cmd.ComponentID, cmd.ComponentRef, cmd.Annotations)
		}
	}()
	return ctl.Success(msg)
}

func (h *Host) scaleFailed(cmd ctl.ScaleComponentCommand, err error) {
	h.log.Warn("component scale failed", "component_id", cmd.ComponentID, "ref", cmd.ComponentRef, "err", err)
	d := events.ComponentScaleFailedData{
		Annotations: nonNil(cmd.Annotations), HostID: h.id, ImageRef: cmd.ComponentRef,
		MaxInstances: cmd.Count, ComponentID: cmd.ComponentID, Error: err.Error(),
	}
	var ce *claimedError
	if errors.As(err, &ce) {
		d.PublicKey = ce.subject
	}
	h.publish(events.ComponentScaleFailed, d)
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// scaleComponent applies a scale request. Like upstream, the artifact is fetched even for a
// scale to 0, and a failure becomes component_scale_failed.
func (h *Host) scaleComponent(ctx context.Context, cmd ctl.ScaleComponentCommand) {
	unlock := h.idLocks.lock("component:" + cmd.ComponentID)
	defer unlock()

	h.mu.RLock()
	existing := h.components[cmd.ComponentID]
	h.mu.RUnlock()

	scaled := func(c *component, ref string, annotations map[string]string, count uint32) {
		var claims *wascap.Token[wascap.Component]
		if c != nil {
			claims = c.claims
		}
		h.recordMaxInstances(&component{id: cmd.ComponentID, ref: ref}, count)
		h.publish(events.ComponentScaled, h.scaledEvent(claims, cmd.ComponentID, ref, annotations, count))
	}

	if cmd.Count == 0 {
		if existing == nil {
			scaled(nil, cmd.ComponentRef, cmd.Annotations, 0)
			return
		}
		h.unserve(cmd.ComponentID)
		h.mu.Lock()
		delete(h.components, cmd.ComponentID)
		h.mu.Unlock()
		existing.close(ctx)
		scaled(existing, existing.ref, existing.annotations, 0)
		return
	}

	if existing != nil {
		// Rescale in place; the ref is kept (an update is a separate step).
		configChanged := !slices.Equal(existing.config, cmd.Config)
		secretValues := existing.secrets
		if configChanged {
			if _, err := h.resolveConfig(ctx, cmd.Config); err != nil {
				h.scaleFailed(cmd, existing.claimed(err))
				return
			}
			var err error
			if secretValues, err = h.componentSecrets(ctx, existing, cmd.Config, cmd.Annotations); err != nil {
				h.scaleFailed(cmd, existing.claimed(err))
				return
			}
		}
		limits := existing.limits
		if cmd.ComponentLimits != nil {
			limits = maps.Clone(cmd.ComponentLimits)
		}
		if _, _, err := parseLimits(limits); err != nil {
			h.scaleFailed(cmd, existing.claimed(err))
			return
		}
		// a rescale swaps in a new component value, so invocations in flight keep the one
		// they started with
		next := *existing
		next.maxInst = cmd.Count
		next.slots = make(chan struct{}, semaphoreSize(cmd.Count))
		next.config = slices.Clone(cmd.Config)
		next.secrets = secretValues
		next.limits = limits
		next.pool = nil
		// Upstream re-instantiates with the request's annotations and reference when the
		// count or the config names change (host/src/wasmbus/mod.rs:1760-1803), and the event
		// still names what ran before. wadm finds its instances by these annotations. A
		// changed reference is recorded while the old code keeps running, as upstream (the
		// reply warned; with allow_update the update to the new code follows).
		if existing.maxInst != cmd.Count || configChanged {
			next.annotations = maps.Clone(nonNil(cmd.Annotations))
			next.ref = cmd.ComponentRef
		}
		if err := h.setup(&next); err != nil {
			h.scaleFailed(cmd, existing.claimed(err))
			return
		}
		h.mu.Lock()
		h.components[cmd.ComponentID] = &next
		h.mu.Unlock()
		existing.close(ctx)
		scaled(existing, existing.ref, existing.annotations, cmd.Count)
		return
	}

	c, err := h.loadComponent(ctx, cmd.ComponentID, cmd.ComponentRef, cmd.Config)
	if err != nil {
		h.scaleFailed(cmd, err)
		return
	}
	c.annotations = maps.Clone(nonNil(cmd.Annotations))
	if c.secrets, err = h.componentSecrets(ctx, c, cmd.Config, cmd.Annotations); err != nil {
		h.scaleFailed(cmd, c.claimed(err))
		return
	}
	c.maxInst = cmd.Count
	c.slots = make(chan struct{}, semaphoreSize(cmd.Count))
	c.limits = maps.Clone(cmd.ComponentLimits)
	if err := h.setup(c); err != nil {
		h.scaleFailed(cmd, c.claimed(err))
		return
	}
	if err := h.ensureSpec(ctx, cmd.ComponentID, cmd.ComponentRef); err != nil {
		c.close(ctx)
		h.scaleFailed(cmd, c.claimed(fmt.Errorf("writing component spec: %w", err)))
		return
	}
	select {
	case <-h.stopping:
		c.close(ctx)
		return
	default:
	}
	h.mu.Lock()
	h.components[cmd.ComponentID] = c
	h.mu.Unlock()
	if err := h.serveComponent(c); err != nil {
		h.mu.Lock()
		delete(h.components, cmd.ComponentID)
		h.mu.Unlock()
		c.close(ctx)
		h.scaleFailed(cmd, err)
		return
	}
	scaled(c, c.ref, c.annotations, c.maxInst)
}

// loadComponent fetches, compiles and test-instantiates a component, so that the inventory only
// ever lists what really runs.
func (h *Host) loadComponent(ctx context.Context, id, ref string, config []string) (*component, error) {
	if _, err := h.resolveConfig(ctx, config); err != nil {
		return nil, err
	}
	wasm, err := h.fetchArtifact(ctx, ref)
	if err != nil {
		return nil, err
	}
	claims, err := componentClaims(wasm)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*component, error) {
		if claims != nil {
			return nil, &claimedError{subject: claims.Claims.Subject, err: err}
		}
		return nil, err
	}
	prog, digest, err := h.programs.get(ctx, h.engine, wasm)
	if err != nil {
		return fail(err)
	}
	ifaces := h.capabilityInterfaces(id)
	inst, err := prog.Instantiate(ctx, runtime.InstanceConfig{HostInterfaces: ifaces, ResolveImport: h.importResolver(id)})
	if err != nil {
		return fail(err)
	}
	_ = inst.Close(ctx)
	if claims != nil {
		// CLAIMS_<subject> lets claims.get on any host list the component (upstream
		// host/src/wasmbus/claims.rs:259-287, written before the component starts).
		if sc, ok := storedComponentClaims(claims.Claims); ok {
			if err := h.storeClaims(ctx, sc); err != nil {
				return fail(err)
			}
		}
	}
	return &component{id: id, ref: ref, digest: digest, program: prog, claims: claims, config: slices.Clone(config), ifaces: ifaces}, nil
}

func (h *Host) handleUpdateComponent(data []byte) ctl.Response {
	var cmd ctl.UpdateComponentCommand
	if err := decode(data, &cmd); err != nil {
		return ctl.Fail("failed to deserialize component update command")
	}
	h.mu.RLock()
	existing := h.components[cmd.ComponentID]
	h.mu.RUnlock()
	if existing == nil {
		return ctl.Fail(fmt.Sprintf("component %s not found", cmd.ComponentID))
	}
	if existing.ref == cmd.NewComponentRef {
		return ctl.Success(fmt.Sprintf("component %s already updated to %s", cmd.ComponentID, cmd.NewComponentRef))
	}
	old := existing.ref
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.updateComponent(context.Background(), cmd.ComponentID, cmd.NewComponentRef, cmd.Annotations)
	}()
	return ctl.Success(fmt.Sprintf("component %s updating from %s to %s", cmd.ComponentID, old, cmd.NewComponentRef))
}

// updateComponent swaps a running component to new code with the same count and limits. Unlike
// 1.9.2 (which stops the new instance and reports a zero count), we swap and emit one
// component_scaled for the new ref: wadm keys state by component id, so a 0 event would make it
// forget a component that runs.
func (h *Host) updateComponent(ctx context.Context, id, newRef string, annotations map[string]string) {
	unlock := h.idLocks.lock("component:" + id)
	defer unlock()
	h.mu.RLock()
	existing := h.components[id]
	h.mu.RUnlock()
	if existing == nil {
		return
	}
	next, err := h.loadComponent(ctx, id, newRef, existing.config)
	if err != nil {
		h.scaleFailed(ctl.ScaleComponentCommand{ComponentID: id, ComponentRef: newRef, Count: existing.maxInst, Annotations: annotations}, err)
		return
	}
	next.annotations = maps.Clone(nonNil(annotations))
	// the new code is another entity: its secrets are fetched with its own claims
	if next.secrets, err = h.componentSecrets(ctx, next, existing.config, annotations); err != nil {
		h.scaleFailed(ctl.ScaleComponentCommand{ComponentID: id, ComponentRef: newRef, Count: existing.maxInst, Annotations: annotations}, next.claimed(err))
		return
	}
	next.maxInst = existing.maxInst
	next.slots = make(chan struct{}, semaphoreSize(existing.maxInst))
	next.limits = existing.limits
	if err := h.setup(next); err != nil {
		h.scaleFailed(ctl.ScaleComponentCommand{ComponentID: id, ComponentRef: newRef, Count: existing.maxInst, Annotations: annotations}, next.claimed(err))
		return
	}
	h.mu.Lock()
	h.components[id] = next
	h.mu.Unlock()
	if err := h.serveComponent(next); err != nil {
		h.log.Warn("serving the updated component over wRPC failed", "component_id", id, "err", err)
	}
	existing.close(ctx)
	h.publish(events.ComponentScaled, h.scaledEvent(next.claims, id, newRef, next.annotations, next.maxInst))
}
