package component

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmlattice/wash/runtime/cabi"
	"github.com/wasmlattice/wash/runtime/linmem"
)

type instKey struct{}

// Instance is one live instantiation of a Program. Not safe for concurrent use.
type Instance struct {
	p      *Program
	mods   []api.Module
	table  cabi.HandleTable
	funcs  []cabi.HostFunc
	bound  *Registry // the per-call registry funcs were resolved with
	alloc  *linmem.Allocator
	tmpl   *Template       // set for instances made from a template (recyclable)
	cxFree []*cabi.Context // spare canonical-ABI contexts
	// trace, when set, sees every call of an imported function with the live handles before
	// and after it (templates use it while start functions run)
	trace  func(s *importSlot, before, after []uint32)
	closed bool
	// wazero builds a new api.Function on every ExportedFunction call; cache them
	fnCache  map[coreRef]api.Function
	memCache map[coreRef]api.Memory
	// set when yield trapped the guest because its call's context ended (see instrument)
	tripped  atomic.Bool
	exitCode atomic.Uint32
}

// FromContext returns the component instance a host function is being called for.
func FromContext(ctx context.Context) *Instance {
	i, _ := ctx.Value(instKey{}).(*Instance)
	return i
}

// Table is the instance's resource handle table.
func (i *Instance) Table() *cabi.HandleTable { return &i.table }

// TrapError is a guest trap (or a host function failure inside a guest call). Error gives
// one line; Trace has wazero's full message with the wasm stack trace.
type TrapError struct{ Err error }

func (e *TrapError) Error() string {
	msg := e.Err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return "guest trapped: " + msg
}

// Unwrap exposes the underlying error (e.g. a *sys.ExitError from wasi:cli/exit).
func (e *TrapError) Unwrap() error { return e.Err }

// Trace is the full error text including the wasm stack trace.
func (e *TrapError) Trace() string { return e.Err.Error() }

// ErrUnsatisfiedImport is wrapped when a component imports functions no host interface provides.
var ErrUnsatisfiedImport = errors.New("unsatisfied component import")

func (i *Instance) withCtx(ctx context.Context) context.Context {
	if FromContext(ctx) == i {
		return ctx
	}
	return context.WithValue(ctx, instKey{}, i)
}

// cabiContext returns a canonical-ABI context for one lift or lower; putCabi gives it back.
// Calls nest (a host function calling the guest's realloc), so instances keep a few.
func (i *Instance) cabiContext(ctx context.Context, mem *coreRef, realloc *coreRef, enc cabi.Encoding) *cabi.Context {
	var cx *cabi.Context
	if n := len(i.cxFree); n > 0 {
		cx = i.cxFree[n-1]
		i.cxFree = i.cxFree[:n-1]
	} else {
		cx = &cabi.Context{}
	}
	cx.Reuse(ctx, i.memory(mem), i.optFunc(realloc), enc, &i.table)
	return cx
}

func (i *Instance) putCabi(cx *cabi.Context) {
	cx.Ctx = nil
	i.cxFree = append(i.cxFree, cx)
}

func (i *Instance) resolve(name string) api.Module {
	if name == hostImportName {
		return i.p.hostResolved
	}
	if !strings.HasPrefix(name, "#s") {
		return nil // the host module under its store name
	}
	n, err := strconv.Atoi(name[2:])
	if err != nil || n < 0 || n >= len(i.mods) {
		return nil
	}
	return i.mods[n]
}

// InstanceOptions are the per-instance inputs of Instantiate.
type InstanceOptions struct {
	// Registry supplies host interfaces for this instance only, ahead of the program's.
	Registry *Registry
	// MaxMemory caps each linear memory of the instance, in bytes (0: the engine's cap).
	MaxMemory uint64
	// Budget, when set, bounds the linear memory of all instances together.
	Budget *linmem.Budget
}

// Instantiate creates an instance: resolves every used import against o.Registry (first) and
// the program's registry, then instantiates the core modules in order (running their start
// functions, e.g. a Go guest's _initialize). Memories start as private copy-on-write
// mappings of the images prepared at compile time. ctx is also what host functions see
// during start.
func (p *Program) Instantiate(ctx context.Context, o InstanceOptions) (*Instance, error) {
	return p.instantiate(ctx, o, nil, nil)
}

// resolve finds the host function of every used import: extra first, then the program's
// defaults.
func (p *Program) resolve(extra *Registry) ([]cabi.HostFunc, error) {
	funcs := p.defaults
	if extra != nil {
		funcs = make([]cabi.HostFunc, len(p.imports))
		copy(funcs, p.defaults)
		for _, s := range p.imports {
			if !s.used {
				continue
			}
			if f, ft := extra.lookupDecl(s.iface, s.name); f != nil {
				if err := checkImport(s.iface, s.name, ft, s.typ); err != nil {
					return nil, err
				}
				funcs[s.idx] = f
			} else if funcs[s.idx] == nil && extra.Fallback != nil {
				funcs[s.idx] = extra.Fallback(s.iface, s.name, s.typ)
			}
		}
	}
	var missing []string
	for _, s := range p.imports {
		if s.used && funcs[s.idx] == nil {
			missing = append(missing, s.iface+"#"+s.name)
		}
	}
	if len(missing) > 0 {
		if len(missing) > 5 {
			missing = append(missing[:5], fmt.Sprintf("and %d more", len(missing)-5))
		}
		return nil, fmt.Errorf("%w: the host provides no %s", ErrUnsatisfiedImport, strings.Join(missing, ", "))
	}
	return funcs, nil
}

// instantiate makes an instance, from scratch (t nil) or in a template's state; hook may
// adjust the instance before any core module is instantiated.
func (p *Program) instantiate(ctx context.Context, o InstanceOptions, t *Template, hook func(*Instance)) (inst *Instance, err error) {
	largest, initial := p.largestMemory, p.initialMemory
	if t != nil {
		initial, largest = t.InitialMemory()
	}
	if o.MaxMemory > 0 && largest > o.MaxMemory {
		return nil, &linmem.LimitError{Limit: o.MaxMemory, Asked: largest}
	}
	funcs, err := p.resolve(o.Registry)
	if err != nil {
		return nil, err
	}
	i := &Instance{p: p, mods: make([]api.Module, 0, len(p.steps)), funcs: funcs, bound: o.Registry}
	if hook != nil {
		hook(i)
	}
	i.table.DropGuest = i.dropGuest
	i.alloc = &linmem.Allocator{Max: o.MaxMemory, Budget: o.Budget}
	if err := i.alloc.Reserve(initial); err != nil {
		return nil, err
	}
	defer i.alloc.Release()
	ictx := experimental.WithMemoryAllocator(experimental.WithImportResolver(i.withCtx(ctx), i.resolve), i.alloc)
	for n, st := range p.steps {
		cm := p.compiled[st.compiled]
		mod := cm.compiled
		i.alloc.Next = cm.mem.image
		if t != nil {
			i.alloc.Next = t.images[n]
			if t.snapshot && cm.noStart != nil {
				mod = cm.noStart
			}
		}
		mark := i.alloc.Count()
		m, err := p.rt.InstantiateModule(ictx, mod, p.modCfg)
		if err == nil {
			i.mods = append(i.mods, m)
			err = i.alloc.Err()
		} else {
			i.alloc.FreeFrom(mark)
			err = i.trapErr(err)
		}
		if err != nil {
			_ = i.Close(ctx)
			return nil, fmt.Errorf("instantiating core instance %d: %w", n, err)
		}
	}
	return i, nil
}

// Close ends the instance: frees its modules and releases every host resource it still holds.
func (i *Instance) Close(ctx context.Context) error {
	if i.closed {
		return nil
	}
	i.closed = true
	for k := len(i.mods) - 1; k >= 0; k-- {
		_ = i.mods[k].Close(ctx)
	}
	i.table.DropAll()
	return nil
}

// trapErr wraps a failed guest call: the trap of an interrupted instance becomes the exit
// error wazero reports for a call that ran out of time or was canceled.
func (i *Instance) trapErr(err error) error {
	if i.tripped.Load() {
		return sys.NewExitError(i.exitCode.Load())
	}
	return &TrapError{Err: err}
}

func (i *Instance) dropGuest(ctx context.Context, rt *cabi.ResourceType, rep uint32) {
	if rt.ID >= len(i.p.guestRes) {
		return
	}
	g := i.p.guestRes[rt.ID]
	if g.dtor == nil {
		return
	}
	f := i.function(*g.dtor)
	if _, err := f.Call(i.withCtx(ctx), uint64(rep)); err != nil {
		panic(err)
	}
}

func (i *Instance) module(step int) api.Module {
	if step < 0 {
		return i.p.host
	}
	if step >= len(i.mods) {
		panic(&cabi.Trap{Msg: fmt.Sprintf("core instance %d used before it was instantiated", step)})
	}
	return i.mods[step]
}

// cachedExport looks a core export up once per instance (calls ask for the same functions
// and memories every time); a missing one traps the call.
func cachedExport[T any](i *Instance, cache *map[coreRef]T, r coreRef, what string, lookup func(api.Module, string) T) T {
	if v, ok := (*cache)[r]; ok {
		return v
	}
	v := lookup(i.module(r.Step), r.Name)
	if any(v) == nil {
		panic(&cabi.Trap{Msg: fmt.Sprintf("core %s %q not found", what, r.Name)})
	}
	if *cache == nil {
		*cache = map[coreRef]T{}
	}
	(*cache)[r] = v
	return v
}

func (i *Instance) function(r coreRef) api.Function {
	return cachedExport(i, &i.fnCache, r, "function", api.Module.ExportedFunction)
}

func (i *Instance) memory(r *coreRef) api.Memory {
	if r == nil {
		return nil
	}
	return cachedExport(i, &i.memCache, *r, "memory", api.Module.ExportedMemory)
}

func (i *Instance) optFunc(r *coreRef) api.Function {
	if r == nil {
		return nil
	}
	return i.function(*r)
}

// Call invokes an exported function: iface is the exported interface name (semver-compatible
// match) or "" for a top-level function. A trap or host failure returns an error; the
// instance must not be used afterwards.
func (i *Instance) Call(ctx context.Context, iface, fn string, args ...cabi.Value) ([]cabi.Value, error) {
	fv, err := i.p.exportedFunc(iface, fn)
	if err != nil {
		return nil, err
	}
	return i.callFunc(i.withCtx(ctx), fv, args)
}

func (i *Instance) callFunc(ctx context.Context, fv *funcVal, args []cabi.Value) (res []cabi.Value, err error) {
	if i.closed {
		return nil, errors.New("component instance is closed")
	}
	if fv.imp != nil {
		r, err := i.funcs[fv.imp.idx](ctx, args)
		if err != nil {
			return nil, err
		}
		return wrapResults(fv.typ, r), nil
	}
	defer func() {
		if err != nil && i.tripped.Load() {
			err = sys.NewExitError(i.exitCode.Load())
		}
	}()
	defer cabi.Catch(&err)
	ls := fv.lift
	f := i.function(ls.core)
	cx := i.cabiContext(ctx, ls.mem, ls.realloc, ls.encoding)
	defer i.putCabi(cx)
	core := cx.LowerParams(ls.typ, args)
	_, rs := ls.typ.LiftSignature()
	n := len(core)
	if len(rs) > n {
		n = len(rs)
	}
	stack := make([]uint64, n)
	copy(stack, core)
	if err := f.CallWithStack(ctx, stack); err != nil {
		return nil, i.trapErr(err)
	}
	res = cx.LiftResults(ls.typ, stack[:len(rs)])
	cx.ReleaseLent()
	if ls.post != nil {
		pf := i.function(*ls.post)
		if err := pf.CallWithStack(ctx, stack); err != nil {
			return nil, fmt.Errorf("post-return: %w", err)
		}
	}
	return res, nil
}

func wrapResults(t *cabi.FuncType, r cabi.Value) []cabi.Value {
	switch len(t.Results) {
	case 0:
		return nil
	case 1:
		return []cabi.Value{r}
	}
	if vs, ok := r.([]cabi.Value); ok && len(vs) == len(t.Results) {
		return vs
	}
	panic(&cabi.Trap{Msg: fmt.Sprintf("host function returned %T for %d results", r, len(t.Results))})
}

// buildHost instantiates the program's host module: one Go function per canon lower and per
// resource built-in. They find their instance through the call context.
func (p *Program) buildHost(ctx context.Context, name string) error {
	b := p.rt.NewHostModuleBuilder(name)
	for n, ls := range p.lowers {
		ls := ls
		params, results := ls.fn.typ.LowerSignature()
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, stack []uint64) {
			i := FromContext(ctx)
			if i == nil {
				panic(errors.New("component host function called outside an instance"))
			}
			i.callLowered(ctx, ls, stack)
		}), params, results).Export("l" + strconv.Itoa(n))
	}
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, _ []uint64) {
		yield(ctx)
	}), nil, nil).Export(yieldName)
	i32 := []api.ValueType{api.ValueTypeI32}
	for n, op := range p.resOps {
		op := op
		var fn api.GoModuleFunc
		var results []api.ValueType
		switch op.op {
		case 2:
			results = i32
			fn = func(ctx context.Context, _ api.Module, stack []uint64) {
				i := FromContext(ctx)
				stack[0] = uint64(i.table.NewOwn(op.rt, cabi.GuestRep{Type: op.rt, Rep: uint32(stack[0])}))
			}
		case 3:
			fn = func(ctx context.Context, _ api.Module, stack []uint64) {
				FromContext(ctx).table.Drop(ctx, uint32(stack[0]), op.rt)
			}
		case 4:
			results = i32
			fn = func(ctx context.Context, _ api.Module, stack []uint64) {
				i := FromContext(ctx)
				g, ok := i.table.Rep(uint32(stack[0]), op.rt).(cabi.GuestRep)
				if !ok {
					panic(&cabi.Trap{Msg: "resource.rep on a host resource"})
				}
				stack[0] = uint64(g.Rep)
			}
		}
		b.NewFunctionBuilder().WithGoModuleFunction(fn, i32, results).Export("r" + strconv.Itoa(n))
	}
	m, err := b.Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("building host functions: %w", err)
	}
	p.host = m
	p.hostResolved = unwrapHostModule(m)
	return nil
}

// hostImportName is the module name rewritten core modules import host functions from.
const hostImportName = "#h"

// unwrapHostModule returns the module instance behind wazero's wrapper of a host module:
// wazero's import resolver accepts only plain module instances (it type-asserts them).
func unwrapHostModule(m api.Module) api.Module {
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Struct {
		return nil
	}
	f := v.FieldByName("Module")
	if !f.IsValid() || !f.CanInterface() {
		return nil
	}
	inner, ok := f.Interface().(api.Module)
	if !ok || reflect.TypeOf(inner).String() != "*wasm.ModuleInstance" {
		return nil
	}
	return inner
}

var hostProbe struct {
	once sync.Once
	ok   bool
}

// hostResolvable reports whether this wazero's host modules can be handed to its import
// resolver (checked once, on a throwaway runtime).
func hostResolvable() bool {
	hostProbe.once.Do(func() {
		ctx := context.Background()
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
		defer rt.Close(ctx)
		m, err := rt.NewHostModuleBuilder("probe").Instantiate(ctx)
		hostProbe.ok = err == nil && unwrapHostModule(m) != nil
	})
	return hostProbe.ok
}

func (i *Instance) callLowered(ctx context.Context, ls *lowerSpec, stack []uint64) {
	if i.trace != nil && ls.fn.imp != nil {
		before := i.table.Live()
		defer func() { i.trace(ls.fn.imp, before, i.table.Live()) }()
	}
	cx := i.cabiContext(ctx, ls.mem, ls.realloc, ls.encoding)
	defer i.putCabi(cx)
	t := ls.fn.typ
	args := cx.LiftParams(t, stack)
	var results []cabi.Value
	if ls.fn.imp != nil {
		r, err := i.funcs[ls.fn.imp.idx](ctx, args)
		if err != nil {
			panic(err)
		}
		var one [1]cabi.Value
		if len(t.Results) == 1 {
			one[0] = r
			results = one[:]
		} else {
			results = wrapResults(t, r)
		}
	} else {
		r, err := i.callFunc(ctx, ls.fn, args)
		if err != nil {
			panic(err)
		}
		results = r
	}
	cx.LowerResults(t, results, stack)
}
