package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
)

// callLimits are the effective bounds of one call: the engine's, narrowed or replaced by the
// instance's own (wasmCloud's per-component limits).
type callLimits struct {
	timeout time.Duration
	memory  uint64 // 0: only the engine's cap applies
}

func (p *Program) limits(cfg InstanceConfig) callLimits {
	l := callLimits{timeout: p.engine.opts.MaxExecutionTime}
	if cfg.MaxExecutionTime > 0 {
		l.timeout = cfg.MaxExecutionTime
	}
	if cfg.MaxMemoryBytes > 0 && cfg.MaxMemoryBytes < p.engine.opts.MaxMemoryBytes {
		l.memory = cfg.MaxMemoryBytes
	}
	return l
}

// bound applies the time limit to ctx and, for a per-instance memory cap, installs an
// allocator that refuses to grow any memory of this instance past it.
func (l callLimits) bound(ctx context.Context) (context.Context, context.CancelFunc, *memCap) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	if l.memory == 0 {
		return ctx, cancel, nil
	}
	mc := &memCap{limit: l.memory}
	return experimental.WithMemoryAllocator(ctx, mc), cancel, mc
}

// memCap allocates linear memories under a byte cap. The first allocation of a memory (its
// declared minimum) cannot fail inside wazero, so it is granted and flagged instead; the
// caller turns the flag into an instantiation error.
type memCap struct {
	limit     uint64
	overStart bool
}

func (m *memCap) Allocate(capBytes, maxBytes uint64) experimental.LinearMemory {
	return &cappedMemory{owner: m, capHint: capBytes}
}

func (m *memCap) err() error {
	if m != nil && m.overStart {
		return fmt.Errorf("the component's initial memory exceeds its memory limit of %d bytes", m.limit)
	}
	return nil
}

type cappedMemory struct {
	owner   *memCap
	capHint uint64
	buf     []byte
	started bool
}

func (c *cappedMemory) Reallocate(size uint64) []byte {
	if size > c.owner.limit {
		if c.started {
			return nil // memory.grow answers -1
		}
		c.owner.overStart = true
	}
	c.started = true
	if size <= uint64(cap(c.buf)) {
		// memories only grow, so bytes past the old length were never written: still zero
		c.buf = c.buf[:size]
		return c.buf
	}
	newCap := max(size, uint64(cap(c.buf))*2, c.capHint)
	if newCap > c.owner.limit && size <= c.owner.limit {
		newCap = c.owner.limit
	}
	nb := make([]byte, size, newCap)
	copy(nb, c.buf)
	c.buf = nb
	return nb
}

func (c *cappedMemory) Free() { c.buf = nil }

// limitErr turns an interruption by the execution-time limit into a clear error.
func (l callLimits) limitErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		var exit *sys.ExitError
		if errors.As(err, &exit) || errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("execution time limit %s exceeded: %w", l.timeout, context.DeadlineExceeded)
			}
			return fmt.Errorf("invocation canceled: %w", ctx.Err())
		}
	}
	return err
}

func (l callLimits) instErr(ctx context.Context, err error) error {
	return fmt.Errorf("instantiating component: %w", l.limitErr(ctx, err))
}
