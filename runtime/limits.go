package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmlattice/wash/runtime/component"
)

// callLimits are the effective bounds of one call: the engine's, narrowed or replaced by the
// instance's own (wasmCloud's per-component limits).
type callLimits struct {
	timeout time.Duration
	memory  uint64 // cap of each linear memory, bytes
}

func (p *Program) limits(cfg InstanceConfig) callLimits {
	l := callLimits{timeout: p.engine.opts.MaxExecutionTime, memory: p.engine.opts.MaxMemoryBytes}
	if cfg.MaxExecutionTime > 0 {
		l.timeout = cfg.MaxExecutionTime
	}
	if cfg.MaxMemoryBytes > 0 && cfg.MaxMemoryBytes < l.memory {
		l.memory = cfg.MaxMemoryBytes
	}
	return l
}

// instantiate makes the component instance of one call. ctx carries the call's state and
// deadline; the memory bounds go to the instance's allocator.
func (p *Program) instantiate(ctx context.Context, cfg InstanceConfig, lim callLimits) (*component.Instance, error) {
	return p.comp.Instantiate(ctx, component.InstanceOptions{
		Registry:  cfg.registry(),
		MaxMemory: lim.memory,
		Budget:    p.engine.budget,
	})
}

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
