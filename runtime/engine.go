package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmlattice/wash/runtime/component"
	"github.com/wasmlattice/wash/runtime/linmem"
	"github.com/wasmlattice/wash/runtime/wasi"
)

// Kind says what a wasm binary is.
type Kind int

const (
	KindCoreModule Kind = iota + 1
	KindComponent
)

func (k Kind) String() string {
	switch k {
	case KindCoreModule:
		return "core module"
	case KindComponent:
		return "component"
	}
	return "unknown"
}

// Defaults mirror the wasmCloud host's (WASMCLOUD_MAX_LINEAR_MEMORY, WASMCLOUD_MAX_EXECUTION_TIME_MS).
const (
	DefaultMaxMemoryBytes   = 256 << 20
	DefaultMaxExecutionTime = 10 * time.Minute
	wasmPageSize            = 64 << 10
)

// Defaults of the instance recycling (see Options).
const (
	DefaultMaxIdleInstances    = 32
	DefaultIdleInstanceTimeout = 10 * time.Second
)

// ErrComponentsUnsupported is kept for callers that matched on it; Compile no longer returns
// it (components compile through the component layer).
var ErrComponentsUnsupported = errors.New("component-model binaries are not supported by this host yet (only WASI preview1 core modules run)")

// Options configures an Engine.
type Options struct {
	// CompilationCacheDir keeps compiled machine code across processes; empty means in memory only.
	CompilationCacheDir string
	// MaxMemoryBytes caps each linear memory of every instance.
	MaxMemoryBytes uint64
	// MaxTotalMemoryBytes bounds the linear memory of all live instances together (0:
	// unbounded). An instance whose initial memory does not fit fails to start; a guest
	// whose memory.grow would pass it gets -1, as at MaxMemoryBytes.
	MaxTotalMemoryBytes uint64
	// MaxExecutionTime bounds one invocation; the guest is interrupted when it passes.
	MaxExecutionTime time.Duration
	// MaxIdleInstances caps the reset instances each program keeps for its next calls
	// (default 32); IdleInstanceTimeout closes those unused for that long (default 10 s).
	MaxIdleInstances    int
	IdleInstanceTimeout time.Duration
	// HostInterfaces adds engine-wide host implementations of component interfaces (they
	// replace the built-in WASI ones of the same name). Per-instance ones go in
	// InstanceConfig.HostInterfaces.
	HostInterfaces []*HostInterface
}

// Engine compiles and instantiates wasm. One Engine serves a whole host; it is safe for
// concurrent use.
type Engine struct {
	// rt runs components, whose core modules carry their own interruption checks (see
	// component.instrument); coreRT runs plain core modules, which wazero interrupts itself.
	rt       wazero.Runtime
	coreRT   wazero.Runtime
	started  sync.Once // rt and coreRT are made by the first compile (see start)
	startErr error
	cfg      wazero.RuntimeConfig
	cache    wazero.CompilationCache
	opts     Options
	registry func() *component.Registry // built when the first component is compiled
	budget   *linmem.Budget

	calls    atomic.Int64 // calls in flight on instances the engine handed out (acquire..release)
	mu       sync.Mutex
	programs map[*Program]struct{} // open component programs (their idle instances expire)
	done     chan struct{}
	closed   sync.Once
}

// NewEngine builds an engine with the WASI preview1 host functions registered.
func NewEngine(ctx context.Context, opts Options) (*Engine, error) {
	if opts.MaxMemoryBytes == 0 {
		opts.MaxMemoryBytes = DefaultMaxMemoryBytes
	}
	if opts.MaxExecutionTime <= 0 {
		opts.MaxExecutionTime = DefaultMaxExecutionTime
	}
	if opts.MaxIdleInstances <= 0 {
		opts.MaxIdleInstances = DefaultMaxIdleInstances
	}
	if opts.IdleInstanceTimeout <= 0 {
		opts.IdleInstanceTimeout = DefaultIdleInstanceTimeout
	}
	pages := opts.MaxMemoryBytes / wasmPageSize
	if pages < 1 {
		pages = 1
	}
	if pages > 65536 {
		pages = 65536
	}
	cfg := wazero.NewRuntimeConfig().WithMemoryLimitPages(uint32(pages))
	var cache wazero.CompilationCache
	if opts.CompilationCacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(opts.CompilationCacheDir)
		if err != nil {
			return nil, fmt.Errorf("compilation cache %s: %w", opts.CompilationCacheDir, err)
		}
		cache = c
		cfg = cfg.WithCompilationCache(cache)
	}
	// The WASI and host interface tables are typed by parsing their WIT signatures: an idle
	// host that runs no component never needs them.
	reg := sync.OnceValue(func() *component.Registry {
		reg := component.NewRegistry(wasi.Interfaces()...)
		for _, h := range opts.HostInterfaces {
			reg.Add(h)
		}
		return reg
	})
	e := &Engine{cfg: cfg, cache: cache, opts: opts, registry: reg, budget: linmem.NewBudget(opts.MaxTotalMemoryBytes),
		programs: map[*Program]struct{}{}, done: make(chan struct{})}
	go e.sweepIdle()
	return e, nil
}

// start makes the wazero runtimes when the first binary is compiled: an idle host that runs
// nothing never loads the compiler (making them compiles the WASI preview1 host module).
func (e *Engine) start(ctx context.Context) error {
	e.started.Do(func() {
		// no WithCloseOnContextDone for components: it costs a goroutine per call and a trip
		// to Go per loop iteration; their core modules check an interrupt flag instead
		rt := wazero.NewRuntimeWithConfig(ctx, e.cfg)
		coreRT := wazero.NewRuntimeWithConfig(ctx, e.cfg.WithCloseOnContextDone(true))
		if _, err := wasi_snapshot_preview1.Instantiate(ctx, coreRT); err != nil {
			_ = rt.Close(ctx)
			_ = coreRT.Close(ctx)
			e.startErr = fmt.Errorf("registering WASI preview1: %w", err)
			return
		}
		e.rt, e.coreRT = rt, coreRT
	})
	if e.startErr == nil && e.rt == nil {
		return errors.New("the engine is closed")
	}
	return e.startErr
}

// Options returns the effective options (defaults filled in).
func (e *Engine) Options() Options { return e.opts }

// MemoryInUse is the linear memory of all live instances, in bytes, and the highest it has
// been since the engine started.
func (e *Engine) MemoryInUse() (now, peak uint64) { return e.budget.Used(), e.budget.Peak() }

// Close releases every compiled program and the cache handle.
//
// Like Program.Close it waits up to CloseGrace for running calls, and leaves the engine
// allocated if they do not end.
func (e *Engine) Close(ctx context.Context) error {
	e.closed.Do(func() { close(e.done) })
	if !waitCalls(ctx, &e.calls) {
		return errors.New("component calls are still running; the engine stays allocated")
	}
	e.mu.Lock()
	progs := e.programs
	e.programs = map[*Program]struct{}{}
	e.mu.Unlock()
	for p := range progs {
		p.closeRecyclers()
	}
	e.started.Do(func() {}) // no runtimes after Close
	var err error
	if e.rt != nil {
		err = e.rt.Close(ctx)
		if err2 := e.coreRT.Close(ctx); err == nil {
			err = err2
		}
	}
	if e.cache != nil {
		_ = e.cache.Close(ctx)
	}
	return err
}

// Detect reports what a binary is from its 8-byte preamble alone.
func Detect(wasm []byte) (Kind, error) {
	if len(wasm) < 8 {
		return 0, fmt.Errorf("not a wasm binary: %d bytes is shorter than the 8-byte header", len(wasm))
	}
	if string(wasm[:4]) != "\x00asm" {
		return 0, errors.New("not a wasm binary: missing the \\0asm magic number")
	}
	version := uint16(wasm[4]) | uint16(wasm[5])<<8
	layer := uint16(wasm[6]) | uint16(wasm[7])<<8
	switch {
	case layer == 0 && version == 1:
		return KindCoreModule, nil
	case layer == 1 && version == 0x0d:
		return KindComponent, nil
	case layer == 1:
		return 0, fmt.Errorf("unsupported component binary version 0x%x (this host reads version 0xd, the WASI 0.2 component model)", version)
	case layer == 0:
		return 0, fmt.Errorf("unsupported core wasm version %d", version)
	}
	return 0, fmt.Errorf("unsupported component binary version 0x%x (layer %d)", version, layer)
}

// Program is a compiled wasm binary ready to be instantiated any number of times.
type Program struct {
	engine *Engine
	kind   Kind
	module wazero.CompiledModule   // core modules
	memory *component.ModuleMemory // core modules: the memory they define
	comp   *component.Program      // components

	calls        atomic.Int64 // calls in flight (see Engine.calls)
	recMu        sync.Mutex
	recyclers    map[recyclerKey]*recycler
	lastIfaces   []*HostInterface // registryFor's cache
	lastRegistry *component.Registry
}

// largeBinary is the size past which Compile returns the compiler's scratch memory to the
// system when it is done: compiling a 14 MB guest leaves a few hundred MB of free heap that
// Go would otherwise hand back only gradually.
const largeBinary = 1 << 20

// Compile validates and compiles a binary. Errors are one line and safe to show to users.
func (e *Engine) Compile(ctx context.Context, wasm []byte) (*Program, error) {
	if len(wasm) >= largeBinary {
		defer func() { go debug.FreeOSMemory() }()
	}
	kind, err := Detect(wasm)
	if err != nil {
		return nil, err
	}
	if err := e.start(context.WithoutCancel(ctx)); err != nil { // the runtimes outlive this call
		return nil, err
	}
	if kind == KindComponent {
		cp, err := component.Compile(ctx, e.rt, wasm, e.registry())
		if err != nil {
			return nil, err
		}
		p := &Program{engine: e, kind: kind, comp: cp}
		e.mu.Lock()
		e.programs[p] = struct{}{}
		e.mu.Unlock()
		return p, nil
	}
	mod, mem, err := component.CompileCoreModule(ctx, e.coreRT, wasm)
	if err != nil {
		return nil, fmt.Errorf("invalid core module: %w", err)
	}
	return &Program{engine: e, kind: kind, module: mod, memory: mem}, nil
}

// Kind reports whether the program is a core module or a component.
func (p *Program) Kind() Kind { return p.kind }

// Imports lists what the program needs: for core modules the imported functions as
// module#name, for components the imported interfaces (e.g. "wasi:http/types@0.2.0").
func (p *Program) Imports() []string {
	if p.comp != nil {
		return p.comp.Imports()
	}
	var out []string
	for _, f := range p.module.ImportedFunctions() {
		mod, name, _ := f.Import()
		out = append(out, mod+"#"+name)
	}
	return out
}

// Exports lists the exported function names (core modules) or exported interface names
// (components, e.g. "wasi:http/incoming-handler@0.2.0").
func (p *Program) Exports() []string {
	if p.comp != nil {
		return p.comp.Exports()
	}
	var out []string
	for name := range p.module.ExportedFunctions() {
		out = append(out, name)
	}
	return out
}

// Close frees the compiled code.
//
// Calls still running get CloseGrace to finish: instance memories are mappings, and freeing
// one under running guest code would crash the process, so a program whose calls do not end
// in time is left allocated (and an error says so).
func (p *Program) Close(ctx context.Context) error {
	if !waitCalls(ctx, &p.calls) {
		return errors.New("component calls are still running; the program stays allocated")
	}
	if p.comp != nil {
		p.engine.mu.Lock()
		delete(p.engine.programs, p)
		p.engine.mu.Unlock()
		p.closeRecyclers()
		return p.comp.Close(ctx)
	}
	p.memory.Close()
	return p.module.Close(ctx)
}

// InstanceConfig is what one instance sees of the world.
type InstanceConfig struct {
	Args   []string
	Env    map[string]string
	Stdin  io.Reader // components only; core modules get no stdin
	Stdout io.Writer
	Stderr io.Writer
	// Config is served by wasi:config/store (components).
	Config map[string]string
	// AllowedHosts limits outbound wasi:http: "host", "host:port", "*.domain" or "*".
	// Empty denies all outbound requests.
	AllowedHosts []string
	// HTTPClient makes outbound wasi:http requests (nil: http.DefaultClient).
	HTTPClient *http.Client
	// Log receives wasi:logging/logging calls (nil: slog.Default).
	Log func(level, context, message string)
	// HostInterfaces supplies component interfaces for this instance only (capability
	// providers); they take precedence over the engine's.
	HostInterfaces []*HostInterface
	// ResolveImport supplies the imported functions nobody else provides (see ImportResolver).
	ResolveImport ImportResolver
	// MaxExecutionTime replaces Options.MaxExecutionTime for this call (0: the engine's).
	MaxExecutionTime time.Duration
	// MaxMemoryBytes narrows Options.MaxMemoryBytes for this instance's memories (0, or a
	// value above the engine's cap: the engine's cap).
	MaxMemoryBytes uint64
	// InitSnapshot lets fresh instances of a component with start functions (a Go guest's
	// runtime initialization) start from a snapshot taken once after those functions ran,
	// instead of running them for every instance. Only start functions that read nothing but
	// arguments, environment, clocks and random numbers, and keep no resources, qualify;
	// what they read is then the same for every instance (as with a build-time wizer
	// pre-initialization). Components without start functions are recycled either way.
	InitSnapshot bool
}

// Instance is one live instantiation of a Program.
type Instance struct {
	mod interface {
		Close(context.Context) error
	}
	comp *component.Instance
	ctx  context.Context
}

// Close ends the instance and frees its memory.
func (i *Instance) Close(ctx context.Context) error { return i.mod.Close(ctx) }

func (p *Program) moduleConfig(cfg InstanceConfig) wazero.ModuleConfig {
	mc := wazero.NewModuleConfig().
		WithName(""). // anonymous, so one program can have many live instances
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().
		WithRandSource(cryptoRand{}).
		WithArgs(append([]string{"wasm"}, cfg.Args...)...)
	for k, v := range cfg.Env {
		mc = mc.WithEnv(k, v)
	}
	if cfg.Stdout != nil {
		mc = mc.WithStdout(cfg.Stdout)
	}
	if cfg.Stderr != nil {
		mc = mc.WithStderr(cfg.Stderr)
	}
	return mc
}

// Instantiate creates a live instance without running any start function, which proves that
// every import links and the memory fits the cap.
func (p *Program) Instantiate(ctx context.Context, cfg InstanceConfig) (*Instance, error) {
	lim := p.limits(cfg)
	if p.comp != nil {
		ictx := wasi.WithState(ctx, cfg.state())
		ci, err := p.instantiate(ictx, cfg, lim)
		if err != nil {
			return nil, err
		}
		return &Instance{mod: ci, comp: ci, ctx: ictx}, nil
	}
	mod, err := p.instantiateCore(ctx, cfg, lim, false)
	if err != nil {
		return nil, fmt.Errorf("instantiating core module: %w", err)
	}
	return &Instance{mod: mod}, nil
}

// RunCommand runs a WASI command's _start to completion within the execution-time limit and
// returns its exit code.
func (p *Program) RunCommand(ctx context.Context, cfg InstanceConfig) (uint32, error) {
	if p.comp != nil {
		return p.runComponentCommand(ctx, cfg)
	}
	lim := p.limits(cfg)
	ctx, cancel := context.WithTimeout(ctx, lim.timeout)
	defer cancel()
	p.beginCall()
	defer p.endCall()
	mod, err := p.instantiateCore(ctx, cfg, lim, true)
	if mod != nil {
		defer mod.Close(ctx)
	}
	if err != nil {
		var exit *sys.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), nil
		}
		return 0, fmt.Errorf("running command: %w", err)
	}
	return 0, nil
}

// instantiateCore instantiates a core module with its memory bounded like a component's,
// running _start when run is set.
func (p *Program) instantiateCore(ctx context.Context, cfg InstanceConfig, lim callLimits, run bool) (api.Module, error) {
	alloc := &linmem.Allocator{Max: lim.memory, Budget: p.engine.budget, Next: p.memory.Image()}
	if n := p.memory.InitialBytes(); n > lim.memory {
		return nil, &linmem.LimitError{Limit: lim.memory, Asked: n}
	}
	if err := alloc.Reserve(p.memory.InitialBytes()); err != nil {
		return nil, err
	}
	defer alloc.Release()
	mc := p.moduleConfig(cfg)
	if !run {
		mc = mc.WithStartFunctions()
	}
	mod, err := p.engine.coreRT.InstantiateModule(experimental.WithMemoryAllocator(ctx, alloc), p.module, mc)
	if err == nil {
		err = alloc.Err()
	} else if mod == nil {
		alloc.FreeFrom(0) // the engine drops a failed module without freeing its memory
	}
	return mod, err
}

// CloseGrace bounds how long Close waits for running calls.
const CloseGrace = 10 * time.Second

// waitCalls waits until no call is in flight, for at most CloseGrace or until ctx ends.
func waitCalls(ctx context.Context, n *atomic.Int64) bool {
	deadline := time.Now().Add(CloseGrace)
	for n.Load() > 0 {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// beginCall and endCall count a call in flight on the program and its engine.
func (p *Program) beginCall() {
	p.calls.Add(1)
	p.engine.calls.Add(1)
}

func (p *Program) endCall() {
	p.calls.Add(-1)
	p.engine.calls.Add(-1)
}
