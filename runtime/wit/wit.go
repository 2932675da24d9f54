// Package wit recovers a component's WIT world from its own type information (the type,
// import, export, alias and instance definitions that runtime/component decodes) and prints it
// as WIT text. wash inspect --wit prints it; wash dev reads the world's interface names to
// choose providers.
package wit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/wasmlattice/wash/runtime/component"
)

// World is what a component imports and exports.
type World struct {
	Imports []Item
	Exports []Item
}

// Item is one world import or export: an interface (instance), a function or a type.
type Item struct {
	Name      string
	Interface *Interface
	Func      *Func
	Type      *Type
}

// Interface is an imported or exported instance: its named types and its functions, in the
// order the component declares them.
type Interface struct {
	Name  string
	Types []*Type // each Kind == Named, owned by this interface
	Funcs []*Func
}

// Func is a function with its (possibly [method]/[static]/[constructor]) name.
type Func struct {
	Name    string
	Params  []Field
	Results []Field // none, one unnamed, or (legacy) several named
}

// Kind is the class of a type.
type Kind int

// Kinds of types.
const (
	Prim Kind = iota + 1
	Record
	Variant
	Enum
	Flags
	List
	Option
	Result
	Tuple
	Own
	Borrow
	Resource
	Named
	FixedList
	Future
	Stream
	ErrorContext
)

// Type is a WIT type. Named types carry the name their interface gives them and point at the
// type they name (possibly another interface's named type, which WIT writes as `use`).
type Type struct {
	Kind   Kind
	Prim   string
	Fields []Field // record fields; tuple elements (no names)
	Cases  []Case
	Labels []string
	Elem   *Type // list, option, fixed list, future/stream payload (may be nil)
	Ok     *Type // result
	Err    *Type // result
	Len    uint32
	// Target is the named type's definition, or own/borrow's resource.
	Target *Type
	// Name and Owner (the interface's name) are set on named types.
	Name, Owner string
}

// Field is a named (or, in tuples, unnamed) type.
type Field struct {
	Name string
	Type *Type
}

// Case is a variant case; Type is nil without payload.
type Case struct {
	Name string
	Type *Type
}

// ErrCoreModule is returned for core modules, which carry no component type information.
var ErrCoreModule = errors.New("no WIT present in wasm: this looks like a core module (WASI preview 1), not a component")

// Decode reads a component binary and returns its world.
func Decode(wasm []byte) (w *World, err error) {
	if len(wasm) >= 8 && string(wasm[:4]) == "\x00asm" && wasm[6] == 0 && wasm[7] == 0 {
		return nil, ErrCoreModule
	}
	c, err := component.Decode(wasm)
	if err != nil {
		return nil, err
	}
	defer func() {
		if x := recover(); x != nil {
			if e, ok := x.(*evalError); ok {
				w, err = nil, fmt.Errorf("reading the component's types: %s", e.msg)
				return
			}
			panic(x)
		}
	}()
	e := &evaluator{}
	w = &World{}
	e.component(c, nil, nil, w)
	return w, nil
}

// InterfaceNames lists the world's interface imports and exports by full name.
func (w *World) InterfaceNames() (imports, exports []string) {
	for _, it := range w.Imports {
		if it.Interface != nil {
			imports = append(imports, it.Name)
		}
	}
	for _, it := range w.Exports {
		if it.Interface != nil {
			exports = append(exports, it.Name)
		}
	}
	return imports, exports
}

type evalError struct{ msg string }

func fail(format string, args ...any) { panic(&evalError{fmt.Sprintf(format, args...)}) }

// limits keep hostile binaries from making evaluation explode.
const (
	maxDepth = 32
	maxWork  = 1 << 20
)

type evaluator struct {
	depth int
	work  int
}

// tval is an entry of the type index space.
type tval struct {
	val  *Type
	fn   *Func
	inst *deferred // instance type, evaluated per use
	comp *deferred // component type
}

type deferred struct {
	decls []component.Decl
	scope *scope
}

type ext struct {
	sort byte // component.SortFunc, SortType, SortInstance, SortComponent
	fn   *Func
	ty   *Type
	inst *inst
	comp *compVal
}

type inst struct {
	exports map[string]*ext
	order   []string
}

type compVal struct {
	def   *component.Component
	scope *scope
}

type scope struct {
	parent     *scope
	types      []*tval
	funcs      []*Func
	instances  []*inst
	components []*compVal
}

func at[T any](s []T, i uint32, what string) T {
	if uint64(i) >= uint64(len(s)) {
		fail("%s index %d out of range (%d defined)", what, i, len(s))
	}
	return s[i]
}

func (s *scope) outer(count uint32) *scope {
	o := s
	for ; count > 0; count-- {
		if o.parent == nil {
			fail("outer alias count %d reaches past the outermost component", count)
		}
		o = o.parent
	}
	return o
}

func (e *evaluator) tick() {
	e.work++
	if e.work > maxWork {
		fail("too many definitions to evaluate")
	}
}

// component evaluates a component's definitions. args binds imports when the component is
// instantiated; w (top level only) collects the world.
func (e *evaluator) component(c *component.Component, parent *scope, args map[string]*ext, w *World) *inst {
	e.depth++
	if e.depth > maxDepth {
		fail("components nested too deeply")
	}
	defer func() { e.depth-- }()
	s := &scope{parent: parent}
	out := &inst{exports: map[string]*ext{}}
	for _, d := range c.Defs {
		e.tick()
		switch d := d.(type) {
		case *component.Component:
			s.components = append(s.components, &compVal{def: d, scope: s})
		case *component.InstanceDef:
			s.instances = append(s.instances, e.instance(s, d))
		case *component.AliasDef:
			e.alias(s, d)
		case *component.TypeDef:
			s.types = append(s.types, e.typeDef(s, d))
		case *component.CanonDef:
			if d.Op == 0 { // lift makes a component function; the others make core functions
				s.funcs = append(s.funcs, at(s.types, d.Type, "type").funcType())
			}
		case *component.ImportDef:
			if args != nil {
				e.bind(s, d, args[d.Name])
				continue
			}
			it := e.importItem(s, d)
			if w != nil && it != nil {
				w.Imports = append(w.Imports, *it)
			}
		case *component.ExportDef:
			x := e.export(s, d)
			if x == nil {
				continue
			}
			if _, dup := out.exports[d.Name]; !dup {
				out.order = append(out.order, d.Name)
			}
			out.exports[d.Name] = x
			if w != nil {
				it := Item{Name: d.Name}
				switch x.sort {
				case component.SortInstance:
					it.Interface = x.inst.asInterface(d.Name)
				case component.SortFunc:
					it.Func = rename(x.fn, d.Name)
				case component.SortType:
					it.Type = x.ty
				default:
					continue
				}
				w.Exports = append(w.Exports, it)
			}
		}
	}
	return out
}

func (t *tval) funcType() *Func {
	if t.fn == nil {
		fail("expected a function type")
	}
	return t.fn
}

func rename(f *Func, name string) *Func {
	c := *f
	c.Name = name
	return &c
}

// lookup returns a definition of the current scope as an extern value.
func (e *evaluator) lookup(s *scope, sort component.Sort, idx uint32) *ext {
	if sort.Core {
		return nil
	}
	switch sort.Kind {
	case component.SortFunc:
		return &ext{sort: sort.Kind, fn: at(s.funcs, idx, "function")}
	case component.SortType:
		t := at(s.types, idx, "type")
		return &ext{sort: sort.Kind, ty: t.val}
	case component.SortInstance:
		return &ext{sort: sort.Kind, inst: at(s.instances, idx, "instance")}
	case component.SortComponent:
		return &ext{sort: sort.Kind, comp: at(s.components, idx, "component")}
	}
	return nil
}

func (e *evaluator) instance(s *scope, d *component.InstanceDef) *inst {
	if !d.Instantiate {
		in := &inst{exports: map[string]*ext{}}
		for _, a := range d.Exports {
			if x := e.lookup(s, a.Sort, a.Index); x != nil {
				in.exports[a.Name] = x
				in.order = append(in.order, a.Name)
			}
		}
		return in
	}
	c := at(s.components, d.Component, "component")
	args := map[string]*ext{}
	for _, a := range d.Args {
		if x := e.lookup(s, a.Sort, a.Index); x != nil {
			args[a.Name] = x
		}
	}
	if c.def == nil {
		return &inst{exports: map[string]*ext{}}
	}
	return e.component(c.def, c.scope, args, nil)
}

func (e *evaluator) alias(s *scope, d *component.AliasDef) {
	if d.Sort.Core {
		return
	}
	switch d.Target {
	case 0:
		in := at(s.instances, d.Instance, "instance")
		x, ok := in.exports[d.Name]
		if !ok {
			fail("instance %d has no export %q", d.Instance, d.Name)
		}
		e.push(s, d.Sort.Kind, x)
	case 2:
		o := s.outer(d.Count)
		switch d.Sort.Kind {
		case component.SortType:
			s.types = append(s.types, at(o.types, d.Index, "outer type"))
		case component.SortComponent:
			s.components = append(s.components, at(o.components, d.Index, "outer component"))
		default:
			fail("outer alias of sort %d", d.Sort.Kind)
		}
	}
}

// push appends an extern value to the index space of sort.
func (e *evaluator) push(s *scope, sort byte, x *ext) {
	switch sort {
	case component.SortFunc:
		if x.fn == nil {
			fail("alias of a function that is not one")
		}
		s.funcs = append(s.funcs, x.fn)
	case component.SortType:
		s.types = append(s.types, &tval{val: x.ty})
	case component.SortInstance:
		if x.inst == nil {
			fail("alias of an instance that is not one")
		}
		s.instances = append(s.instances, x.inst)
	case component.SortComponent:
		s.components = append(s.components, x.comp)
	}
}

// bind satisfies an import of an instantiated component with its argument.
func (e *evaluator) bind(s *scope, d *component.ImportDef, x *ext) {
	if x == nil {
		// a missing argument: evaluate the import's own type so indices stay aligned
		e.importItem(s, d)
		return
	}
	switch d.Extern.Kind {
	case component.SortFunc, component.SortType, component.SortInstance, component.SortComponent:
		e.push(s, d.Extern.Kind, x)
	}
}

func (e *evaluator) importItem(s *scope, d *component.ImportDef) *Item {
	it := &Item{Name: d.Name}
	switch d.Extern.Kind {
	case component.SortInstance:
		t := at(s.types, d.Extern.Index, "type")
		if t.inst == nil {
			fail("import %q: type %d is not an instance type", d.Name, d.Extern.Index)
		}
		in := e.instanceType(t.inst, d.Name)
		s.instances = append(s.instances, in)
		it.Interface = in.asInterface(d.Name)
	case component.SortFunc:
		f := at(s.types, d.Extern.Index, "type").funcType()
		s.funcs = append(s.funcs, f)
		it.Func = rename(f, d.Name)
	case component.SortType:
		t := e.typeBound(s, d.Name, "", d.Extern)
		s.types = append(s.types, &tval{val: t})
		it.Type = t
	case component.SortComponent:
		s.components = append(s.components, &compVal{})
		return nil
	default:
		return nil
	}
	return it
}

// typeBound makes the named type an import or export declares: (eq T) names T, (sub resource)
// is a fresh resource.
func (e *evaluator) typeBound(s *scope, name, owner string, d component.ExternDesc) *Type {
	if d.SubResource {
		return &Type{Kind: Named, Name: name, Owner: owner, Target: &Type{Kind: Resource}}
	}
	t := at(s.types, d.EqIndex, "type")
	if t.val == nil {
		fail("type %q is bound to a non-value type", name)
	}
	return &Type{Kind: Named, Name: name, Owner: owner, Target: t.val}
}

// instanceType evaluates an instance type's declarations for one import or export named owner.
func (e *evaluator) instanceType(d *deferred, owner string) *inst {
	e.depth++
	if e.depth > maxDepth {
		fail("types nested too deeply")
	}
	defer func() { e.depth-- }()
	s := &scope{parent: d.scope}
	out := &inst{exports: map[string]*ext{}}
	for _, decl := range d.decls {
		e.tick()
		switch decl.Kind {
		case 1:
			s.types = append(s.types, e.typeDef(s, decl.Type))
		case 2:
			e.alias(s, decl.Alias)
		case 4:
			var x *ext
			switch decl.Extern.Kind {
			case component.SortType:
				t := e.typeBound(s, decl.Name, owner, decl.Extern)
				s.types = append(s.types, &tval{val: t})
				x = &ext{sort: component.SortType, ty: t}
			case component.SortFunc:
				x = &ext{sort: component.SortFunc, fn: rename(at(s.types, decl.Extern.Index, "type").funcType(), decl.Name)}
			case component.SortInstance:
				t := at(s.types, decl.Extern.Index, "type")
				if t.inst == nil {
					fail("export %q: not an instance type", decl.Name)
				}
				x = &ext{sort: component.SortInstance, inst: e.instanceType(t.inst, owner)}
			default:
				continue
			}
			if _, dup := out.exports[decl.Name]; !dup {
				out.order = append(out.order, decl.Name)
			}
			out.exports[decl.Name] = x
		}
	}
	return out
}

func (e *evaluator) export(s *scope, d *component.ExportDef) *ext {
	x := e.lookup(s, d.Sort, d.Index)
	if x == nil {
		return nil
	}
	switch d.Sort.Kind {
	case component.SortType:
		t := &Type{Kind: Named, Name: d.Name, Target: x.ty}
		if x.ty == nil {
			fail("export %q names a non-value type", d.Name)
		}
		s.types = append(s.types, &tval{val: t})
		return &ext{sort: component.SortType, ty: t}
	case component.SortFunc:
		f := x.fn
		if d.Extern != nil && d.Extern.Kind == component.SortFunc {
			f = at(s.types, d.Extern.Index, "type").funcType()
		}
		f = rename(f, d.Name)
		s.funcs = append(s.funcs, f)
		return &ext{sort: component.SortFunc, fn: f}
	case component.SortInstance:
		in := x.inst
		if d.Extern != nil && d.Extern.Kind == component.SortInstance {
			if t := at(s.types, d.Extern.Index, "type"); t.inst != nil {
				in = e.instanceType(t.inst, d.Name)
			}
		}
		in.claim(d.Name)
		s.instances = append(s.instances, in)
		return &ext{sort: component.SortInstance, inst: in}
	case component.SortComponent:
		s.components = append(s.components, x.comp)
	}
	return nil
}

// claim makes the instance's named types without an owner belong to the interface name.
func (in *inst) claim(name string) {
	for _, k := range in.order {
		if x := in.exports[k]; x.sort == component.SortType && x.ty != nil && x.ty.Kind == Named && x.ty.Owner == "" {
			x.ty.Owner = name
		}
	}
}

func (in *inst) asInterface(name string) *Interface {
	it := &Interface{Name: name}
	for _, k := range in.order {
		x := in.exports[k]
		switch x.sort {
		case component.SortType:
			if x.ty != nil && x.ty.Kind == Named {
				it.Types = append(it.Types, x.ty)
			}
		case component.SortFunc:
			it.Funcs = append(it.Funcs, rename(x.fn, k))
		}
	}
	return it
}

var primNames = map[byte]string{
	0x7f: "bool", 0x7e: "s8", 0x7d: "u8", 0x7c: "s16", 0x7b: "u16", 0x7a: "s32", 0x79: "u32",
	0x78: "s64", 0x77: "u64", 0x76: "f32", 0x75: "f64", 0x74: "char", 0x73: "string", 0x64: "error-context",
}

func (e *evaluator) valType(s *scope, v component.ValType) *Type {
	if v.Prim != 0 {
		n, ok := primNames[v.Prim]
		if !ok {
			fail("unknown primitive type %#x", v.Prim)
		}
		return &Type{Kind: Prim, Prim: n}
	}
	t := at(s.types, v.Index, "type")
	if t.val == nil {
		fail("type %d is not a value type", v.Index)
	}
	return t.val
}

func (e *evaluator) optValType(s *scope, v *component.ValType) *Type {
	if v == nil {
		return nil
	}
	return e.valType(s, *v)
}

func (e *evaluator) typeDef(s *scope, d *component.TypeDef) *tval {
	switch {
	case d.Val != nil:
		return &tval{val: e.defined(s, d.Val)}
	case d.Func != nil:
		f := &Func{}
		for _, p := range d.Func.Params {
			f.Params = append(f.Params, Field{Name: p.Name, Type: e.valType(s, p.Type)})
		}
		for _, r := range d.Func.Results {
			f.Results = append(f.Results, Field{Name: r.Name, Type: e.valType(s, r.Type)})
		}
		return &tval{fn: f}
	case d.IsInst:
		return &tval{inst: &deferred{decls: d.Instance, scope: s}}
	case d.IsComp:
		return &tval{comp: &deferred{decls: d.Component, scope: s}}
	case d.Resource != nil:
		return &tval{val: &Type{Kind: Resource}}
	}
	fail("empty type definition")
	return nil
}

func (e *evaluator) defined(s *scope, d *component.ValTypeDef) *Type {
	switch d.Op {
	case 0x72:
		t := &Type{Kind: Record}
		for _, f := range d.Fields {
			t.Fields = append(t.Fields, Field{Name: f.Name, Type: e.valType(s, f.Type)})
		}
		return t
	case 0x71:
		t := &Type{Kind: Variant}
		for _, c := range d.Cases {
			t.Cases = append(t.Cases, Case{Name: c.Name, Type: e.optValType(s, c.Type)})
		}
		return t
	case 0x70:
		return &Type{Kind: List, Elem: e.valType(s, *d.Elem)}
	case 0x67:
		return &Type{Kind: FixedList, Elem: e.valType(s, *d.Elem), Len: d.Len}
	case 0x6f:
		t := &Type{Kind: Tuple}
		for _, x := range d.Types {
			t.Fields = append(t.Fields, Field{Type: e.valType(s, x)})
		}
		return t
	case 0x6e:
		return &Type{Kind: Flags, Labels: d.Labels}
	case 0x6d:
		return &Type{Kind: Enum, Labels: d.Labels}
	case 0x6b:
		return &Type{Kind: Option, Elem: e.valType(s, *d.Elem)}
	case 0x6a:
		return &Type{Kind: Result, Ok: e.optValType(s, d.Elem), Err: e.optValType(s, d.Err)}
	case 0x69, 0x68:
		k := Own
		if d.Op == 0x68 {
			k = Borrow
		}
		return &Type{Kind: k, Target: at(s.types, d.Index, "type").resourceType()}
	case 0x66:
		return &Type{Kind: Future, Elem: e.optValType(s, d.Elem)}
	case 0x65:
		return &Type{Kind: Stream, Elem: e.optValType(s, d.Elem)}
	case 0x63:
		fail("map types are not supported")
	}
	if n, ok := primNames[d.Op]; ok {
		return &Type{Kind: Prim, Prim: n}
	}
	fail("unknown type form %#x", d.Op)
	return nil
}

func (t *tval) resourceType() *Type {
	if t.val == nil {
		fail("own/borrow of a non-resource type")
	}
	return t.val
}

// Resolve follows named types to their definition.
func (t *Type) Resolve() *Type {
	for i := 0; t != nil && t.Kind == Named && i < 64; i++ {
		t = t.Target
	}
	return t
}

// splitName splits "ns:pkg/iface@ver" into package ("ns:pkg@ver") and interface; ok is false
// for plain (kebab) names.
func splitName(full string) (pkg, iface string, ok bool) {
	name, ver, hasVer := strings.Cut(full, "@")
	p, i, found := strings.Cut(name, "/")
	if !found || !strings.Contains(p, ":") {
		return "", "", false
	}
	if hasVer {
		p += "@" + ver
	}
	return p, i, true
}
