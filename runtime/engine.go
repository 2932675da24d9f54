package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmlattice/wash/runtime/component"
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

// ErrComponentsUnsupported is kept for callers that matched on it; Compile no longer returns
// it (components compile through the component layer).
var ErrComponentsUnsupported = errors.New("component-model binaries are not supported by this host yet (only WASI preview1 core modules run)")

// Options configures an Engine.
type Options struct {
	// CompilationCacheDir keeps compiled machine code across processes; empty means in memory only.
	CompilationCacheDir string
	// MaxMemoryBytes caps the linear memory of every instance.
	MaxMemoryBytes uint64
	// MaxExecutionTime bounds one invocation; the guest is interrupted when it passes.
	MaxExecutionTime time.Duration
	// HostInterfaces adds engine-wide host implementations of component interfaces (they
	// replace the built-in WASI ones of the same name). Per-instance ones go in
	// InstanceConfig.HostInterfaces.
	HostInterfaces []*HostInterface
}

// Engine compiles and instantiates wasm. One Engine serves a whole host; it is safe for
// concurrent use.
type Engine struct {
	rt       wazero.Runtime
	cache    wazero.CompilationCache
	opts     Options
	registry *component.Registry
}

// NewEngine builds an engine with the WASI preview1 host functions registered.
func NewEngine(ctx context.Context, opts Options) (*Engine, error) {
	if opts.MaxMemoryBytes == 0 {
		opts.MaxMemoryBytes = DefaultMaxMemoryBytes
	}
	if opts.MaxExecutionTime <= 0 {
		opts.MaxExecutionTime = DefaultMaxExecutionTime
	}
	pages := opts.MaxMemoryBytes / wasmPageSize
	if pages < 1 {
		pages = 1
	}
	if pages > 65536 {
		pages = 65536
	}
	cfg := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(uint32(pages)).
		WithCloseOnContextDone(true)
	var cache wazero.CompilationCache
	if opts.CompilationCacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(opts.CompilationCacheDir)
		if err != nil {
			return nil, fmt.Errorf("compilation cache %s: %w", opts.CompilationCacheDir, err)
		}
		cache = c
		cfg = cfg.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("registering WASI preview1: %w", err)
	}
	reg := component.NewRegistry(wasi.Interfaces()...)
	for _, h := range opts.HostInterfaces {
		reg.Add(h)
	}
	return &Engine{rt: rt, cache: cache, opts: opts, registry: reg}, nil
}

// Options returns the effective options (defaults filled in).
func (e *Engine) Options() Options { return e.opts }

// Close releases every compiled program and the cache handle.
func (e *Engine) Close(ctx context.Context) error {
	err := e.rt.Close(ctx)
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
	module wazero.CompiledModule // core modules
	comp   *component.Program    // components
}

// Compile validates and compiles a binary. Errors are one line and safe to show to users.
func (e *Engine) Compile(ctx context.Context, wasm []byte) (*Program, error) {
	kind, err := Detect(wasm)
	if err != nil {
		return nil, err
	}
	if kind == KindComponent {
		cp, err := component.Compile(ctx, e.rt, wasm, e.registry)
		if err != nil {
			return nil, err
		}
		return &Program{engine: e, kind: kind, comp: cp}, nil
	}
	mod, err := e.rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("invalid core module: %w", err)
	}
	return &Program{engine: e, kind: kind, module: mod}, nil
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
func (p *Program) Close(ctx context.Context) error {
	if p.comp != nil {
		return p.comp.Close(ctx)
	}
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
	if p.comp != nil {
		ictx := wasi.WithState(ctx, cfg.state())
		ci, err := p.comp.Instantiate(ictx, cfg.registry())
		if err != nil {
			return nil, err
		}
		return &Instance{mod: ci, comp: ci, ctx: ictx}, nil
	}
	mod, err := p.engine.rt.InstantiateModule(ctx, p.module, p.moduleConfig(cfg).WithStartFunctions())
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
	ctx, cancel, mc := lim.bound(ctx)
	defer cancel()
	mod, err := p.engine.rt.InstantiateModule(ctx, p.module, p.moduleConfig(cfg))
	if err == nil {
		err = mc.err()
	}
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
