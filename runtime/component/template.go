package component

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tetratelabs/wazero/api"

	"github.com/wasmlattice/wash/runtime/cabi"
	"github.com/wasmlattice/wash/runtime/linmem"
)

// A Template is the state of a freshly made instance of a program, captured once, so that
// instances can be recycled: after a call, an instance made from a template is reset to it
// (memories back to their images, mutable globals to their values, resource table emptied)
// and is then indistinguishable from a new instance. That is what makes a fresh instance per
// invocation cheap: no instantiation, and only the pages a call wrote are given back.
//
// A program qualifies when its whole state is memories and mutable globals: no core module
// changes tables or segment state at run time (see scanCode) and no mutable global holds a
// vector or reference.
//
// Start functions (a Go guest's runtime initialization, for instance) are the one choice:
// by default a program with start functions gets no template, and every instance runs them.
// With InitSnapshot the template is taken after they ran — as a wizer pre-initialization
// would at build time — provided they only read the environment, arguments, clocks and
// random numbers and left no resources behind; random numbers and times read during
// initialization are then the same for every instance made from the template.
type Template struct {
	p        *Program
	snapshot bool            // start functions ran before the capture
	images   []*linmem.Image // per step: the memory it defines (nil: none)
	owned    []bool          // per step: images[n] belongs to the template
	sizes    []uint64        // per step: that memory's size
	globals  [][]uint64      // per step: values of the compiled module's mutable globals
	initial  uint64          // sum of sizes
	largest  uint64
	replay   []replayedHandle // handles start functions left, made again for every call
	// Args and Env are what the start functions saw (snapshots only): instances whose
	// configuration differs must not use the template.
	Args []string
	Env  map[string]string
}

// ErrNoTemplate is wrapped by NewTemplate when a program cannot have one.
var ErrNoTemplate = errors.New("instances of this component cannot be recycled")

// TemplateOptions are the inputs of NewTemplate.
type TemplateOptions struct {
	InstanceOptions
	// InitSnapshot allows capturing the state after start functions (see Template).
	InitSnapshot bool
	// Args and Env are recorded with a snapshot (what the start functions read).
	Args []string
	Env  map[string]string
}

// HasStart reports whether instantiating the program runs start functions.
func (p *Program) HasStart() bool {
	for _, st := range p.steps {
		if p.compiled[st.compiled].noStart != nil {
			return true
		}
	}
	return false
}

// NewTemplate makes one instance (running start functions, with ctx as their context) and
// captures its state. The error wraps ErrNoTemplate and says why when the program does not
// qualify.
func (p *Program) NewTemplate(ctx context.Context, o TemplateOptions) (*Template, error) {
	for n, st := range p.steps {
		cm := p.compiled[st.compiled]
		if !cm.resettable {
			return nil, fmt.Errorf("%w: core instance %d: %s", ErrNoTemplate, n, cm.why)
		}
	}
	snapshot := p.HasStart()
	if snapshot {
		if !o.InitSnapshot {
			return nil, fmt.Errorf("%w: it has start functions, which run for every instance", ErrNoTemplate)
		}
		for n, st := range p.steps {
			if p.compiled[st.compiled].importedData {
				return nil, fmt.Errorf("%w: core instance %d writes data segments into an imported memory", ErrNoTemplate, n)
			}
		}
	}
	// record which imports the start functions call, and which handles they create
	var unsafeCall *importSlot
	created := map[uint32]*importSlot{}
	inst, err := p.instantiate(ctx, o.InstanceOptions, nil, func(i *Instance) {
		i.trace = func(s *importSlot, before, after []uint32) {
			if !initSafe(s.iface, s.name) && unsafeCall == nil {
				unsafeCall = s
			}
			for _, h := range after {
				if !slices.Contains(before, h) {
					created[h] = s
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	defer inst.Close(ctx)
	var replay []replayedHandle
	if snapshot {
		if s := unsafeCall; s != nil {
			return nil, fmt.Errorf("%w: its start functions call %s#%s", ErrNoTemplate, s.iface, s.name)
		}
		// handles the snapshot refers to must be made again, at the same numbers, for
		// every instance: only stdio streams (bound to each call's streams) qualify
		for k, h := range inst.table.Live() {
			s := created[h]
			if s == nil || uint32(k+1) != h || !replayable(s) {
				return nil, fmt.Errorf("%w: its start functions keep resource handles", ErrNoTemplate)
			}
			replay = append(replay, replayedHandle{handle: h, slot: s, rt: s.typ.Results[0].Type.Resource})
		}
	}
	t := &Template{
		p: p, snapshot: snapshot, replay: replay,
		images: make([]*linmem.Image, len(p.steps)), owned: make([]bool, len(p.steps)),
		sizes: make([]uint64, len(p.steps)), globals: make([][]uint64, len(p.steps)),
	}
	if snapshot {
		t.Args, t.Env = o.Args, o.Env
	}
	for n, st := range p.steps {
		cm := p.compiled[st.compiled]
		mod := inst.mods[n]
		for _, g := range cm.globals {
			t.globals[n] = append(t.globals[n], mod.ExportedGlobal(globalExport(g)).Get())
		}
		if !cm.mem.defines {
			continue
		}
		mem := mod.Memory()
		if mem == nil {
			t.Close()
			return nil, fmt.Errorf("%w: core instance %d has no memory", ErrNoTemplate, n)
		}
		size := uint64(mem.Size())
		buf, _ := mem.Read(0, uint32(size))
		t.sizes[n] = size
		t.initial += size
		t.largest = max(t.largest, size)
		if im := cm.mem.image; im != nil && im.Size() == size && im.Matches(buf) {
			t.images[n] = im // unchanged since instantiation: share the module's image
			continue
		}
		im, err := linmem.NewImage(size, buf)
		if err != nil {
			t.Close()
			return nil, err
		}
		t.images[n], t.owned[n] = im, true
	}
	return t, nil
}

// replayedHandle is a resource handle a snapshot's start functions created, with the import
// that creates its like again.
type replayedHandle struct {
	handle uint32
	slot   *importSlot
	rt     *cabi.ResourceType
}

// replayable: imports whose result a snapshot can have made again per call: argument-less
// constructors of the call's own stdio streams.
func replayable(s *importSlot) bool {
	base, _ := splitVersion(s.iface)
	switch base + "#" + s.name {
	case "wasi:cli/stdin#get-stdin", "wasi:cli/stdout#get-stdout", "wasi:cli/stderr#get-stderr":
		return len(s.typ.Params) == 0 && len(s.typ.Results) == 1 && s.typ.Results[0].Type.Resource != nil
	}
	return false
}

// initSafe: imports a start function may call without making its result instance-specific
// in a way a snapshot would hide: reads of the configuration (recorded with the template),
// clocks and random numbers (frozen into the snapshot, as a pre-initializer would), and the
// terminal queries that answer "none".
func initSafe(iface, name string) bool {
	base, _ := splitVersion(iface)
	switch base {
	case "wasi:cli/stdin", "wasi:cli/stdout", "wasi:cli/stderr": // made again per call (replay)
		return true
	case "wasi:filesystem/preopens": // this host has none; a preopen would be a handle, refused
		return true
	case "wasi:cli/environment", "wasi:random/random", "wasi:random/insecure", "wasi:random/insecure-seed",
		"wasi:clocks/wall-clock", "wasi:cli/terminal-stdin", "wasi:cli/terminal-stdout", "wasi:cli/terminal-stderr":
		return true
	case "wasi:clocks/monotonic-clock":
		return name == "now" || name == "resolution"
	}
	return false
}

// Snapshot reports whether the template was captured after start functions ran.
func (t *Template) Snapshot() bool { return t.snapshot }

// InitialMemory is the total memory an instance made from the template starts with, and the
// largest single memory.
func (t *Template) InitialMemory() (total, largest uint64) { return t.initial, t.largest }

// Close releases the template's own images (instances keep their mappings).
func (t *Template) Close() {
	for n, im := range t.images {
		if t.owned[n] {
			im.Close()
		}
	}
}

// Instantiate makes an instance in the template's state: core modules are instantiated
// without start functions when the template is a snapshot, their memories map the
// template's images and their globals take its values.
func (t *Template) Instantiate(ctx context.Context, o InstanceOptions) (*Instance, error) {
	i, err := t.p.instantiate(ctx, o, t, nil)
	if err != nil {
		return nil, err
	}
	for n := range t.p.steps {
		if t.sizes[n] == 0 {
			continue
		}
		mem := i.mods[n].Memory()
		if cur := uint64(mem.Size()); cur < t.sizes[n] {
			if _, ok := mem.Grow(uint32((t.sizes[n] - cur) / linmem.PageSize)); !ok {
				_ = i.Close(ctx)
				return nil, fmt.Errorf("instantiating from a template: %w", i.alloc.Err())
			}
		}
	}
	if err := i.alloc.Err(); err != nil {
		_ = i.Close(ctx)
		return nil, err
	}
	i.tmpl = t
	i.restoreGlobals()
	i.alloc.MarkBaseline()
	if err := i.replay(ctx); err != nil {
		_ = i.Close(ctx)
		return nil, err
	}
	return i, nil
}

// replay makes the template's handles again for the call ctx belongs to.
func (i *Instance) replay(ctx context.Context) error {
	for _, r := range i.tmpl.replay {
		rep, err := i.funcs[r.slot.idx](ctx, nil)
		if err != nil {
			return fmt.Errorf("re-creating handle %d: %w", r.handle, err)
		}
		if h := i.table.NewOwn(r.rt, rep); h != r.handle {
			return fmt.Errorf("re-creating handle %d: got %d", r.handle, h)
		}
	}
	return nil
}

func (i *Instance) restoreGlobals() {
	for n, st := range i.p.steps {
		vals := i.tmpl.globals[n]
		if len(vals) == 0 {
			continue
		}
		mod := i.mods[n]
		for k, g := range i.p.compiled[st.compiled].globals {
			mod.ExportedGlobal(globalExport(g)).(api.MutableGlobal).Set(vals[k])
		}
	}
}

// Reset returns an instance made by Template.Instantiate to the template's state, so it can
// serve as a fresh instance again. It reports false (and the caller must Close the instance)
// when that is not possible: the instance was closed (an exit, an interruption), or a
// memory grew (its size cannot shrink back).
func (i *Instance) Reset() bool {
	if i.tmpl == nil || i.closed || i.tripped.Load() {
		return false
	}
	for _, m := range i.mods {
		if m.IsClosed() {
			return false
		}
	}
	if !i.alloc.Reset() {
		return false
	}
	i.restoreGlobals()
	i.table.DropAll()
	return true
}

// Park releases what an idle recycled instance holds against the memory budget; Unpark takes
// it back before use (failing when the budget is exhausted).
func (i *Instance) Park() { i.alloc.Park() }

// Unpark: see Park.
func (i *Instance) Unpark() error { return i.alloc.Unpark() }

// Prepare readies a reset instance for a call: its imports are resolved again when the
// call's host interfaces differ (see InstanceOptions.Registry; nil means the program's own),
// and handles a snapshot's start functions left are made again with the call's ctx.
func (i *Instance) Prepare(ctx context.Context, extra *Registry) error {
	if extra != i.bound {
		funcs, err := i.p.resolve(extra)
		if err != nil {
			return err
		}
		i.funcs, i.bound = funcs, extra
	}
	return i.replay(ctx)
}
