package component

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/wasmlattice/wash/runtime/cabi"
)

// The linker evaluates a component's instance graph once, at compile time, symbolically:
// core instances become a flat list of steps (core modules whose import sections are
// rewritten to point straight at the step or host function that satisfies them), component
// functions become lift/lower descriptors, and imported functions become slots resolved
// against host interfaces per instance. Instantiation then only runs the steps.

type linkError struct{ msg string }

func failf(format string, args ...any) { panic(&linkError{fmt.Sprintf(format, args...)}) }

// coreRef names a core item of a future instance: an export of step Step, or (Step < 0) a
// function of the program's host module.
type coreRef struct {
	Step int
	Name string
}

type coreInst struct {
	step int // >= 0: a real instance; -1: a bag of exports
	bag  map[string]coreRef
}

func (c *coreInst) ref(name string) (coreRef, bool) {
	if c.step >= 0 {
		return coreRef{Step: c.step, Name: name}, true
	}
	r, ok := c.bag[name]
	return r, ok
}

type tyVal struct {
	val      *cabi.Type
	fn       *cabi.FuncType
	res      *cabi.ResourceType
	inst     []Decl
	comp     []Decl
	isInst   bool
	isComp   bool
	defScope *scope
}

type importSlot struct {
	iface, name string
	typ         *cabi.FuncType
	used        bool
	idx         int
}

type liftSpec struct {
	core     coreRef
	mem      *coreRef
	realloc  *coreRef
	post     *coreRef
	encoding cabi.Encoding
	typ      *cabi.FuncType
}

type funcVal struct {
	typ  *cabi.FuncType
	imp  *importSlot
	lift *liftSpec
}

type compVal struct {
	def   *Component
	scope *scope
}

type extVal struct {
	sort Sort
	fn   *funcVal
	ty   *tyVal
	inst *instVal
	comp *compVal
	mod  int // core module index into linker.modules
}

type instVal struct {
	exports map[string]*extVal
	order   []string
}

type scope struct {
	parent        *scope
	types         []*tyVal
	funcs         []*funcVal
	instances     []*instVal
	components    []*compVal
	coreFuncs     []coreRef
	coreTables    []coreRef
	coreMems      []coreRef
	coreGlobals   []coreRef
	coreTags      []coreRef
	coreModules   []int
	coreInstances []*coreInst
	coreTypes     int
}

func at[T any](s []T, i uint32, what string) T {
	if uint64(i) >= uint64(len(s)) {
		failf("%s index %d out of range (%d defined)", what, i, len(s))
	}
	return s[i]
}

type lowerSpec struct {
	fn       *funcVal
	mem      *coreRef
	realloc  *coreRef
	encoding cabi.Encoding
}

type resourceOp struct {
	op byte // 2 new, 3 drop, 4 rep
	rt *cabi.ResourceType
}

type step struct {
	compiled int // index into Program.compiled
}

type guestResource struct {
	rt   *cabi.ResourceType
	dtor *coreRef
}

type linker struct {
	ctx       context.Context
	rt        wazero.Runtime
	modules   [][]byte
	compiled  []*coreModule
	compKeys  map[string]int
	steps     []step
	lowers    []*lowerSpec
	resOps    []resourceOp
	imports   []*importSlot
	guestRes  []*guestResource
	hostName  string // the name core modules import host functions from
	instDepth int
	work      int // definitions evaluated, bounded so nested instantiation cannot explode
}

// maxWork bounds link-time evaluation (definitions across all nested instantiations).
const maxWork = 1 << 20

var hostSeq atomic.Uint64

// zeroReader is the rand source of core instances; component guests get randomness through
// wasi:random, never through preview1 random_get on these instances.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func (l *linker) compileStep(modIdx int, args map[string]*coreInst) int {
	bin := l.modules[modIdx]
	imps, s0, s1, err := parseCoreImports(bin)
	if err != nil {
		failf("core module %d: %v", modIdx, err)
	}
	var key strings.Builder
	key.WriteString(strconv.Itoa(modIdx))
	for i := range imps {
		im := &imps[i]
		ci, ok := args[im.Module]
		if !ok {
			failf("core module %d imports from %q, which its instantiation does not supply", modIdx, im.Module)
		}
		ref, ok := ci.ref(im.Name)
		if !ok {
			failf("core module %d imports %q %q, which the supplied instance does not export", modIdx, im.Module, im.Name)
		}
		if ref.Step >= 0 {
			im.Module = "#s" + strconv.Itoa(ref.Step)
		} else {
			im.Module = l.hostName
		}
		im.Name = ref.Name
		key.WriteString("|" + im.Module + "." + im.Name)
	}
	k := key.String()
	if i, ok := l.compKeys[k]; ok {
		return i
	}
	rew := rewriteImports(bin, imps, s0, s1)
	cm, err := compileCore(l.ctx, l.rt, rew, l.hostName)
	if err != nil {
		failf("compiling core module %d: %v", modIdx, err)
	}
	l.compiled = append(l.compiled, cm)
	l.compKeys[k] = len(l.compiled) - 1
	return len(l.compiled) - 1
}

func primType(op byte) *cabi.Type {
	switch op {
	case 0x7f:
		return cabi.Prim(cabi.KBool)
	case 0x7e:
		return cabi.Prim(cabi.KS8)
	case 0x7d:
		return cabi.Prim(cabi.KU8)
	case 0x7c:
		return cabi.Prim(cabi.KS16)
	case 0x7b:
		return cabi.Prim(cabi.KU16)
	case 0x7a:
		return cabi.Prim(cabi.KS32)
	case 0x79:
		return cabi.Prim(cabi.KU32)
	case 0x78:
		return cabi.Prim(cabi.KS64)
	case 0x77:
		return cabi.Prim(cabi.KU64)
	case 0x76:
		return cabi.Prim(cabi.KF32)
	case 0x75:
		return cabi.Prim(cabi.KF64)
	case 0x74:
		return cabi.Prim(cabi.KChar)
	case 0x73:
		return cabi.Prim(cabi.KString)
	}
	failf("value type %#x is not supported", op)
	return nil
}

func (l *linker) valType(s *scope, v ValType) *cabi.Type {
	if v.Prim != 0 {
		return primType(v.Prim)
	}
	t := at(s.types, v.Index, "type")
	if t.val == nil {
		failf("type %d is not a value type", v.Index)
	}
	return t.val
}

func (l *linker) optVal(s *scope, v *ValType) *cabi.Type {
	if v == nil {
		return nil
	}
	return l.valType(s, *v)
}

func (l *linker) resourceAt(s *scope, i uint32) *cabi.ResourceType {
	t := at(s.types, i, "type")
	if t.res == nil {
		failf("type %d is not a resource type", i)
	}
	return t.res
}

func (l *linker) typeDef(s *scope, td *TypeDef) *tyVal {
	switch {
	case td.Val != nil:
		d := td.Val
		switch d.Op {
		case 0x72:
			fs := make([]cabi.Field, len(d.Fields))
			for i, f := range d.Fields {
				fs[i] = cabi.Field{Name: f.Name, Type: l.valType(s, f.Type)}
			}
			return &tyVal{val: cabi.Record(fs...)}
		case 0x71:
			cs := make([]cabi.Case, len(d.Cases))
			for i, c := range d.Cases {
				cs[i] = cabi.Case{Name: c.Name, Type: l.optVal(s, c.Type)}
			}
			return &tyVal{val: cabi.Variant(cs...)}
		case 0x70:
			return &tyVal{val: cabi.List(l.valType(s, *d.Elem))}
		case 0x6f:
			ts := make([]*cabi.Type, len(d.Types))
			for i, t := range d.Types {
				ts[i] = l.valType(s, t)
			}
			return &tyVal{val: cabi.Tuple(ts...)}
		case 0x6e:
			return &tyVal{val: cabi.Flags(d.Labels...)}
		case 0x6d:
			return &tyVal{val: cabi.Enum(d.Labels...)}
		case 0x6b:
			return &tyVal{val: cabi.Option(l.valType(s, *d.Elem))}
		case 0x6a:
			return &tyVal{val: cabi.Result(l.optVal(s, d.Elem), l.optVal(s, d.Err))}
		case 0x69:
			return &tyVal{val: cabi.Own(l.resourceAt(s, d.Index))}
		case 0x68:
			return &tyVal{val: cabi.Borrow(l.resourceAt(s, d.Index))}
		case 0x67:
			failf("fixed-size lists are not supported")
		case 0x66, 0x65:
			failf("streams and futures (async) are not supported")
		case 0x63:
			failf("map types are not supported")
		}
		return &tyVal{val: primType(d.Prim)}
	case td.Func != nil:
		if td.Func.Async {
			failf("async functions are not supported")
		}
		ps := make([]cabi.Param, len(td.Func.Params))
		for i, p := range td.Func.Params {
			ps[i] = cabi.Param{Name: p.Name, Type: l.valType(s, p.Type)}
		}
		rs := make([]cabi.Param, len(td.Func.Results))
		for i, p := range td.Func.Results {
			rs[i] = cabi.Param{Name: p.Name, Type: l.valType(s, p.Type)}
		}
		return &tyVal{fn: cabi.NewFuncType(ps, rs)}
	case td.IsInst:
		return &tyVal{isInst: true, inst: td.Instance, defScope: s}
	case td.IsComp:
		return &tyVal{isComp: true, comp: td.Component, defScope: s}
	case td.Resource != nil:
		rt := &cabi.ResourceType{Name: fmt.Sprintf("resource#%d", len(l.guestRes)), Guest: true, ID: len(l.guestRes)}
		g := &guestResource{rt: rt}
		if td.Resource.Dtor != nil {
			r := at(s.coreFuncs, *td.Resource.Dtor, "core func")
			g.dtor = &r
		}
		l.guestRes = append(l.guestRes, g)
		return &tyVal{res: rt}
	}
	failf("empty type definition")
	return nil
}

func outer(s *scope, n uint32) *scope {
	for ; n > 0; n-- {
		if s.parent == nil {
			failf("outer alias reaches past the outermost scope")
		}
		s = s.parent
	}
	return s
}

func (l *linker) alias(s *scope, a *AliasDef) {
	switch a.Target {
	case 0:
		iv := at(s.instances, a.Instance, "instance")
		ev, ok := iv.exports[a.Name]
		if !ok {
			failf("instance %d has no export %q", a.Instance, a.Name)
		}
		if ev.sort != a.Sort {
			failf("export %q is a %s, aliased as a %s", a.Name, ev.sort, a.Sort)
		}
		l.push(s, ev)
	case 1:
		ci := at(s.coreInstances, a.Instance, "core instance")
		ref, ok := ci.ref(a.Name)
		if !ok {
			failf("core instance %d has no export %q", a.Instance, a.Name)
		}
		if !a.Sort.Core {
			failf("core export alias with non-core sort")
		}
		switch a.Sort.Kind {
		case CoreFunc:
			s.coreFuncs = append(s.coreFuncs, ref)
		case CoreTable:
			s.coreTables = append(s.coreTables, ref)
		case CoreMemory:
			s.coreMems = append(s.coreMems, ref)
		case CoreGlobal:
			s.coreGlobals = append(s.coreGlobals, ref)
		case CoreTag:
			s.coreTags = append(s.coreTags, ref)
		default:
			failf("cannot alias a core %s export", a.Sort)
		}
	case 2:
		o := outer(s, a.Count)
		switch {
		case a.Sort.Core && a.Sort.Kind == CoreType:
			s.coreTypes++
		case a.Sort.Core && a.Sort.Kind == CoreModule:
			s.coreModules = append(s.coreModules, at(o.coreModules, a.Index, "core module"))
		case !a.Sort.Core && a.Sort.Kind == SortType:
			s.types = append(s.types, at(o.types, a.Index, "type"))
		case !a.Sort.Core && a.Sort.Kind == SortComponent:
			s.components = append(s.components, at(o.components, a.Index, "component"))
		default:
			failf("outer alias of a %s is not allowed", a.Sort)
		}
	}
}

// push appends an item to the index space of its sort.
func (l *linker) push(s *scope, ev *extVal) {
	switch {
	case ev.sort.Core && ev.sort.Kind == CoreModule:
		s.coreModules = append(s.coreModules, ev.mod)
	case ev.sort.Core:
		failf("core %s items cannot be exported from a component instance", ev.sort)
	case ev.sort.Kind == SortFunc:
		s.funcs = append(s.funcs, ev.fn)
	case ev.sort.Kind == SortType:
		s.types = append(s.types, ev.ty)
	case ev.sort.Kind == SortInstance:
		s.instances = append(s.instances, ev.inst)
	case ev.sort.Kind == SortComponent:
		s.components = append(s.components, ev.comp)
	default:
		failf("values are not supported")
	}
}

func (l *linker) item(s *scope, so Sort, idx uint32) *extVal {
	ev := &extVal{sort: so}
	switch {
	case so.Core && so.Kind == CoreModule:
		ev.mod = at(s.coreModules, idx, "core module")
	case so.Core:
		failf("a %s cannot be passed between components", so)
	case so.Kind == SortFunc:
		ev.fn = at(s.funcs, idx, "func")
	case so.Kind == SortType:
		ev.ty = at(s.types, idx, "type")
	case so.Kind == SortInstance:
		ev.inst = at(s.instances, idx, "instance")
	case so.Kind == SortComponent:
		ev.comp = at(s.components, idx, "component")
	default:
		failf("values are not supported")
	}
	return ev
}

// nest enters one level of nesting (components, instance types) and returns its exit: the
// depth is bounded so that a hostile binary cannot exhaust the stack.
func (l *linker) nest(what string) (exit func()) {
	l.instDepth++
	if l.instDepth > maxDepth {
		failf("%s nested too deeply", what)
	}
	return func() { l.instDepth-- }
}

// hostInstance builds the instance a host import provides, from its instance type.
func (l *linker) hostInstance(decls []Decl, defScope *scope, iface string) *instVal {
	defer l.nest("instance types")()
	ts := &scope{parent: defScope}
	iv := &instVal{exports: map[string]*extVal{}}
	for i := range decls {
		d := &decls[i]
		switch d.Kind {
		case 0:
			ts.coreTypes++
		case 1:
			ts.types = append(ts.types, l.typeDef(ts, d.Type))
		case 2:
			l.alias(ts, d.Alias)
		case 3, 4:
			ev := l.hostExtern(ts, d.Extern, iface, d.Name)
			if d.Kind == 4 {
				iv.exports[d.Name] = ev
				iv.order = append(iv.order, d.Name)
			}
			l.push(ts, ev)
		}
	}
	return iv
}

func (l *linker) hostExtern(s *scope, d ExternDesc, iface, name string) *extVal {
	switch d.Kind {
	case SortType:
		if d.SubResource {
			full := name
			if iface != "" {
				full = iface + "#" + name
			}
			return &extVal{sort: Sort{Kind: SortType}, ty: &tyVal{res: &cabi.ResourceType{Name: full}}}
		}
		return &extVal{sort: Sort{Kind: SortType}, ty: at(s.types, d.EqIndex, "type")}
	case SortFunc:
		t := at(s.types, d.Index, "type")
		if t.fn == nil {
			failf("import %q: type %d is not a function type", name, d.Index)
		}
		slot := &importSlot{iface: iface, name: name, typ: t.fn, idx: len(l.imports)}
		l.imports = append(l.imports, slot)
		return &extVal{sort: Sort{Kind: SortFunc}, fn: &funcVal{typ: t.fn, imp: slot}}
	case SortInstance:
		t := at(s.types, d.Index, "type")
		if !t.isInst {
			failf("import %q: type %d is not an instance type", name, d.Index)
		}
		sub := name
		if iface != "" {
			sub = iface + "/" + name
		}
		return &extVal{sort: Sort{Kind: SortInstance}, inst: l.hostInstance(t.inst, t.defScope, sub)}
	}
	failf("import %q: importing a %s from the host is not supported", name, Sort{Kind: d.Kind})
	return nil
}

func (l *linker) coreOpt(s *scope, idx *uint32, funcs bool) *coreRef {
	if idx == nil {
		return nil
	}
	var r coreRef
	if funcs {
		r = at(s.coreFuncs, *idx, "core func")
	} else {
		r = at(s.coreMems, *idx, "core memory")
	}
	return &r
}

// instantiate evaluates a component definition. args is nil for the top level (imports come
// from the host).
func (l *linker) instantiate(c *Component, parent *scope, args map[string]*extVal) (*instVal, *scope) {
	defer l.nest("components")()
	s := &scope{parent: parent}
	out := &instVal{exports: map[string]*extVal{}}
	for _, def := range c.Defs {
		if l.work++; l.work > maxWork {
			failf("component is too complex to link (more than %d definitions after nested instantiation)", maxWork)
		}
		switch d := def.(type) {
		case *CoreModuleDef:
			l.modules = append(l.modules, d.Bytes)
			s.coreModules = append(s.coreModules, len(l.modules)-1)
		case *CoreInstanceDef:
			if d.Instantiate {
				mod := at(s.coreModules, d.Module, "core module")
				a := map[string]*coreInst{}
				for _, arg := range d.Args {
					a[arg.Name] = at(s.coreInstances, arg.Instance, "core instance")
				}
				ci := l.compileStep(mod, a)
				l.steps = append(l.steps, step{compiled: ci})
				s.coreInstances = append(s.coreInstances, &coreInst{step: len(l.steps) - 1})
			} else {
				bag := map[string]coreRef{}
				for _, e := range d.Exports {
					var r coreRef
					switch e.Sort {
					case CoreFunc:
						r = at(s.coreFuncs, e.Index, "core func")
					case CoreTable:
						r = at(s.coreTables, e.Index, "core table")
					case CoreMemory:
						r = at(s.coreMems, e.Index, "core memory")
					case CoreGlobal:
						r = at(s.coreGlobals, e.Index, "core global")
					case CoreTag:
						r = at(s.coreTags, e.Index, "core tag")
					default:
						failf("core instance export %q of sort %#x is not supported", e.Name, e.Sort)
					}
					bag[e.Name] = r
				}
				s.coreInstances = append(s.coreInstances, &coreInst{step: -1, bag: bag})
			}
		case *CoreTypeDef:
			s.coreTypes++
		case *Component:
			s.components = append(s.components, &compVal{def: d, scope: s})
		case *InstanceDef:
			if d.Instantiate {
				cv := at(s.components, d.Component, "component")
				a := map[string]*extVal{}
				for _, arg := range d.Args {
					a[arg.Name] = l.item(s, arg.Sort, arg.Index)
				}
				iv, _ := l.instantiate(cv.def, cv.scope, a)
				s.instances = append(s.instances, iv)
			} else {
				iv := &instVal{exports: map[string]*extVal{}}
				for _, e := range d.Exports {
					iv.exports[e.Name] = l.item(s, e.Sort, e.Index)
					iv.order = append(iv.order, e.Name)
				}
				s.instances = append(s.instances, iv)
			}
		case *AliasDef:
			l.alias(s, d)
		case *TypeDef:
			s.types = append(s.types, l.typeDef(s, d))
		case *CanonDef:
			l.canon(s, d)
		case *StartDef:
			failf("component start functions are not supported")
		case *ImportDef:
			var ev *extVal
			if args == nil {
				ev = l.topImport(s, d)
			} else {
				a, ok := args[d.Name]
				if !ok {
					failf("nested component import %q is not supplied", d.Name)
				}
				if a.sort.Kind != d.Extern.Kind && !(a.sort.Core && d.Extern.Kind == 0) {
					failf("nested component import %q: expected a %s, got a %s", d.Name, Sort{Kind: d.Extern.Kind}, a.sort)
				}
				ev = a
			}
			l.push(s, ev)
		case *ExportDef:
			ev := l.item(s, d.Sort, d.Index)
			out.exports[d.Name] = ev
			out.order = append(out.order, d.Name)
			l.push(s, ev)
		default:
			failf("unsupported definition %T", def)
		}
	}
	return out, s
}

func (l *linker) topImport(s *scope, d *ImportDef) *extVal {
	switch d.Extern.Kind {
	case SortInstance:
		t := at(s.types, d.Extern.Index, "type")
		if !t.isInst {
			failf("import %q: type %d is not an instance type", d.Name, d.Extern.Index)
		}
		return &extVal{sort: Sort{Kind: SortInstance}, inst: l.hostInstance(t.inst, t.defScope, d.Name)}
	case SortFunc, SortType:
		return l.hostExtern(s, d.Extern, "", d.Name)
	}
	failf("import %q: importing a %s is not supported", d.Name, Sort{Kind: d.Extern.Kind})
	return nil
}

func (l *linker) canon(s *scope, c *CanonDef) {
	if c.Async {
		failf("async canonical options are not supported")
	}
	switch c.Op {
	case 0: // lift
		t := at(s.types, c.Type, "type")
		if t.fn == nil {
			failf("canon lift: type %d is not a function type", c.Type)
		}
		ls := &liftSpec{
			core:     at(s.coreFuncs, c.Func, "core func"),
			mem:      l.coreOpt(s, c.Memory, false),
			realloc:  l.coreOpt(s, c.Realloc, true),
			post:     l.coreOpt(s, c.Post, true),
			encoding: cabi.Encoding(c.Encoding),
			typ:      t.fn,
		}
		s.funcs = append(s.funcs, &funcVal{typ: t.fn, lift: ls})
	case 1: // lower
		fv := at(s.funcs, c.Func, "func")
		if fv.imp != nil {
			fv.imp.used = true
		}
		l.lowers = append(l.lowers, &lowerSpec{
			fn: fv, mem: l.coreOpt(s, c.Memory, false), realloc: l.coreOpt(s, c.Realloc, true),
			encoding: cabi.Encoding(c.Encoding),
		})
		s.coreFuncs = append(s.coreFuncs, coreRef{Step: -1, Name: "l" + strconv.Itoa(len(l.lowers)-1)})
	case 2, 3, 4:
		rt := l.resourceAt(s, c.Type)
		if c.Op != 3 && !rt.Guest {
			failf("canon resource.new/rep on imported resource %s", rt.Name)
		}
		l.resOps = append(l.resOps, resourceOp{op: c.Op, rt: rt})
		s.coreFuncs = append(s.coreFuncs, coreRef{Step: -1, Name: "r" + strconv.Itoa(len(l.resOps)-1)})
	}
}

// Program is a compiled, pre-linked component.
type Program struct {
	rt       wazero.Runtime
	compiled []*coreModule
	// initialMemory sums the initial sizes of the memories one instance defines;
	// largestMemory is the largest of them.
	initialMemory, largestMemory uint64
	steps                        []step
	lowers                       []*lowerSpec
	resOps                       []resourceOp
	imports                      []*importSlot
	guestRes                     []*guestResource
	host                         api.Module
	// hostResolved is host unwrapped for the import resolver (nil when not possible)
	hostResolved api.Module
	exports      *instVal
	modCfg       wazero.ModuleConfig
	defaults     []cabi.HostFunc
	registry     *Registry
}

// Compile decodes, links and compiles a component against rt. registry supplies the default
// host interfaces (per-instance ones can be added at Instantiate).
func Compile(ctx context.Context, rt wazero.Runtime, bin []byte, registry *Registry) (p *Program, err error) {
	c, err := Decode(bin)
	if err != nil {
		return nil, err
	}
	l := &linker{ctx: ctx, rt: rt, compKeys: map[string]int{}}
	storeName := fmt.Sprintf("wash:component-host:%d", hostSeq.Add(1))
	// Core modules import host functions from a fixed name the instance's import resolver
	// answers, so a component's rewritten modules are the same bytes in every process and
	// the on-disk compilation cache finds them. Without resolver support for host modules,
	// they import from the host module's unique store name instead (and compile each time).
	l.hostName = storeName
	if hostResolvable() {
		l.hostName = hostImportName
	}
	var exports *instVal
	defer func() {
		if x := recover(); x != nil {
			le, ok := x.(*linkError)
			if !ok {
				panic(x)
			}
			for _, cm := range l.compiled {
				cm.close(ctx)
			}
			p, err = nil, fmt.Errorf("linking component: %s", le.msg)
		}
	}()
	exports, _ = l.instantiate(c, nil, nil)
	defaults := make([]cabi.HostFunc, len(l.imports))
	for _, s := range l.imports {
		if s.used && registry != nil {
			f, ft := registry.lookupDecl(s.iface, s.name)
			if err := checkImport(s.iface, s.name, ft, s.typ); err != nil {
				failf("%v", err)
			}
			defaults[s.idx] = f
		}
	}
	p = &Program{
		rt: rt, compiled: l.compiled, steps: l.steps, lowers: l.lowers, resOps: l.resOps,
		imports: l.imports, guestRes: l.guestRes, exports: exports, registry: registry,
		// anonymous so instances never collide; no _start (only start sections run); a
		// non-nil rand source spares wazero seeding a fake one per module instance
		modCfg: wazero.NewModuleConfig().WithName("").WithStartFunctions().WithRandSource(zeroReader{}),
	}
	if err := p.buildHost(ctx, storeName); err != nil {
		failf("%v", err)
	}
	for _, st := range p.steps {
		if m := p.compiled[st.compiled].mem; m.defines {
			p.initialMemory += m.minBytes
			p.largestMemory = max(p.largestMemory, m.minBytes)
		}
	}
	p.defaults = defaults
	return p, nil
}

// Close frees the compiled code and the program's host module.
func (p *Program) Close(ctx context.Context) error {
	if p.host != nil {
		_ = p.host.Close(ctx)
	}
	for _, cm := range p.compiled {
		cm.close(ctx)
	}
	return nil
}

// Imports lists the imported interface (or function) names, sorted.
func (p *Program) Imports() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range p.imports {
		n := s.iface
		if n == "" {
			n = s.name
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Exports lists the exported names (interfaces and functions), in definition order.
func (p *Program) Exports() []string { return append([]string(nil), p.exports.order...) }

// ExportedFunctions lists "interface#func" (or "func" for top-level functions).
func (p *Program) ExportedFunctions() []string {
	var out []string
	for _, n := range p.exports.order {
		ev := p.exports.exports[n]
		switch {
		case ev.fn != nil:
			out = append(out, n)
		case ev.inst != nil:
			for _, f := range ev.inst.order {
				if ev.inst.exports[f].fn != nil {
					out = append(out, n+"#"+f)
				}
			}
		}
	}
	return out
}

// HasExport reports whether the component exports an interface semver-compatible with name.
func (p *Program) HasExport(name string) bool {
	_, ok := p.findExport(name)
	return ok
}

func (p *Program) findExport(name string) (*extVal, bool) {
	if ev, ok := p.exports.exports[name]; ok {
		return ev, true
	}
	for _, n := range p.exports.order {
		if Compatible(name, n) {
			return p.exports.exports[n], true
		}
	}
	return nil, false
}

// FuncType returns the type of an exported function (iface "" for top-level functions).
func (p *Program) FuncType(iface, fn string) (*cabi.FuncType, bool) {
	fv, err := p.exportedFunc(iface, fn)
	if err != nil {
		return nil, false
	}
	return fv.typ, true
}

func (p *Program) exportedFunc(iface, fn string) (*funcVal, error) {
	if iface == "" {
		ev, ok := p.exports.exports[fn]
		if !ok || ev.fn == nil {
			return nil, fmt.Errorf("component does not export function %q", fn)
		}
		return ev.fn, nil
	}
	ev, ok := p.findExport(iface)
	if !ok || ev.inst == nil {
		return nil, fmt.Errorf("component does not export interface %s", iface)
	}
	f, ok := ev.inst.exports[fn]
	if !ok || f.fn == nil {
		return nil, fmt.Errorf("interface %s exported by the component has no function %q", iface, fn)
	}
	return f.fn, nil
}
