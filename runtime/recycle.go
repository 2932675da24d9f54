package runtime

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/wasmlattice/wash/runtime/component"
)

// Fresh instances are recycled: every call that asks for a fresh instance (HandleHTTP,
// Invoke, RunCommand) gets one whose whole state equals a newly made instance's, but when
// the component qualifies (see component.Template) it is an earlier instance reset to the
// template state rather than a new instantiation. Calls that end in an error, a closed or
// grown instance, never put theirs back. Idle instances are capped per program
// (Options.MaxIdleInstances) and closed after Options.IdleInstanceTimeout.

// recyclerKey: instances are interchangeable only with the same memory cap and start policy.
type recyclerKey struct {
	memory       uint64
	initSnapshot bool
}

// recycler keeps reset instances of one program for one key.
type recycler struct {
	key   recyclerKey
	ready chan struct{}       // closed once tmpl or err is set
	tmpl  *component.Template // nil when failed
	err   error               // why the program has no template (then every call instantiates)

	mu   sync.Mutex
	idle []idleInstance
}

type idleInstance struct {
	inst  *component.Instance
	since time.Time
}

// recyclerFor returns the program's recycler for a call's limits, making its template on
// first use (one instantiation, as the call would have done anyway).
func (p *Program) recyclerFor(ctx context.Context, cfg InstanceConfig, lim callLimits) *recycler {
	key := recyclerKey{memory: lim.memory, initSnapshot: cfg.InitSnapshot}
	p.recMu.Lock()
	rc := p.recyclers[key]
	if rc == nil {
		rc = &recycler{key: key, ready: make(chan struct{})}
		if p.recyclers == nil {
			p.recyclers = map[recyclerKey]*recycler{}
		}
		p.recyclers[key] = rc
		p.recMu.Unlock()
		rc.build(ctx, p, cfg, lim)
		close(rc.ready)
		return rc
	}
	p.recMu.Unlock()
	select {
	case <-rc.ready:
	case <-ctx.Done():
		return nil
	}
	return rc
}

func (rc *recycler) build(ctx context.Context, p *Program, cfg InstanceConfig, lim callLimits) {
	t, err := p.comp.NewTemplate(ctx, component.TemplateOptions{
		InstanceOptions: component.InstanceOptions{Registry: p.registryFor(cfg), MaxMemory: lim.memory, Budget: p.engine.budget},
		InitSnapshot:    cfg.InitSnapshot,
		Args:            slices.Clone(cfg.Args),
		Env:             maps.Clone(cfg.Env),
	})
	rc.tmpl, rc.err = t, err
}

// acquire returns a fresh instance for one call: a recycled one, one made from the template,
// or (when the program has no template or the call's configuration does not match it) a new
// instantiation. ctx carries the call's WASI state and deadline.
func (p *Program) acquire(ctx context.Context, cfg InstanceConfig, lim callLimits) (inst *component.Instance, rc *recycler, err error) {
	p.beginCall()
	defer func() {
		if err != nil {
			p.endCall()
		}
	}()
	return p.acquireInstance(ctx, cfg, lim)
}

func (p *Program) acquireInstance(ctx context.Context, cfg InstanceConfig, lim callLimits) (*component.Instance, *recycler, error) {
	rc := p.recyclerFor(ctx, cfg, lim)
	if rc == nil || rc.tmpl == nil || !rc.matches(cfg) {
		inst, err := p.instantiate(ctx, cfg, lim)
		return inst, nil, err
	}
	reg := p.registryFor(cfg)
	for {
		inst := rc.take()
		if inst == nil {
			break
		}
		if err := inst.Unpark(); err != nil {
			_ = inst.Close(context.Background())
			return nil, nil, err
		}
		if err := inst.Prepare(ctx, reg); err != nil {
			_ = inst.Close(context.Background())
			return nil, nil, err
		}
		return inst, rc, nil
	}
	inst, err := rc.tmpl.Instantiate(ctx, component.InstanceOptions{Registry: reg, MaxMemory: lim.memory, Budget: p.engine.budget})
	if err != nil {
		return nil, nil, err
	}
	return inst, rc, nil
}

// release ends a call's use of an instance: a recyclable one that finished cleanly is reset
// and kept (up to the idle cap), anything else is closed.
func (p *Program) release(inst *component.Instance, rc *recycler, ok bool) {
	if rc == nil || !ok || !inst.Reset() || !rc.put(inst, p.engine.opts.MaxIdleInstances) {
		_ = inst.Close(context.Background())
	}
	p.endCall()
}

// matches: a snapshot template holds what start functions read from the configuration.
func (rc *recycler) matches(cfg InstanceConfig) bool {
	if !rc.tmpl.Snapshot() {
		return true
	}
	return slices.Equal(rc.tmpl.Args, cfg.Args) && maps.Equal(rc.tmpl.Env, cfg.Env)
}

func (rc *recycler) take() *component.Instance {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := len(rc.idle)
	if n == 0 {
		return nil
	}
	it := rc.idle[n-1] // the most recently used: its page tables are warm
	rc.idle = rc.idle[:n-1]
	return it.inst
}

func (rc *recycler) put(inst *component.Instance, maxIdle int) bool {
	inst.Park()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.idle) >= maxIdle {
		return false
	}
	rc.idle = append(rc.idle, idleInstance{inst: inst, since: time.Now()})
	return true
}

// expire closes instances idle since before cutoff (the oldest sit at the front).
func (rc *recycler) expire(cutoff time.Time) {
	rc.mu.Lock()
	n := 0
	for n < len(rc.idle) && rc.idle[n].since.Before(cutoff) {
		n++
	}
	old := slices.Clone(rc.idle[:n])
	rc.idle = slices.Delete(rc.idle, 0, n)
	rc.mu.Unlock()
	for _, it := range old {
		_ = it.inst.Close(context.Background())
	}
}

func (rc *recycler) close() {
	rc.expire(time.Now().Add(time.Hour))
	if rc.tmpl != nil {
		rc.tmpl.Close()
	}
}

// IdleInstances counts the reset instances a program keeps for its next calls.
func (p *Program) IdleInstances() int {
	p.recMu.Lock()
	defer p.recMu.Unlock()
	n := 0
	for _, rc := range p.recyclers {
		rc.mu.Lock()
		n += len(rc.idle)
		rc.mu.Unlock()
	}
	return n
}

// Recyclable reports whether fresh instances of the program are recycled for calls with cfg
// (nil), or why not. It makes the template if no call did yet.
func (p *Program) Recyclable(ctx context.Context, cfg InstanceConfig) error {
	if p.comp == nil {
		return ErrNotComponent
	}
	rc := p.recyclerFor(ctx, cfg, p.limits(cfg))
	if rc == nil {
		return ctx.Err()
	}
	if rc.err != nil {
		return rc.err
	}
	if !rc.matches(cfg) {
		return errors.New("the call's arguments or environment differ from the template's")
	}
	return nil
}

func (p *Program) closeRecyclers() {
	for _, rc := range takeAll(&p.recMu, &p.recyclers) {
		<-rc.ready
		rc.close()
	}
}

// registryFor returns the registry of a call's per-instance host interfaces, the same value
// for the same interfaces (instances rebind only when it changes).
func (p *Program) registryFor(cfg InstanceConfig) *component.Registry {
	if len(cfg.HostInterfaces) == 0 {
		return nil
	}
	p.recMu.Lock()
	defer p.recMu.Unlock()
	if p.lastRegistry != nil && slices.Equal(p.lastIfaces, cfg.HostInterfaces) {
		return p.lastRegistry
	}
	p.lastIfaces = slices.Clone(cfg.HostInterfaces)
	p.lastRegistry = component.NewRegistry(cfg.HostInterfaces...)
	return p.lastRegistry
}

// sweepIdle closes instances idle for longer than the engine's timeout, every few seconds,
// until the engine closes.
func (e *Engine) sweepIdle() {
	t := time.NewTicker(e.opts.IdleInstanceTimeout / 4)
	defer t.Stop()
	for {
		select {
		case <-e.done:
			return
		case now := <-t.C:
			e.mu.Lock()
			progs := slices.Collect(maps.Keys(e.programs))
			e.mu.Unlock()
			for _, p := range progs {
				p.recMu.Lock()
				recs := slices.Collect(maps.Values(p.recyclers))
				p.recMu.Unlock()
				for _, rc := range recs {
					rc.expire(now.Add(-e.opts.IdleInstanceTimeout))
				}
			}
		}
	}
}
