// Package cabi implements the component model's canonical ABI: value types, their memory
// layout and flattening, and lifting/lowering between Go values and core wasm values.
//
// Go representation of component values (Value):
//
//	bool                 bool
//	s8..s64, u8..u64     int8..int64, uint8..uint64
//	f32, f64             float32, float64
//	char                 Char
//	string               string
//	list<u8>             []byte
//	list<T>              []Value
//	record, tuple        []Value (fields in order)
//	variant              VariantValue
//	enum                 uint32 (case index)
//	option<T>            OptionValue
//	result<T, E>         ResultValue
//	flags                uint32 (bit i = label i)
//	own<R>, borrow<R>    the resource's Go representation (any); for guest resources a GuestRep
package cabi

import (
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero/api"
)

// Kind is the class of a component value type.
type Kind uint8

const (
	KBool Kind = iota + 1
	KS8
	KU8
	KS16
	KU16
	KS32
	KU32
	KS64
	KU64
	KF32
	KF64
	KChar
	KString
	KList
	KRecord
	KTuple
	KVariant
	KEnum
	KOption
	KResult
	KFlags
	KOwn
	KBorrow
)

var kindNames = [...]string{"", "bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64", "char", "string", "list", "record", "tuple", "variant", "enum", "option", "result", "flags", "own", "borrow"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Field is a record field or tuple element.
type Field struct {
	Name string
	Type *Type
}

// Case is a variant case; Type is nil for a case without payload.
type Case struct {
	Name string
	Type *Type
}

// Type is a component value type with its canonical-ABI layout precomputed. Types are
// immutable once built with the constructors below, and safe to share.
type Type struct {
	Kind     Kind
	Elem     *Type   // list, option
	Fields   []Field // record, tuple
	Labels   []string
	Cases    []Case // variant; also the despecialized cases of enum, option, result
	Ok, Err  *Type  // result
	Resource *ResourceType

	size, align uint32
	flat        []api.ValueType
	discSize    uint32 // variant-like: discriminant bytes
	payloadOff  uint32 // variant-like: payload offset
	caseFlat    [][]api.ValueType
}

// Size is the canonical ABI byte size.
func (t *Type) Size() uint32 { return t.size }

// Align is the canonical ABI alignment.
func (t *Type) Align() uint32 { return t.align }

// Flat is the flattened core value types.
func (t *Type) Flat() []api.ValueType { return t.flat }

func (t *Type) String() string {
	switch t.Kind {
	case KList:
		return "list<" + t.Elem.String() + ">"
	case KOption:
		return "option<" + t.Elem.String() + ">"
	case KResult:
		s := func(x *Type) string {
			if x == nil {
				return "_"
			}
			return x.String()
		}
		return "result<" + s(t.Ok) + ", " + s(t.Err) + ">"
	case KOwn, KBorrow:
		return t.Kind.String() + "<" + t.Resource.Name + ">"
	case KRecord, KTuple:
		var parts []string
		for _, f := range t.Fields {
			parts = append(parts, f.Type.String())
		}
		return t.Kind.String() + "<" + strings.Join(parts, ", ") + ">"
	}
	return t.Kind.String()
}

var prims = buildPrims()

func buildPrims() map[Kind]*Type {
	prims := map[Kind]*Type{}
	for _, p := range []struct {
		k    Kind
		s    uint32
		flat []api.ValueType
	}{
		{KBool, 1, i32s}, {KS8, 1, i32s}, {KU8, 1, i32s}, {KS16, 2, i32s}, {KU16, 2, i32s},
		{KS32, 4, i32s}, {KU32, 4, i32s}, {KChar, 4, i32s},
		{KS64, 8, []api.ValueType{api.ValueTypeI64}}, {KU64, 8, []api.ValueType{api.ValueTypeI64}},
		{KF32, 4, []api.ValueType{api.ValueTypeF32}}, {KF64, 8, []api.ValueType{api.ValueTypeF64}},
		{KString, 8, []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}},
	} {
		a := p.s
		if p.k == KString {
			a = 4
		}
		prims[p.k] = &Type{Kind: p.k, size: p.s, align: a, flat: p.flat}
	}
	return prims
}

var i32s = []api.ValueType{api.ValueTypeI32}

// Prim returns the shared type for a primitive kind (bool, integers, floats, char, string).
func Prim(k Kind) *Type {
	t, ok := prims[k]
	if !ok {
		panic("cabi.Prim: not a primitive kind " + k.String())
	}
	return t
}

// Convenience primitives.
var (
	Bool   = Prim(KBool)
	U8     = Prim(KU8)
	U16    = Prim(KU16)
	U32    = Prim(KU32)
	U64    = Prim(KU64)
	S32    = Prim(KS32)
	S64    = Prim(KS64)
	String = Prim(KString)
)

func alignTo(x, a uint32) uint32 { return (x + a - 1) / a * a }

// List builds list<elem>.
func List(elem *Type) *Type {
	return &Type{Kind: KList, Elem: elem, size: 8, align: 4, flat: []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}}
}

func recordLike(k Kind, fields []Field) *Type {
	t := &Type{Kind: k, Fields: fields, align: 1}
	var off uint32
	for _, f := range fields {
		off = alignTo(off, f.Type.align)
		off += f.Type.size
		if f.Type.align > t.align {
			t.align = f.Type.align
		}
		t.flat = append(t.flat, f.Type.flat...)
	}
	t.size = alignTo(off, t.align)
	return t
}

// Record builds a record type.
func Record(fields ...Field) *Type { return recordLike(KRecord, fields) }

// Tuple builds a tuple type.
func Tuple(types ...*Type) *Type {
	fs := make([]Field, len(types))
	for i, x := range types {
		fs[i] = Field{Type: x}
	}
	return recordLike(KTuple, fs)
}

func discSize(n int) uint32 {
	switch {
	case n <= 1<<8:
		return 1
	case n <= 1<<16:
		return 2
	}
	return 4
}

func join(a, b api.ValueType) api.ValueType {
	if a == b {
		return a
	}
	if (a == api.ValueTypeI32 && b == api.ValueTypeF32) || (a == api.ValueTypeF32 && b == api.ValueTypeI32) {
		return api.ValueTypeI32
	}
	return api.ValueTypeI64
}

func variantLike(t *Type) *Type {
	t.discSize = discSize(len(t.Cases))
	maxAlign, maxSize := t.discSize, uint32(0)
	var flat []api.ValueType
	t.caseFlat = make([][]api.ValueType, len(t.Cases))
	for i, c := range t.Cases {
		if c.Type == nil {
			continue
		}
		if c.Type.align > maxAlign {
			maxAlign = c.Type.align
		}
		if c.Type.size > maxSize {
			maxSize = c.Type.size
		}
		t.caseFlat[i] = c.Type.flat
		for j, ft := range c.Type.flat {
			if j < len(flat) {
				flat[j] = join(flat[j], ft)
			} else {
				flat = append(flat, ft)
			}
		}
	}
	caseAlign := uint32(1)
	for _, c := range t.Cases {
		if c.Type != nil && c.Type.align > caseAlign {
			caseAlign = c.Type.align
		}
	}
	t.payloadOff = alignTo(t.discSize, caseAlign)
	t.align = maxAlign
	t.size = alignTo(t.payloadOff+maxSize, maxAlign)
	t.flat = append([]api.ValueType{api.ValueTypeI32}, flat...)
	return t
}

// Variant builds a variant type.
func Variant(cases ...Case) *Type { return variantLike(&Type{Kind: KVariant, Cases: cases}) }

// Enum builds an enum type.
func Enum(labels ...string) *Type {
	cs := make([]Case, len(labels))
	for i, l := range labels {
		cs[i] = Case{Name: l}
	}
	return variantLike(&Type{Kind: KEnum, Labels: labels, Cases: cs})
}

// Option builds option<elem>.
func Option(elem *Type) *Type {
	return variantLike(&Type{Kind: KOption, Elem: elem, Cases: []Case{{Name: "none"}, {Name: "some", Type: elem}}})
}

// Result builds result<ok, err>; either may be nil.
func Result(ok, err *Type) *Type {
	return variantLike(&Type{Kind: KResult, Ok: ok, Err: err, Cases: []Case{{Name: "ok", Type: ok}, {Name: "error", Type: err}}})
}

// Flags builds a flags type (at most 32 labels, per the spec).
func Flags(labels ...string) *Type {
	t := &Type{Kind: KFlags, Labels: labels}
	n := len(labels)
	switch {
	case n == 0:
		t.size, t.align = 0, 1
	case n <= 8:
		t.size, t.align = 1, 1
	case n <= 16:
		t.size, t.align = 2, 2
	default:
		words := uint32((n + 31) / 32)
		t.size, t.align = 4*words, 4
	}
	for i := 0; i < (n+31)/32; i++ {
		t.flat = append(t.flat, api.ValueTypeI32)
	}
	return t
}

// Own builds own<r>.
func Own(r *ResourceType) *Type {
	return &Type{Kind: KOwn, Resource: r, size: 4, align: 4, flat: i32s}
}

// Borrow builds borrow<r>.
func Borrow(r *ResourceType) *Type {
	return &Type{Kind: KBorrow, Resource: r, size: 4, align: 4, flat: i32s}
}

// Param is a named function parameter.
type Param struct {
	Name string
	Type *Type
}

// FuncType is a component function type with its core signatures precomputed.
type FuncType struct {
	Params  []Param
	Results []Param // zero or one unnamed result; legacy named results are kept as given

	paramTuple  *Type // tuple of params, for spilling
	resultTuple *Type
	flatParams  []api.ValueType
	flatResults []api.ValueType
}

// Limits from the canonical ABI.
const (
	MaxFlatParams  = 16
	MaxFlatResults = 1
)

// NewFuncType builds a function type.
func NewFuncType(params, results []Param) *FuncType {
	f := &FuncType{Params: params, Results: results}
	pt := make([]*Type, len(params))
	for i, p := range params {
		pt[i] = p.Type
	}
	f.paramTuple = Tuple(pt...)
	rt := make([]*Type, len(results))
	for i, p := range results {
		rt[i] = p.Type
	}
	f.resultTuple = Tuple(rt...)
	f.flatParams = f.paramTuple.flat
	f.flatResults = f.resultTuple.flat
	return f
}

func (f *FuncType) spillParams() bool  { return len(f.flatParams) > MaxFlatParams }
func (f *FuncType) spillResults() bool { return len(f.flatResults) > MaxFlatResults }

// LiftSignature is the core signature of a guest function that is lifted (a guest export).
func (f *FuncType) LiftSignature() (params, results []api.ValueType) {
	params, results = f.flatParams, f.flatResults
	if f.spillParams() {
		params = i32s
	}
	if f.spillResults() {
		results = i32s
	}
	return
}

// LowerSignature is the core signature of a lowered function (what a guest imports).
func (f *FuncType) LowerSignature() (params, results []api.ValueType) {
	params, results = f.flatParams, f.flatResults
	if f.spillParams() {
		params = i32s
	}
	if f.spillResults() {
		params = append(append([]api.ValueType(nil), params...), api.ValueTypeI32)
		results = nil
	}
	return
}

func (f *FuncType) String() string {
	var b strings.Builder
	b.WriteString("func(")
	for i, p := range f.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Name + ": " + p.Type.String())
	}
	b.WriteString(")")
	for _, r := range f.Results {
		b.WriteString(" -> " + r.Type.String())
	}
	return b.String()
}
