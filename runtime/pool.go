package runtime

import (
	"context"
	"net/http"
	"sync"

	"github.com/wasmlattice/wash/runtime/component"
	"github.com/wasmlattice/wash/runtime/wasi"
)

// Pool serves wasi:http requests on reused component instances: an instance that finished a
// request cleanly goes back to the pool and serves the next one, so a guest with an expensive
// start (a Go or JS runtime: milliseconds) pays it once instead of per request.
//
// What reuse keeps and what it does not:
//   - The guest's own state (globals, heap) survives between requests, as in any long-lived
//     reactor. Components that must start from scratch every time should use
//     Program.HandleHTTP, which is what wasmCloud does.
//   - An instance is dropped, never reused, after a trap, a limit hit (time or memory), a
//     request that ended without a response, or when it holds more live resource handles
//     after a request than after its first one (a leak).
//   - Args, Env, Stdin/Stdout/Stderr, HostInterfaces and MaxMemoryBytes are fixed when an
//     instance is created; Config, Log, AllowedHosts, HTTPClient and MaxExecutionTime apply
//     per call. A caller that changes the former must Drain the pool.
//   - An instance serves at most MaxUses requests, then is replaced.
//
// A Pool is safe for concurrent use; each instance serves one request at a time. Idle
// instances are capped at Size; concurrency is the caller's to bound.
type Pool struct {
	prog    *Program
	size    int
	maxUses int

	mu     sync.Mutex
	idle   []*pooledInstance
	closed bool
}

type pooledInstance struct {
	inst     *component.Instance
	uses     int
	baseline int // live handles after the first request (adapters cache stdio streams)
}

// DefaultPoolMaxUses bounds how many requests one pooled instance serves.
const DefaultPoolMaxUses = 10000

// NewPool makes a pool keeping at most size idle instances (size < 1 means 1), each reused for
// at most maxUses requests (0: DefaultPoolMaxUses).
func (p *Program) NewPool(size, maxUses int) *Pool {
	if size < 1 {
		size = 1
	}
	if maxUses <= 0 {
		maxUses = DefaultPoolMaxUses
	}
	return &Pool{prog: p, size: size, maxUses: maxUses}
}

// HandleHTTP serves one request like Program.HandleHTTP, on a pooled instance when one is idle.
func (pl *Pool) HandleHTTP(ctx context.Context, w http.ResponseWriter, r *http.Request, cfg InstanceConfig) error {
	p := pl.prog
	if err := p.checkHTTP(); err != nil {
		return err
	}
	lim := p.limits(cfg)
	p.beginCall()
	defer p.endCall()
	pi := pl.take()
	if pi == nil {
		// instantiation is bounded like a call; the memory cap stays with the instance
		ictx, cancel := context.WithTimeout(ctx, lim.timeout)
		inst, err := p.instantiate(wasi.WithState(ictx, cfg.state()), cfg, lim)
		cancel()
		if err != nil {
			return lim.instErr(ictx, err)
		}
		pi = &pooledInstance{inst: inst, baseline: -1}
	}
	cctx, cancel := context.WithTimeout(ctx, lim.timeout)
	defer cancel()
	err := serveHTTP(wasi.WithState(cctx, cfg.state()), lim, pi.inst, w, r)
	pi.uses++
	live := pi.inst.Table().Len()
	if pi.baseline < 0 {
		pi.baseline = live
	}
	if err != nil || cctx.Err() != nil || live > pi.baseline || pi.uses >= pl.maxUses || !pl.put(pi) {
		_ = pi.inst.Close(context.Background())
	}
	return err
}

func (pl *Pool) take() *pooledInstance {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if n := len(pl.idle); n > 0 {
		pi := pl.idle[n-1]
		pl.idle = pl.idle[:n-1]
		return pi
	}
	return nil
}

func (pl *Pool) put(pi *pooledInstance) bool {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.closed || len(pl.idle) >= pl.size {
		return false
	}
	pl.idle = append(pl.idle, pi)
	return true
}

// takeAll empties a collection (slice or map) under mu and returns what it held, to be
// closed outside the lock.
func takeAll[C any](mu *sync.Mutex, c *C) C {
	mu.Lock()
	defer mu.Unlock()
	all := *c
	var empty C
	*c = empty
	return all
}

// Drain closes every idle instance; later requests start fresh ones.
func (pl *Pool) Drain() {
	for _, pi := range takeAll(&pl.mu, &pl.idle) {
		_ = pi.inst.Close(context.Background())
	}
}

// Close drains the pool and stops it from keeping instances.
func (pl *Pool) Close() {
	pl.mu.Lock()
	pl.closed = true
	pl.mu.Unlock()
	pl.Drain()
}

// Idle reports how many instances wait in the pool.
func (pl *Pool) Idle() int {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return len(pl.idle)
}
