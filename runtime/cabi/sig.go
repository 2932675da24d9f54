package cabi

import (
	"context"
	"fmt"
	"strings"
)

// Typed host functions. A host implementation declares each function's component type in WIT
// syntax (Declare) next to a Go function whose parameters and result have the Go types that
// type lifts to and lowers from (Fn0…Fn4, see the package doc for the mapping). The linker
// compares the declared type with the type the guest imports the function with
// (CheckFunc), so a guest built against another shape of an interface fails to link with an
// error naming the import instead of trapping, or misreading its arguments, mid-call.

// Scope holds named types (records, variants, enums, flags, resources and aliases) that
// signatures refer to by name, as a WIT interface does.
type Scope struct {
	types  map[string]*Type
	parent *Scope
}

// NewScope parses WIT type definitions into a scope whose names also see parent's:
//
//	record datetime { seconds: u64, nanoseconds: u32 }
//	variant stream-error { last-operation-failed(own<error>), closed }
//	enum level { trace, debug }
//	flags mode { read, write }
//	resource pollable
//	type duration = u64
//
// Resource names are qualified with iface ("wasi:io/poll@0.2.0#pollable") for error messages;
// a type check compares resources by their local name.
func NewScope(parent *Scope, iface, defs string) (*Scope, error) {
	s := &Scope{types: map[string]*Type{}, parent: parent}
	p := &sigParser{toks: tokenize(defs), scope: s}
	err := p.run(func() {
		for !p.done() {
			kw := p.ident()
			name := p.ident()
			if s.types[name] != nil {
				p.fail("%s is defined twice", name)
			}
			switch kw {
			case "record":
				var fs []Field
				p.list("{", "}", func() {
					n := p.ident()
					p.expect(":")
					fs = append(fs, Field{Name: n, Type: p.typ()})
				})
				s.types[name] = Record(fs...)
			case "variant":
				var cs []Case
				p.list("{", "}", func() {
					c := Case{Name: p.ident()}
					if p.peek() == "(" {
						p.next()
						c.Type = p.typ()
						p.expect(")")
					}
					cs = append(cs, c)
				})
				s.types[name] = Variant(cs...)
			case "enum", "flags":
				var ls []string
				p.list("{", "}", func() { ls = append(ls, p.ident()) })
				if kw == "enum" {
					s.types[name] = Enum(ls...)
				} else {
					s.types[name] = Flags(ls...)
				}
			case "resource":
				s.types[name] = Own(&ResourceType{Name: iface + "#" + name})
			case "type":
				p.expect("=")
				s.types[name] = p.typ()
			default:
				p.fail("unknown definition %q", kw)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", iface, err)
	}
	return s, nil
}

// MustScope is NewScope for definitions written in the program: an error is a bug.
func MustScope(parent *Scope, iface, defs string) *Scope {
	s, err := NewScope(parent, iface, defs)
	if err != nil {
		panic(err)
	}
	return s
}

func (s *Scope) lookup(name string) *Type {
	for ; s != nil; s = s.parent {
		if t := s.types[name]; t != nil {
			return t
		}
	}
	return nil
}

// Type returns a named type of the scope (or its parents); nil if there is none.
func (s *Scope) Type(name string) *Type { return s.lookup(name) }

// Case is the index of a variant's (or enum's) case by name: host code names cases rather
// than numbering them. An unknown name is a bug and panics.
func (s *Scope) Case(typeName, caseName string) uint32 {
	t := s.lookup(typeName)
	if t == nil {
		panic(fmt.Sprintf("cabi: no type %s", typeName))
	}
	switch t.Kind {
	case KVariant:
		for i, c := range t.Cases {
			if c.Name == caseName {
				return uint32(i)
			}
		}
	case KEnum:
		for i, l := range t.Labels {
			if l == caseName {
				return uint32(i)
			}
		}
	}
	panic(fmt.Sprintf("cabi: %s has no case %s", typeName, caseName))
}

// ParseFunc parses a WIT function type, "func(len: u64) -> list<u8>", against scope.
func ParseFunc(scope *Scope, sig string) (ft *FuncType, err error) {
	p := &sigParser{toks: tokenize(sig), scope: scope}
	err = p.run(func() {
		if p.ident() != "func" {
			p.fail("a function type starts with func")
		}
		var params, results []Param
		p.list("(", ")", func() {
			n := p.ident()
			p.expect(":")
			params = append(params, Param{Name: n, Type: p.typ()})
		})
		if p.peek() == "->" {
			p.next()
			results = []Param{{Type: p.typ()}}
		}
		if !p.done() {
			p.fail("unexpected %q after the result", p.peek())
		}
		ft = NewFuncType(params, results)
	})
	if err != nil {
		return nil, fmt.Errorf("%q: %w", sig, err)
	}
	return ft, nil
}

// Signatures parses the WIT signatures of an interface's functions (by function name) once,
// for host interfaces that are rebuilt per invocation around fresh closures and share these
// types; a signature that does not parse is a bug and panics.
func Signatures(scope *Scope, sigs map[string]string) map[string]*FuncType {
	out := make(map[string]*FuncType, len(sigs))
	for n, sig := range sigs {
		ft, err := ParseFunc(scope, sig)
		if err != nil {
			panic(fmt.Sprintf("%s: %v", n, err))
		}
		out[n] = ft
	}
	return out
}

// Typed builds a HostInterface from implementations and their declared types (from
// Signatures); a function without a declared type is a bug and panics.
func Typed(name string, types map[string]*FuncType, funcs map[string]HostFunc) *HostInterface {
	for n := range funcs {
		if types[n] == nil {
			panic(fmt.Sprintf("cabi: %s#%s has no declared type", name, n))
		}
	}
	return &HostInterface{Name: name, Funcs: funcs, Types: types}
}

// HostDecl is one declared host function: its component type and its implementation.
type HostDecl struct {
	Type *FuncType
	Fn   HostFunc
}

// Declare pairs a WIT signature (parsed against scope) with an implementation; a signature
// that does not parse is a bug and panics.
func Declare(scope *Scope, sig string, fn HostFunc) HostDecl {
	ft, err := ParseFunc(scope, sig)
	if err != nil {
		panic(err)
	}
	return HostDecl{Type: ft, Fn: fn}
}

// DeclaredInterface builds a HostInterface from declared functions: Funcs and Types filled.
func DeclaredInterface(name string, decls map[string]HostDecl) *HostInterface {
	h := &HostInterface{Name: name, Funcs: map[string]HostFunc{}, Types: map[string]*FuncType{}}
	for n, d := range decls {
		h.Funcs[n], h.Types[n] = d.Fn, d.Type
	}
	return h
}

// NoResult is the result type of a typed host function without a result.
type NoResult struct{}

// Arg returns argument i as T, trapping the guest when it is missing or of another type
// (which a checked signature rules out).
func Arg[T any](args []Value, i int) T {
	if i >= len(args) {
		trapf("missing argument %d", i)
	}
	v, ok := args[i].(T)
	if !ok {
		var zero T
		trapf("argument %d is %T, expected %T", i, args[i], zero)
	}
	return v
}

func result[R any](r R, err error) (Value, error) {
	if _, none := any(r).(NoResult); none {
		return nil, err
	}
	return r, err
}

// Fn0 adapts a typed host function without parameters.
func Fn0[R any](f func(context.Context) (R, error)) HostFunc {
	return func(ctx context.Context, _ []Value) (Value, error) { return result(f(ctx)) }
}

// Fn1 adapts a typed host function of one parameter.
func Fn1[A, R any](f func(context.Context, A) (R, error)) HostFunc {
	return func(ctx context.Context, a []Value) (Value, error) { return result(f(ctx, Arg[A](a, 0))) }
}

// Fn2 adapts a typed host function of two parameters.
func Fn2[A, B, R any](f func(context.Context, A, B) (R, error)) HostFunc {
	return func(ctx context.Context, a []Value) (Value, error) {
		return result(f(ctx, Arg[A](a, 0), Arg[B](a, 1)))
	}
}

// Fn3 adapts a typed host function of three parameters.
func Fn3[A, B, C, R any](f func(context.Context, A, B, C) (R, error)) HostFunc {
	return func(ctx context.Context, a []Value) (Value, error) {
		return result(f(ctx, Arg[A](a, 0), Arg[B](a, 1), Arg[C](a, 2)))
	}
}

// Fn4 adapts a typed host function of four parameters.
func Fn4[A, B, C, D, R any](f func(context.Context, A, B, C, D) (R, error)) HostFunc {
	return func(ctx context.Context, a []Value) (Value, error) {
		return result(f(ctx, Arg[A](a, 0), Arg[B](a, 1), Arg[C](a, 2), Arg[D](a, 3)))
	}
}

// CheckFunc reports how the type a guest imports a function with (got) differs from the type
// the host implements (want); nil when they agree. Names of parameters do not matter (they
// are not part of the canonical ABI); names of record fields, variant cases, enum and flags
// labels do, and resources are compared by their name within their interface.
func CheckFunc(want, got *FuncType) error {
	if len(want.Params) != len(got.Params) {
		return fmt.Errorf("the host implements %s, the component imports %s (%d parameters, not %d)", funcString(want), funcString(got), len(got.Params), len(want.Params))
	}
	for i := range want.Params {
		if why := typeDiff(want.Params[i].Type, got.Params[i].Type); why != "" {
			return fmt.Errorf("the host implements %s, the component imports %s (parameter %d: %s)", funcString(want), funcString(got), i+1, why)
		}
	}
	if len(want.Results) != len(got.Results) {
		return fmt.Errorf("the host implements %s, the component imports %s (%d results, not %d)", funcString(want), funcString(got), len(got.Results), len(want.Results))
	}
	for i := range want.Results {
		if why := typeDiff(want.Results[i].Type, got.Results[i].Type); why != "" {
			return fmt.Errorf("the host implements %s, the component imports %s (result: %s)", funcString(want), funcString(got), why)
		}
	}
	return nil
}

func funcString(f *FuncType) string {
	var b strings.Builder
	b.WriteString("func(")
	for i, p := range f.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Type.String())
	}
	b.WriteString(")")
	if len(f.Results) == 1 {
		b.WriteString(" -> " + f.Results[0].Type.String())
	}
	return b.String()
}

// typeDiff says where host type w and guest type g differ ("" if nowhere).
func typeDiff(w, g *Type) string {
	if w == nil || g == nil {
		if w == g {
			return ""
		}
		return fmt.Sprintf("%s where %s is expected", orNone(g), orNone(w))
	}
	if w.Kind != g.Kind {
		return fmt.Sprintf("%s where %s is expected", g, w)
	}
	switch w.Kind {
	case KList, KOption:
		return typeDiff(w.Elem, g.Elem)
	case KResult:
		if d := typeDiff(w.Ok, g.Ok); d != "" {
			return "ok: " + d
		}
		if d := typeDiff(w.Err, g.Err); d != "" {
			return "error: " + d
		}
	case KRecord, KTuple:
		if len(w.Fields) != len(g.Fields) {
			return fmt.Sprintf("%s has %d fields where %d are expected", w.Kind, len(g.Fields), len(w.Fields))
		}
		for i := range w.Fields {
			if w.Kind == KRecord && w.Fields[i].Name != g.Fields[i].Name {
				return fmt.Sprintf("record field %q where %q is expected", g.Fields[i].Name, w.Fields[i].Name)
			}
			if d := typeDiff(w.Fields[i].Type, g.Fields[i].Type); d != "" {
				return fmt.Sprintf("field %s: %s", fieldName(w.Fields[i], i), d)
			}
		}
	case KVariant:
		if len(w.Cases) != len(g.Cases) {
			return fmt.Sprintf("variant has %d cases where %d are expected", len(g.Cases), len(w.Cases))
		}
		for i := range w.Cases {
			if w.Cases[i].Name != g.Cases[i].Name {
				return fmt.Sprintf("variant case %q where %q is expected", g.Cases[i].Name, w.Cases[i].Name)
			}
			if d := typeDiff(w.Cases[i].Type, g.Cases[i].Type); d != "" {
				return fmt.Sprintf("case %s: %s", w.Cases[i].Name, d)
			}
		}
	case KEnum, KFlags:
		if strings.Join(w.Labels, ",") != strings.Join(g.Labels, ",") {
			return fmt.Sprintf("%s {%s} where {%s} is expected", w.Kind, strings.Join(g.Labels, ", "), strings.Join(w.Labels, ", "))
		}
	case KOwn, KBorrow:
		if a, b := localName(w.Resource), localName(g.Resource); a != b {
			return fmt.Sprintf("%s<%s> where %s<%s> is expected", w.Kind, b, w.Kind, a)
		}
	}
	return ""
}

func orNone(t *Type) string {
	if t == nil {
		return "nothing"
	}
	return t.String()
}

func fieldName(f Field, i int) string {
	if f.Name != "" {
		return f.Name
	}
	return fmt.Sprint(i)
}

func localName(r *ResourceType) string {
	if r == nil {
		return ""
	}
	if i := strings.LastIndexByte(r.Name, '#'); i >= 0 {
		return r.Name[i+1:]
	}
	return r.Name
}

// ---- a parser for the WIT type syntax the declarations use ----

type sigError struct{ msg string }

type sigParser struct {
	toks  []string
	pos   int
	scope *Scope
}

func tokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '>':
			toks = append(toks, "->")
			i += 2
		case c == '/' && i+1 < len(s) && s[i+1] == '/': // comment to the end of the line
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.IndexByte("<>(){},:=", c) >= 0:
			toks = append(toks, string(c))
			i++
		default:
			j := i
			for j < len(s) && (s[j] == '-' && !(j+1 < len(s) && s[j+1] == '>') || s[j] == '%' || s[j] == '_' ||
				s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			if j == i {
				j = i + 1
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}

func (p *sigParser) run(f func()) (err error) {
	defer func() {
		if x := recover(); x != nil {
			se, ok := x.(*sigError)
			if !ok {
				panic(x)
			}
			err = fmt.Errorf("%s", se.msg)
		}
	}()
	f()
	return nil
}

func (p *sigParser) fail(format string, args ...any) {
	panic(&sigError{fmt.Sprintf(format, args...)})
}

func (p *sigParser) done() bool { return p.pos >= len(p.toks) }

func (p *sigParser) peek() string {
	if p.done() {
		return ""
	}
	return p.toks[p.pos]
}

func (p *sigParser) next() string {
	if p.done() {
		p.fail("unexpected end")
	}
	p.pos++
	return p.toks[p.pos-1]
}

func (p *sigParser) expect(t string) {
	if got := p.next(); got != t {
		p.fail("%q where %q is expected", got, t)
	}
}

func (p *sigParser) ident() string {
	t := p.next()
	if strings.IndexByte("<>(){},:=", t[0]) >= 0 || t == "->" {
		p.fail("%q where a name is expected", t)
	}
	return strings.TrimPrefix(t, "%")
}

// list parses open item, item, … close (a trailing comma allowed).
func (p *sigParser) list(open, close string, item func()) {
	p.expect(open)
	for p.peek() != close {
		item()
		if p.peek() == "," {
			p.next()
		} else if p.peek() != close {
			p.fail("%q where %q or %q is expected", p.peek(), ",", close)
		}
	}
	p.next()
}

var primitives = map[string]Kind{
	"bool": KBool, "s8": KS8, "u8": KU8, "s16": KS16, "u16": KU16, "s32": KS32, "u32": KU32,
	"s64": KS64, "u64": KU64, "f32": KF32, "f64": KF64, "char": KChar, "string": KString,
}

func (p *sigParser) typ() *Type {
	name := p.ident()
	if k, ok := primitives[name]; ok {
		return Prim(k)
	}
	args := func() []*Type {
		var ts []*Type
		if p.peek() != "<" {
			return nil
		}
		p.list("<", ">", func() {
			if p.peek() == "_" {
				p.next()
				ts = append(ts, nil)
				return
			}
			ts = append(ts, p.typ())
		})
		return ts
	}
	one := func(ts []*Type) *Type {
		if len(ts) != 1 || ts[0] == nil {
			p.fail("%s takes one type", name)
		}
		return ts[0]
	}
	switch name {
	case "list":
		return List(one(args()))
	case "option":
		return Option(one(args()))
	case "tuple":
		ts := args()
		for _, t := range ts {
			if t == nil {
				p.fail("tuple<_>")
			}
		}
		return Tuple(ts...)
	case "result":
		switch ts := args(); len(ts) {
		case 0:
			return Result(nil, nil)
		case 1:
			return Result(one(ts), nil)
		case 2:
			return Result(ts[0], ts[1])
		default:
			p.fail("result takes at most two types")
		}
	case "own", "borrow":
		r := one(args())
		if r.Kind != KOwn {
			p.fail("%s of %s, not of a resource", name, r)
		}
		if name == "borrow" {
			return Borrow(r.Resource)
		}
		return r
	}
	t := p.scope.lookup(name)
	if t == nil {
		p.fail("unknown type %q", name)
	}
	return t
}
