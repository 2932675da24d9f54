package component

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Sorts of component-level index spaces (sortidx encoding).
const (
	SortCore      byte = 0x00
	SortFunc      byte = 0x01
	SortValue     byte = 0x02
	SortType      byte = 0x03
	SortComponent byte = 0x04
	SortInstance  byte = 0x05
)

// Core sorts.
const (
	CoreFunc     byte = 0x00
	CoreTable    byte = 0x01
	CoreMemory   byte = 0x02
	CoreGlobal   byte = 0x03
	CoreTag      byte = 0x04
	CoreType     byte = 0x10
	CoreModule   byte = 0x11
	CoreInstance byte = 0x12
)

// Sort names one index space: Core is set for core sorts (then Sort is a Core* value).
type Sort struct {
	Core bool
	Kind byte
}

func (s Sort) String() string {
	if s.Core {
		switch s.Kind {
		case CoreFunc:
			return "core func"
		case CoreTable:
			return "core table"
		case CoreMemory:
			return "core memory"
		case CoreGlobal:
			return "core global"
		case CoreType:
			return "core type"
		case CoreModule:
			return "core module"
		case CoreInstance:
			return "core instance"
		}
		return fmt.Sprintf("core sort %#x", s.Kind)
	}
	switch s.Kind {
	case SortFunc:
		return "func"
	case SortValue:
		return "value"
	case SortType:
		return "type"
	case SortComponent:
		return "component"
	case SortInstance:
		return "instance"
	}
	return fmt.Sprintf("sort %#x", s.Kind)
}

// Component is a decoded component binary: its definitions in order (order defines the index
// spaces). Nested components are decoded recursively.
type Component struct {
	Defs []Def
}

// Def is one definition: *CoreModuleDef, *CoreInstanceDef, *CoreTypeDef, *Component,
// *InstanceDef, *AliasDef, *TypeDef, *CanonDef, *StartDef, *ImportDef, *ExportDef.
type Def interface{}

// CoreModuleDef is an embedded core module.
type CoreModuleDef struct{ Bytes []byte }

// CoreInstanceDef instantiates a core module (Module, Args) or bundles exports (Exports).
type CoreInstanceDef struct {
	Instantiate bool
	Module      uint32
	Args        []CoreArg
	Exports     []CoreExport
}

// CoreArg is a "with" argument: an import module name satisfied by a core instance.
type CoreArg struct {
	Name     string
	Instance uint32
}

// CoreExport is an inline core export.
type CoreExport struct {
	Name  string
	Sort  byte
	Index uint32
}

// CoreTypeDef is a core type (function or module type); only kept for index counting.
type CoreTypeDef struct {
	Module bool
}

// InstanceDef instantiates a component (Component, Args) or bundles exports.
type InstanceDef struct {
	Instantiate bool
	Component   uint32
	Args        []Arg
	Exports     []Arg
}

// Arg is a named sort/index pair (instantiate arguments and inline exports).
type Arg struct {
	Name  string
	Sort  Sort
	Index uint32
}

// AliasDef is an alias of an instance export, core instance export or outer definition.
type AliasDef struct {
	Sort     Sort
	Target   byte // 0 export, 1 core export, 2 outer
	Instance uint32
	Name     string
	Count    uint32
	Index    uint32
}

// TypeDef is a component-level type definition.
type TypeDef struct {
	// exactly one is set
	Val       *ValTypeDef
	Func      *FuncTypeDef
	Component []Decl
	Instance  []Decl
	Resource  *ResourceTypeDef
	IsComp    bool
	IsInst    bool
}

// ValType is a primitive (Prim != 0, a primvaltype opcode) or a type index.
type ValType struct {
	Prim  byte
	Index uint32
}

// ValTypeDef is a defined value type; Op is its opcode (a primitive opcode, or 0x72 record…).
type ValTypeDef struct {
	Op     byte
	Prim   byte
	Fields []Labeled // record
	Cases  []CaseDef
	Types  []ValType // tuple
	Labels []string  // flags, enum
	Elem   *ValType  // list, option, result ok, own/borrow index in Index
	Err    *ValType  // result error
	Index  uint32
	Len    uint32 // fixed list
}

// Labeled is a named value type.
type Labeled struct {
	Name string
	Type ValType
}

// CaseDef is a variant case.
type CaseDef struct {
	Name string
	Type *ValType
}

// FuncTypeDef is a component function type.
type FuncTypeDef struct {
	Async   bool
	Params  []Labeled
	Results []Labeled // one unnamed result, or legacy named results
}

// ResourceTypeDef defines a guest resource.
type ResourceTypeDef struct {
	Rep  byte
	Dtor *uint32
}

// Decl is a declaration inside a component or instance type.
type Decl struct {
	Kind   byte // 0 core type, 1 type, 2 alias, 3 import, 4 export
	Type   *TypeDef
	Alias  *AliasDef
	Name   string
	Extern ExternDesc
}

// ExternDesc is an extern type: Kind is a Sort* constant (SortCore = core module).
type ExternDesc struct {
	Kind        byte
	Index       uint32
	EqIndex     uint32
	SubResource bool // for SortType: (sub resource); otherwise (eq EqIndex)
	ValType     ValType
}

// CanonDef is a canonical definition.
type CanonDef struct {
	Op       byte // 0 lift, 1 lower, 2 resource.new, 3 resource.drop, 4 resource.rep
	Func     uint32
	Type     uint32 // lift: func type; resource ops: resource type
	Encoding byte
	Memory   *uint32
	Realloc  *uint32
	Post     *uint32
	Async    bool
}

// StartDef is a component start function (unsupported at link time).
type StartDef struct {
	Func    uint32
	Args    []uint32
	Results uint32
}

// ImportDef imports a named item.
type ImportDef struct {
	Name   string
	Extern ExternDesc
}

// ExportDef exports a definition.
type ExportDef struct {
	Name   string
	Sort   Sort
	Index  uint32
	Extern *ExternDesc
}

// ValueDef is a value definition (unsupported at link time).
type ValueDef struct{}

// ErrUnsupportedVersion is wrapped by Decode for pre-standard component binaries.
var ErrUnsupportedVersion = errors.New("unsupported component binary version")

// limits keep hostile inputs from making the decoder allocate without bound
const (
	maxVec   = 1 << 20
	maxDepth = 64
)

type reader struct {
	b     []byte
	off   int
	depth int
}

type decodeError struct{ msg string }

// decodeFailed turns a decoder's panic (x, from recover) into *err, prefixed with what was
// being read, and reports whether there was one; any other panic is not a decoding failure
// and goes on.
func decodeFailed(x any, err *error, what string) bool {
	if x == nil {
		return false
	}
	de, ok := x.(*decodeError)
	if !ok {
		panic(x)
	}
	*err = fmt.Errorf("%s: %s", what, de.msg)
	return true
}

func (r *reader) fail(format string, args ...any) {
	panic(&decodeError{fmt.Sprintf("at byte %d: ", r.off) + fmt.Sprintf(format, args...)})
}

func (r *reader) byte() byte {
	if r.off >= len(r.b) {
		r.fail("unexpected end of data")
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) u32() uint32 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= 35 {
			r.fail("integer too long")
		}
		c := r.byte()
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			break
		}
	}
	if v > 0xffffffff {
		r.fail("integer out of range")
	}
	return uint32(v)
}

// s33 reads a signed LEB128 of at most 33 bits.
func (r *reader) s33() int64 {
	var v int64
	var shift uint
	var c byte
	for {
		if shift >= 35 {
			r.fail("integer too long")
		}
		c = r.byte()
		v |= int64(c&0x7f) << shift
		shift += 7
		if c < 0x80 {
			break
		}
	}
	if shift < 64 && c&0x40 != 0 {
		v |= -1 << shift
	}
	return v
}

func (r *reader) bytes(n uint32) []byte {
	if uint64(r.off)+uint64(n) > uint64(len(r.b)) {
		r.fail("length %d runs past the end of data", n)
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *reader) name() string {
	s := r.bytes(r.u32())
	if !utf8.Valid(s) {
		r.fail("name is not valid UTF-8")
	}
	return string(s)
}

func (r *reader) count() int {
	n := r.u32()
	if n > maxVec || int(n) > len(r.b)-r.off {
		r.fail("vector length %d is larger than the remaining data", n)
	}
	return int(n)
}

// Decode parses a component binary (version 0x0d, layer 1). Errors are one line.
func Decode(b []byte) (c *Component, err error) {
	defer func() {
		if decodeFailed(recover(), &err, "invalid component") {
			c = nil
		}
	}()
	r := &reader{b: b}
	return r.component(), nil
}

func (r *reader) component() *Component {
	r.depth++
	if r.depth > maxDepth {
		r.fail("components nested too deeply")
	}
	defer func() { r.depth-- }()
	hdr := r.bytes(8)
	if string(hdr[:4]) != "\x00asm" {
		r.fail("missing the \\0asm magic number")
	}
	version := uint16(hdr[4]) | uint16(hdr[5])<<8
	layer := uint16(hdr[6]) | uint16(hdr[7])<<8
	if layer != 1 {
		r.fail("not a component (layer %d)", layer)
	}
	if version != 0x0d {
		panic(&decodeError{fmt.Sprintf("%s 0x%x (this host reads version 0xd, the WASI 0.2 component model)", ErrUnsupportedVersion, version)})
	}
	c := &Component{}
	for r.off < len(r.b) {
		id := r.byte()
		size := r.u32()
		body := r.bytes(size)
		sr := &reader{b: body, depth: r.depth}
		base := r.off - len(body)
		func() {
			defer func() {
				if x := recover(); x != nil {
					if de, ok := x.(*decodeError); ok {
						de.msg = fmt.Sprintf("section %d at byte %d: %s", id, base, de.msg)
					}
					panic(x)
				}
			}()
			c.Defs = append(c.Defs, sr.section(id)...)
		}()
		if sr.off != len(sr.b) && id != 0 && id != 1 && id != 4 {
			r.fail("section %d has %d trailing bytes", id, len(sr.b)-sr.off)
		}
	}
	return c
}

func (r *reader) section(id byte) []Def {
	var defs []Def
	switch id {
	case 0: // custom
		r.name()
		r.off = len(r.b)
	case 1:
		if len(r.b) < 8 || string(r.b[:4]) != "\x00asm" {
			r.fail("nested core module has no wasm header")
		}
		defs = append(defs, &CoreModuleDef{Bytes: r.b})
		r.off = len(r.b)
	case 2:
		for n := r.count(); n > 0; n-- {
			defs = append(defs, r.coreInstance())
		}
	case 3:
		for n := r.count(); n > 0; n-- {
			defs = append(defs, r.coreType())
		}
	case 4:
		sub := &reader{b: r.b, depth: r.depth}
		defs = append(defs, sub.component())
		r.off = len(r.b)
	case 5:
		for n := r.count(); n > 0; n-- {
			defs = append(defs, r.instance())
		}
	case 6:
		for n := r.count(); n > 0; n-- {
			defs = append(defs, r.alias())
		}
	case 7:
		for n := r.count(); n > 0; n-- {
			defs = append(defs, r.typeDef())
		}
	case 8:
		for n := r.count(); n > 0; n-- {
			defs = append(defs, r.canon())
		}
	case 9:
		s := &StartDef{Func: r.u32()}
		for n := r.count(); n > 0; n-- {
			s.Args = append(s.Args, r.u32())
		}
		s.Results = r.u32()
		defs = append(defs, s)
	case 10:
		for n := r.count(); n > 0; n-- {
			name := r.externName()
			defs = append(defs, &ImportDef{Name: name, Extern: r.externDesc()})
		}
	case 11:
		for n := r.count(); n > 0; n-- {
			e := &ExportDef{Name: r.externName(), Sort: r.sort()}
			e.Index = r.u32()
			if r.byte() == 1 {
				d := r.externDesc()
				e.Extern = &d
			}
			defs = append(defs, e)
		}
	case 12:
		r.fail("value definitions are not supported")
	default:
		r.fail("unknown section id %d", id)
	}
	return defs
}

func (r *reader) externName() string {
	switch k := r.byte(); k {
	case 0x00, 0x01:
		return r.name()
	case 0x02:
		n := r.name()
		for c := r.count(); c > 0; c-- {
			switch a := r.byte(); a {
			case 0x00, 0x01:
				r.name()
			case 0x02:
				r.name()
			default:
				r.fail("unknown name attribute %#x", a)
			}
		}
		return n
	default:
		r.fail("unknown extern name kind %#x", k)
	}
	return ""
}

func (r *reader) coreSort() byte {
	s := r.byte()
	switch s {
	case CoreFunc, CoreTable, CoreMemory, CoreGlobal, CoreTag, CoreType, CoreModule, CoreInstance:
		return s
	}
	r.fail("unknown core sort %#x", s)
	return 0
}

func (r *reader) sort() Sort {
	s := r.byte()
	switch s {
	case SortCore:
		return Sort{Core: true, Kind: r.coreSort()}
	case SortFunc, SortValue, SortType, SortComponent, SortInstance:
		return Sort{Kind: s}
	}
	r.fail("unknown sort %#x", s)
	return Sort{}
}

func (r *reader) coreInstance() *CoreInstanceDef {
	switch k := r.byte(); k {
	case 0x00:
		d := &CoreInstanceDef{Instantiate: true, Module: r.u32()}
		for n := r.count(); n > 0; n-- {
			name := r.name()
			if s := r.byte(); s != CoreInstance {
				r.fail("core instantiate argument of sort %#x (only instances)", s)
			}
			d.Args = append(d.Args, CoreArg{Name: name, Instance: r.u32()})
		}
		return d
	case 0x01:
		d := &CoreInstanceDef{}
		for n := r.count(); n > 0; n-- {
			name := r.name()
			s := r.coreSort()
			d.Exports = append(d.Exports, CoreExport{Name: name, Sort: s, Index: r.u32()})
		}
		return d
	default:
		r.fail("unknown core instance kind %#x", k)
	}
	return nil
}

func (r *reader) instance() *InstanceDef {
	switch k := r.byte(); k {
	case 0x00:
		d := &InstanceDef{Instantiate: true, Component: r.u32()}
		for n := r.count(); n > 0; n-- {
			name := r.name()
			s := r.sort()
			d.Args = append(d.Args, Arg{Name: name, Sort: s, Index: r.u32()})
		}
		return d
	case 0x01:
		d := &InstanceDef{}
		for n := r.count(); n > 0; n-- {
			name := r.externName()
			s := r.sort()
			d.Exports = append(d.Exports, Arg{Name: name, Sort: s, Index: r.u32()})
		}
		return d
	default:
		r.fail("unknown instance kind %#x", k)
	}
	return nil
}

func (r *reader) alias() *AliasDef {
	a := &AliasDef{Sort: r.sort()}
	a.Target = r.byte()
	switch a.Target {
	case 0x00, 0x01:
		a.Instance = r.u32()
		a.Name = r.name()
	case 0x02:
		a.Count = r.u32()
		a.Index = r.u32()
	default:
		r.fail("unknown alias target %#x", a.Target)
	}
	return a
}

// skipCoreValType skips a core value type (including reference types).
func (r *reader) skipCoreValType() {
	switch c := r.byte(); c {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
	case 0x63, 0x64:
		r.s33()
	default:
		r.fail("unknown core value type %#x", c)
	}
}

func (r *reader) coreFuncType() {
	for n := r.count(); n > 0; n-- {
		r.skipCoreValType()
	}
	for n := r.count(); n > 0; n-- {
		r.skipCoreValType()
	}
}

func (r *reader) coreType() *CoreTypeDef {
	switch c := r.byte(); c {
	case 0x60:
		r.coreFuncType()
		return &CoreTypeDef{}
	case 0x50:
		for n := r.count(); n > 0; n-- {
			switch d := r.byte(); d {
			case 0x00: // import
				r.name()
				r.name()
				r.coreImportDesc()
			case 0x01:
				r.depth++
				if r.depth > maxDepth {
					r.fail("types nested too deeply")
				}
				r.coreType()
				r.depth--
			case 0x02:
				if r.byte() != 0x10 || r.byte() != 0x01 {
					r.fail("bad core alias in module type")
				}
				r.u32()
				r.u32()
			case 0x03:
				r.name()
				r.coreImportDesc()
			default:
				r.fail("unknown module type declaration %#x", d)
			}
		}
		return &CoreTypeDef{Module: true}
	default:
		r.fail("unsupported core type form %#x", c)
	}
	return nil
}

func (r *reader) limits() {
	switch f := r.byte(); f {
	case 0x00, 0x04:
		r.u32()
	case 0x01, 0x05, 0x03:
		r.u32()
		r.u32()
	default:
		r.fail("unknown limits flag %#x", f)
	}
}

// The external kinds of core imports.
const (
	coreFunc   byte = 0x00
	coreMemory byte = 0x02
	coreGlobal byte = 0x03
)

// countImports reads a core module's import section and counts the imports of one kind
// (coreFunc, coreMemory, coreGlobal): what precedes the module's own definitions in that
// index space.
func (r *reader) countImports(kind byte) uint32 {
	var n uint32
	for i := r.count(); i > 0; i-- {
		r.name()
		r.name()
		k := r.off
		r.coreImportDesc()
		if r.b[k] == kind {
			n++
		}
	}
	return n
}

func (r *reader) coreImportDesc() {
	switch k := r.byte(); k {
	case 0x00:
		r.u32()
	case 0x01:
		r.skipCoreValType()
		r.limits()
	case 0x02:
		r.limits()
	case 0x03:
		r.skipCoreValType()
		r.byte()
	case 0x04:
		r.byte()
		r.u32()
	default:
		r.fail("unknown core import kind %#x", k)
	}
}

func (r *reader) valType() ValType {
	v := r.s33()
	if v < 0 {
		op := byte(v & 0x7f)
		if op < 0x64 || op > 0x7f || (op < 0x73 && op != 0x64) {
			r.fail("unknown primitive value type %#x", op)
		}
		return ValType{Prim: op}
	}
	if v > 0xffffffff {
		r.fail("type index out of range")
	}
	return ValType{Index: uint32(v)}
}

func (r *reader) optValType() *ValType {
	switch r.byte() {
	case 0x00:
		return nil
	case 0x01:
		v := r.valType()
		return &v
	}
	r.fail("bad optional value type flag")
	return nil
}

func (r *reader) labeled() Labeled {
	n := r.name()
	return Labeled{Name: n, Type: r.valType()}
}

func (r *reader) typeDef() *TypeDef {
	r.depth++
	if r.depth > maxDepth {
		r.fail("types nested too deeply")
	}
	defer func() { r.depth-- }()
	op := r.byte()
	switch {
	case op >= 0x73 || op == 0x64:
		return &TypeDef{Val: &ValTypeDef{Op: op, Prim: op}}
	}
	switch op {
	case 0x72:
		d := &ValTypeDef{Op: op}
		for n := r.count(); n > 0; n-- {
			d.Fields = append(d.Fields, r.labeled())
		}
		if len(d.Fields) == 0 {
			r.fail("record with no fields")
		}
		return &TypeDef{Val: d}
	case 0x71:
		d := &ValTypeDef{Op: op}
		for n := r.count(); n > 0; n-- {
			c := CaseDef{Name: r.name(), Type: r.optValType()}
			switch r.byte() {
			case 0x00:
			case 0x01: // legacy "refines"
				r.u32()
			default:
				r.fail("bad variant case terminator")
			}
			d.Cases = append(d.Cases, c)
		}
		if len(d.Cases) == 0 {
			r.fail("variant with no cases")
		}
		return &TypeDef{Val: d}
	case 0x70, 0x6b:
		v := r.valType()
		return &TypeDef{Val: &ValTypeDef{Op: op, Elem: &v}}
	case 0x67:
		v := r.valType()
		return &TypeDef{Val: &ValTypeDef{Op: op, Elem: &v, Len: r.u32()}}
	case 0x6f:
		d := &ValTypeDef{Op: op}
		for n := r.count(); n > 0; n-- {
			d.Types = append(d.Types, r.valType())
		}
		if len(d.Types) == 0 {
			r.fail("tuple with no types")
		}
		return &TypeDef{Val: d}
	case 0x6e, 0x6d:
		d := &ValTypeDef{Op: op}
		for n := r.count(); n > 0; n-- {
			d.Labels = append(d.Labels, r.name())
		}
		if op == 0x6e && len(d.Labels) > 32 {
			r.fail("flags with %d labels (at most 32)", len(d.Labels))
		}
		if op == 0x6d && len(d.Labels) == 0 {
			r.fail("enum with no labels")
		}
		return &TypeDef{Val: d}
	case 0x6a:
		d := &ValTypeDef{Op: op, Elem: r.optValType()}
		d.Err = r.optValType()
		return &TypeDef{Val: d}
	case 0x69, 0x68:
		return &TypeDef{Val: &ValTypeDef{Op: op, Index: r.u32()}}
	case 0x66, 0x65:
		return &TypeDef{Val: &ValTypeDef{Op: op, Elem: r.optValType()}}
	case 0x63:
		k := r.valType()
		v := r.valType()
		return &TypeDef{Val: &ValTypeDef{Op: op, Elem: &k, Err: &v}}
	case 0x40, 0x43:
		f := &FuncTypeDef{Async: op == 0x43}
		for n := r.count(); n > 0; n-- {
			f.Params = append(f.Params, r.labeled())
		}
		switch k := r.byte(); k {
		case 0x00:
			f.Results = []Labeled{{Type: r.valType()}}
		case 0x01:
			for n := r.count(); n > 0; n-- { // legacy named results; 0x01 0x00 is "none"
				f.Results = append(f.Results, r.labeled())
			}
		default:
			r.fail("bad result list %#x", k)
		}
		return &TypeDef{Func: f}
	case 0x41:
		t := &TypeDef{IsComp: true}
		for n := r.count(); n > 0; n-- {
			t.Component = append(t.Component, r.decl(true))
		}
		return t
	case 0x42:
		t := &TypeDef{IsInst: true}
		for n := r.count(); n > 0; n-- {
			t.Instance = append(t.Instance, r.decl(false))
		}
		return t
	case 0x3f, 0x3e:
		d := &ResourceTypeDef{Rep: r.byte()}
		if d.Rep != 0x7f {
			r.fail("resource representation must be i32")
		}
		switch r.byte() {
		case 0x00:
		case 0x01:
			f := r.u32()
			d.Dtor = &f
			if op == 0x3e {
				r.optU32()
			}
		default:
			r.fail("bad resource destructor flag")
		}
		return &TypeDef{Resource: d}
	}
	r.fail("unknown type form %#x", op)
	return nil
}

func (r *reader) optU32() {
	if r.byte() == 0x01 {
		r.u32()
	}
}

func (r *reader) decl(component bool) Decl {
	k := r.byte()
	switch k {
	case 0x00:
		r.coreType()
		return Decl{Kind: 0}
	case 0x01:
		return Decl{Kind: 1, Type: r.typeDef()}
	case 0x02:
		return Decl{Kind: 2, Alias: r.alias()}
	case 0x03:
		if !component {
			r.fail("import declaration in an instance type")
		}
		n := r.externName()
		return Decl{Kind: 3, Name: n, Extern: r.externDesc()}
	case 0x04:
		n := r.externName()
		return Decl{Kind: 4, Name: n, Extern: r.externDesc()}
	}
	r.fail("unknown declaration kind %#x", k)
	return Decl{}
}

func (r *reader) externDesc() ExternDesc {
	k := r.byte()
	d := ExternDesc{Kind: k}
	switch k {
	case 0x00:
		if r.byte() != 0x11 {
			r.fail("bad core module extern type")
		}
		d.Index = r.u32()
	case SortFunc, SortComponent, SortInstance:
		d.Index = r.u32()
	case SortValue:
		switch r.byte() {
		case 0x00:
			d.Index = r.u32()
		case 0x01:
			d.ValType = r.valType()
		default:
			r.fail("bad value bound")
		}
	case SortType:
		switch r.byte() {
		case 0x00:
			d.EqIndex = r.u32()
		case 0x01:
			d.SubResource = true
		default:
			r.fail("bad type bound")
		}
	default:
		r.fail("unknown extern type %#x", k)
	}
	return d
}

func (r *reader) canon() *CanonDef {
	op := r.byte()
	c := &CanonDef{Op: op}
	switch op {
	case 0x00, 0x01:
		if r.byte() != 0x00 {
			r.fail("bad canon func sort")
		}
		c.Func = r.u32()
		r.canonOpts(c)
		if op == 0x00 {
			c.Type = r.u32()
		}
	case 0x02, 0x03, 0x04:
		c.Type = r.u32()
	case 0x07: // resource.drop async
		c.Op = 0x03
		c.Type = r.u32()
	default:
		r.fail("canonical built-in %#x is not supported (async and threads are not)", op)
	}
	return c
}

func (r *reader) canonOpts(c *CanonDef) {
	for n := r.count(); n > 0; n-- {
		switch o := r.byte(); o {
		case 0x00, 0x01, 0x02:
			c.Encoding = o
		case 0x03:
			v := r.u32()
			c.Memory = &v
		case 0x04:
			v := r.u32()
			c.Realloc = &v
		case 0x05:
			v := r.u32()
			c.Post = &v
		case 0x06:
			c.Async = true
		case 0x07:
			r.u32()
			c.Async = true
		default:
			r.fail("unknown canon option %#x", o)
		}
	}
}
