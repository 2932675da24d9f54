package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmlattice/wash/runtime/cabi"
	"github.com/wasmlattice/wash/runtime/component"
	"github.com/wasmlattice/wash/runtime/linmem"
	"github.com/wasmlattice/wash/runtime/wasi"
)

// Aliases so hosts can implement component interfaces without importing the sub-packages.
type (
	// HostInterface is a host implementation of one component interface (see cabi.HostInterface).
	HostInterface = cabi.HostInterface
	// HostFunc implements one function of a HostInterface.
	HostFunc = cabi.HostFunc
	// Value is a component value in its Go representation (see package cabi).
	Value = cabi.Value
)

// Interface names the host drives.
const (
	HTTPIncomingHandler = "wasi:http/incoming-handler@0.2.0"
	CLIRun              = "wasi:cli/run@0.2.0"
)

var (
	// ErrNotComponent is returned by component-only entry points for core modules.
	ErrNotComponent = errors.New("not a component")
	// ErrResponseStarted wraps HandleHTTP errors that happen after the response head was
	// written: the caller can no longer answer 500.
	ErrResponseStarted = errors.New("response already started")
	// ErrUnsatisfiedImport is wrapped when a component needs an interface nobody provides.
	ErrUnsatisfiedImport = component.ErrUnsatisfiedImport
	// ErrHostMemoryLimit is wrapped when an instance cannot start because the linear memory
	// of all instances would pass Options.MaxTotalMemoryBytes: a retry may succeed later.
	ErrHostMemoryLimit = linmem.ErrHostLimit
)

func (cfg InstanceConfig) state() *wasi.State {
	return &wasi.State{
		Args:         append([]string{"wasm"}, cfg.Args...),
		Env:          cfg.Env,
		Stdin:        cfg.Stdin,
		Stdout:       cfg.Stdout,
		Stderr:       cfg.Stderr,
		Config:       cfg.Config,
		Log:          cfg.Log,
		AllowedHosts: cfg.AllowedHosts,
		HTTPClient:   cfg.HTTPClient,
	}
}

func (cfg InstanceConfig) registry() *component.Registry {
	if len(cfg.HostInterfaces) == 0 && cfg.ResolveImport == nil {
		return nil
	}
	r := component.NewRegistry(cfg.HostInterfaces...)
	r.Fallback = cfg.ResolveImport
	return r
}

// HasExport reports whether a component exports an interface compatible with name.
func (p *Program) HasExport(name string) bool {
	return p.comp != nil && p.comp.HasExport(name)
}

// HandleHTTP serves one HTTP request with a wasi:http/incoming-handler component: a fresh
// instance per call, bounded by the execution-time and memory limits (the engine's, or the
// InstanceConfig's own). On success the response has been written to w. On error (trap,
// limit, unsatisfied import, no response set) nothing was written unless the error wraps
// ErrResponseStarted; the caller answers 500. The Program stays usable either way.
func (p *Program) HandleHTTP(ctx context.Context, w http.ResponseWriter, r *http.Request, cfg InstanceConfig) error {
	if err := p.checkHTTP(); err != nil {
		return err
	}
	c, err := p.startCall(ctx, cfg)
	defer c.cancel()
	if err != nil {
		return c.lim.instErr(c.ctx, err)
	}
	err = serveHTTP(c.ictx, c.lim, c.inst, w, r)
	c.end(err == nil)
	return err
}

// call is one bounded invocation on an instance of a Program: ctx carries the deadline of
// the call's limits, ictx also the WASI state the instance reads.
type call struct {
	p         *Program
	ctx, ictx context.Context
	cancel    context.CancelFunc
	lim       callLimits
	inst      *component.Instance
	rc        *recycler
}

// startCall bounds ctx by the call's limits and takes an instance (fresh, or recycled when
// recycling is on). On error there is no instance, and the error is the instantiation's
// own; the caller still defers cancel.
func (p *Program) startCall(ctx context.Context, cfg InstanceConfig) (call, error) {
	c := call{p: p, lim: p.limits(cfg)}
	c.ctx, c.cancel = context.WithTimeout(ctx, c.lim.timeout)
	c.ictx = wasi.WithState(c.ctx, cfg.state())
	var err error
	c.inst, c.rc, err = p.acquire(c.ictx, cfg, c.lim)
	return c, err
}

// end gives the instance back: it is recycled only when the call succeeded within its
// deadline.
func (c *call) end(ok bool) {
	c.p.release(c.inst, c.rc, ok && c.ctx.Err() == nil)
}

func (p *Program) checkHTTP() error {
	if p.comp == nil {
		return fmt.Errorf("serving HTTP: %w (core modules cannot serve wasi:http)", ErrNotComponent)
	}
	if !p.comp.HasExport(HTTPIncomingHandler) {
		return fmt.Errorf("serving HTTP: the component does not export %s", HTTPIncomingHandler)
	}
	return nil
}

// serveHTTP runs incoming-handler.handle on a live instance; ctx carries the call's state and
// deadline.
func serveHTTP(ctx context.Context, lim callLimits, inst *component.Instance, w http.ResponseWriter, r *http.Request) error {
	cw := &coalescingWriter{w: w}
	defer cw.finish()
	out := wasi.NewResponseOutparam(cw)
	_, err := inst.Call(ctx, HTTPIncomingHandler, "handle", wasi.NewIncomingRequest(r), out)
	set, errCode, started := out.Result()
	wrap := func(e error) error {
		if started {
			return fmt.Errorf("%w: %w", ErrResponseStarted, e)
		}
		return e
	}
	if err != nil {
		return wrap(fmt.Errorf("component trapped while handling the request: %w", lim.limitErr(ctx, err)))
	}
	if !set {
		return errors.New("component returned without setting a response")
	}
	if errCode != nil {
		return fmt.Errorf("component answered with error-code %v", errCode)
	}
	return nil
}

// runComponentCommand runs wasi:cli/run and returns its exit code.
func (p *Program) runComponentCommand(ctx context.Context, cfg InstanceConfig) (uint32, error) {
	if !p.comp.HasExport(CLIRun) {
		return 0, fmt.Errorf("running command: the component does not export %s", CLIRun)
	}
	c, err := p.startCall(ctx, cfg)
	defer c.cancel()
	if err != nil {
		if code, ok := exitCode(err); ok {
			return code, nil
		}
		return 0, c.lim.instErr(c.ctx, err)
	}
	res, err := c.inst.Call(c.ictx, CLIRun, "run")
	c.end(err == nil)
	if err != nil {
		if code, ok := exitCode(err); ok && c.ctx.Err() == nil {
			return code, nil
		}
		return 0, fmt.Errorf("running command: %w", c.lim.limitErr(c.ctx, err))
	}
	if len(res) == 1 {
		if r, ok := res[0].(cabi.ResultValue); ok && r.IsErr {
			return 1, nil
		}
	}
	return 0, nil
}

func exitCode(err error) (uint32, bool) {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), true
	}
	return 0, false
}

// Call invokes an exported component function on a live instance: iface is the exported
// interface (semver-compatible match) or "" for a top-level function.
func (i *Instance) Call(ctx context.Context, iface, fn string, args ...Value) ([]Value, error) {
	if i.comp == nil {
		return nil, fmt.Errorf("calling %s: %w", fn, ErrNotComponent)
	}
	if i.ctx != nil {
		if s := wasi.StateFrom(i.ctx); s != nil {
			ctx = wasi.WithState(ctx, s)
		}
	}
	return i.comp.Call(ctx, iface, fn, args...)
}

// Invoke calls one exported component function on a fresh instance, bounded like HandleHTTP
// (execution time and memory), and returns its results. iface is the exported interface
// (semver-compatible match) or "" for a top-level function. Capability handlers (messaging,
// keyvalue watchers, …) use it.
func (p *Program) Invoke(ctx context.Context, cfg InstanceConfig, iface, fn string, args ...Value) ([]Value, error) {
	if p.comp == nil {
		return nil, fmt.Errorf("invoking %s: %w", fn, ErrNotComponent)
	}
	c, err := p.startCall(ctx, cfg)
	defer c.cancel()
	if err != nil {
		return nil, c.lim.instErr(c.ctx, err)
	}
	res, err := c.inst.Call(c.ictx, iface, fn, args...)
	c.end(err == nil)
	if err != nil {
		return nil, fmt.Errorf("calling %s: %w", fn, c.lim.limitErr(c.ctx, err))
	}
	return res, nil
}
