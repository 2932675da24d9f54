package wrpc

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Kind is the class of a component value type.
type Kind uint8

// The value kinds of the component model, plus the async kinds wRPC carries (future, stream).
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
	KFuture
	KStream
)

var kindNames = [...]string{"", "bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64",
	"char", "string", "list", "record", "tuple", "variant", "enum", "option", "result", "flags", "own", "borrow",
	"future", "stream"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && k > 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Field is a record field (named) or a tuple member (Name empty).
type Field struct {
	Name string
	Type *Type
}

// Case is a variant case; Type is nil for a case without payload.
type Case struct {
	Name string
	Type *Type
}

// Type is a component value type as wRPC sees it: no memory layout, but the async kinds.
// Build types with the constructors below; a Type is immutable once built and safe to share.
type Type struct {
	Kind   Kind
	Elem   *Type   // list, option; future and stream (nil: no payload)
	Fields []Field // record, tuple
	Cases  []Case  // variant
	Labels []string
	Ok     *Type  // result (nil: no payload)
	Err    *Type  // result (nil: no payload)
	Name   string // own, borrow: the resource name; record, variant, enum, flags: optional WIT name

	async int8 // 0 unknown, 1 has async parts, 2 none
}

var prims = func() map[Kind]*Type {
	m := map[Kind]*Type{}
	for k := KBool; k <= KString; k++ {
		m[k] = &Type{Kind: k, async: 2}
	}
	return m
}()

// Primitive types.
var (
	Bool   = prims[KBool]
	S8     = prims[KS8]
	U8     = prims[KU8]
	S16    = prims[KS16]
	U16    = prims[KU16]
	S32    = prims[KS32]
	U32    = prims[KU32]
	S64    = prims[KS64]
	U64    = prims[KU64]
	F32    = prims[KF32]
	F64    = prims[KF64]
	Char   = prims[KChar]
	String = prims[KString]
)

// Prim returns the shared type of a primitive kind (bool through string).
func Prim(k Kind) (*Type, bool) {
	t, ok := prims[k]
	return t, ok
}

func (t *Type) seal() *Type {
	if t.hasAsync() {
		t.async = 1
	} else {
		t.async = 2
	}
	return t
}

// List builds list<elem>.
func List(elem *Type) *Type { return (&Type{Kind: KList, Elem: elem}).seal() }

// Record builds a record from named fields.
func Record(fields ...Field) *Type { return (&Type{Kind: KRecord, Fields: fields}).seal() }

// Tuple builds tuple<types...>.
func Tuple(types ...*Type) *Type {
	fs := make([]Field, len(types))
	for i, x := range types {
		fs[i] = Field{Type: x}
	}
	return (&Type{Kind: KTuple, Fields: fs}).seal()
}

// Variant builds a variant.
func Variant(cases ...Case) *Type { return (&Type{Kind: KVariant, Cases: cases}).seal() }

// Enum builds an enum.
func Enum(labels ...string) *Type { return (&Type{Kind: KEnum, Labels: labels}).seal() }

// Option builds option<elem>.
func Option(elem *Type) *Type { return (&Type{Kind: KOption, Elem: elem}).seal() }

// Result builds result<ok, err>; either may be nil (no payload).
func Result(ok, err *Type) *Type { return (&Type{Kind: KResult, Ok: ok, Err: err}).seal() }

// Flags builds a flags type; the component model allows at most 32 labels.
func Flags(labels ...string) *Type { return (&Type{Kind: KFlags, Labels: labels}).seal() }

// Own builds own<resource>.
func Own(resource string) *Type { return (&Type{Kind: KOwn, Name: resource}).seal() }

// Borrow builds borrow<resource>.
func Borrow(resource string) *Type { return (&Type{Kind: KBorrow, Name: resource}).seal() }

// Future builds future<elem> (elem may be nil).
func Future(elem *Type) *Type { return (&Type{Kind: KFuture, Elem: elem}).seal() }

// Stream builds stream<elem> (elem may be nil).
func Stream(elem *Type) *Type { return (&Type{Kind: KStream, Elem: elem}).seal() }

// Named returns a copy of t carrying a WIT name (for messages and printing only).
func Named(name string, t *Type) *Type {
	c := *t
	c.Name = name
	return &c
}

// hasAsync reports whether a value of t carries a future or a stream anywhere.
func (t *Type) hasAsync() bool {
	if t == nil {
		return false
	}
	switch t.async {
	case 1:
		return true
	case 2:
		return false
	}
	switch t.Kind {
	case KFuture, KStream:
		return true
	case KList, KOption:
		return t.Elem.hasAsync()
	case KRecord, KTuple:
		for _, f := range t.Fields {
			if f.Type.hasAsync() {
				return true
			}
		}
	case KVariant:
		for _, c := range t.Cases {
			if c.Type.hasAsync() {
				return true
			}
		}
	case KResult:
		return t.Ok.hasAsync() || t.Err.hasAsync()
	}
	return false
}

// HasAsync reports whether a value of t carries a future or a stream anywhere.
func (t *Type) HasAsync() bool { return t.hasAsync() }

// String prints the type in WIT syntax (records, variants, enums and flags by name when
// they have one, else structurally).
func (t *Type) String() string {
	if t == nil {
		return "_"
	}
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *Type) write(b *strings.Builder) {
	opt := func(x *Type) {
		if x == nil {
			b.WriteString("_")
		} else {
			x.write(b)
		}
	}
	switch t.Kind {
	case KList, KOption, KFuture, KStream:
		b.WriteString(t.Kind.String())
		if t.Elem == nil {
			return
		}
		b.WriteString("<")
		t.Elem.write(b)
		b.WriteString(">")
	case KResult:
		b.WriteString("result")
		if t.Ok == nil && t.Err == nil {
			return
		}
		b.WriteString("<")
		opt(t.Ok)
		if t.Err != nil {
			b.WriteString(", ")
			t.Err.write(b)
		}
		b.WriteString(">")
	case KTuple:
		b.WriteString("tuple<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			f.Type.write(b)
		}
		b.WriteString(">")
	case KOwn:
		b.WriteString(t.Name)
	case KBorrow:
		b.WriteString("borrow<" + t.Name + ">")
	case KRecord, KVariant, KEnum, KFlags:
		if t.Name != "" {
			b.WriteString(t.Name)
			return
		}
		b.WriteString(t.Kind.String() + " { ")
		switch t.Kind {
		case KRecord:
			for i, f := range t.Fields {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(f.Name + ": ")
				f.Type.write(b)
			}
		case KVariant:
			for i, c := range t.Cases {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(c.Name)
				if c.Type != nil {
					b.WriteString("(")
					c.Type.write(b)
					b.WriteString(")")
				}
			}
		default:
			b.WriteString(strings.Join(t.Labels, ", "))
		}
		b.WriteString(" }")
	default:
		b.WriteString(t.Kind.String())
	}
}

// Param is a named function parameter.
type Param struct {
	Name string
	Type *Type
}

// FuncType is a function's parameter and result types. Parameters travel as one tuple, results
// as another.
type FuncType struct {
	Params  []Param
	Results []*Type

	once        sync.Once
	paramTypes  []*Type
	paramPaths  [][]int
	resultPaths [][]int
	// the paths as channel keys ("0.1"); unroutable when a path holds a Wildcard
	paramKeys, resultKeys               []string
	paramsUnroutable, resultsUnroutable bool
}

// derived computes what every call needs once (a FuncType must not change after first use).
func (f *FuncType) derived() *FuncType {
	f.once.Do(func() {
		f.paramTypes = make([]*Type, len(f.Params))
		for i, p := range f.Params {
			f.paramTypes[i] = p.Type
		}
		f.paramPaths = AsyncPaths(f.paramTypes)
		f.resultPaths = AsyncPaths(f.Results)
		f.paramKeys, f.paramsUnroutable = pathKeys(f.paramPaths)
		f.resultKeys, f.resultsUnroutable = pathKeys(f.resultPaths)
	})
	return f
}

// pathKeys names each path's channel as the part of its subject after ".params." or
// ".results."; unroutable when a path holds a Wildcard (async values inside list or stream
// elements, which the Rust transport cannot demultiplex either).
func pathKeys(paths [][]int) (keys []string, unroutable bool) {
	for _, p := range paths {
		if slices.Contains(p, Wildcard) {
			return nil, true
		}
		keys = append(keys, pathKey(p))
	}
	return keys, false
}

// NewFunc builds a function type: params as name/type pairs, then the result types.
func NewFunc(params []Param, results ...*Type) *FuncType {
	return &FuncType{Params: params, Results: results}
}

// ParamTypes lists the parameter types in order (shared; do not modify).
func (f *FuncType) ParamTypes() []*Type { return f.derived().paramTypes }

func (f *FuncType) String() string {
	var b strings.Builder
	b.WriteString("func(")
	for i, p := range f.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Name + ": ")
		p.Type.write(&b)
	}
	b.WriteString(")")
	switch len(f.Results) {
	case 0:
	case 1:
		b.WriteString(" -> ")
		f.Results[0].write(&b)
	default:
		b.WriteString(" -> (")
		for i, r := range f.Results {
			if i > 0 {
				b.WriteString(", ")
			}
			r.write(&b)
		}
		b.WriteString(")")
	}
	return b.String()
}

// Wildcard stands for "every element" in a subscription path (list and stream elements).
const Wildcard = -1

// AsyncPaths lists the index paths of every future and stream inside a tuple of types (the
// params or results of a function), which a peer must subscribe to before it triggers the
// other side. An element position inside a list or stream is Wildcard.
func AsyncPaths(types []*Type) [][]int {
	var out [][]int
	for i, t := range types {
		out = appendAsyncPaths(out, t, []int{i})
	}
	return out
}

func appendAsyncPaths(out [][]int, t *Type, path []int) [][]int {
	if !t.hasAsync() {
		return out
	}
	sub := func(i int) []int {
		p := make([]int, len(path)+1)
		copy(p, path)
		p[len(path)] = i
		return p
	}
	switch t.Kind {
	case KFuture:
		out = append(out, path)
		// the future's value is written on the future's own path
		out = appendAsyncPaths(out, t.Elem, path)
	case KStream:
		out = append(out, path)
		out = appendAsyncPaths(out, t.Elem, sub(Wildcard))
	case KList:
		out = appendAsyncPaths(out, t.Elem, sub(Wildcard))
	case KRecord, KTuple:
		for i, f := range t.Fields {
			out = appendAsyncPaths(out, f.Type, sub(i))
		}
	case KOption:
		out = appendAsyncPaths(out, t.Elem, path)
	case KResult:
		out = appendAsyncPaths(out, t.Ok, path)
		out = appendAsyncPaths(out, t.Err, path)
	case KVariant:
		for _, c := range t.Cases {
			out = appendAsyncPaths(out, c.Type, path)
		}
	}
	return dedupPaths(out)
}

func dedupPaths(ps [][]int) [][]int {
	out := ps[:0]
	for _, p := range ps {
		dup := false
		for _, q := range out {
			if equalPath(p, q) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, p)
		}
	}
	return out
}

func equalPath(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
