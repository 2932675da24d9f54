// Package wrpcbridge converts between the runtime's canonical-ABI model (package
// runtime/cabi: the types a component declares, the values lifted from and lowered into its
// memory) and the wire model of package wrpc. lattice/wrpc keeps its own model on purpose: it
// needs the async kinds (future, stream) the runtime does not have, and the provider SDK must
// not link wazero. The two models use the same Go shapes for everything but options, results,
// variants, chars and resource handles, so most values cross unchanged.
package wrpcbridge

import (
	"fmt"
	"sync"

	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/runtime/cabi"
)

var (
	types  sync.Map // *cabi.Type -> *wrpc.Type
	plains sync.Map // *wrpc.Type -> bool
)

// Type is the wire type of a component value type.
func Type(t *cabi.Type) *wrpc.Type {
	if t == nil {
		return nil
	}
	if w, ok := types.Load(t); ok {
		return w.(*wrpc.Type)
	}
	w := wireType(t)
	types.Store(t, w)
	return w
}

// Func is the wire type of a component function type.
func Func(f *cabi.FuncType) *wrpc.FuncType {
	ps := make([]wrpc.Param, len(f.Params))
	for i, p := range f.Params {
		ps[i] = wrpc.Param{Name: p.Name, Type: Type(p.Type)}
	}
	rs := make([]*wrpc.Type, len(f.Results))
	for i, r := range f.Results {
		rs[i] = Type(r.Type)
	}
	return wrpc.NewFunc(ps, rs...)
}

func wireType(t *cabi.Type) *wrpc.Type {
	switch t.Kind {
	case cabi.KBool:
		return wrpc.Bool
	case cabi.KS8:
		return wrpc.S8
	case cabi.KU8:
		return wrpc.U8
	case cabi.KS16:
		return wrpc.S16
	case cabi.KU16:
		return wrpc.U16
	case cabi.KS32:
		return wrpc.S32
	case cabi.KU32:
		return wrpc.U32
	case cabi.KS64:
		return wrpc.S64
	case cabi.KU64:
		return wrpc.U64
	case cabi.KF32:
		return wrpc.F32
	case cabi.KF64:
		return wrpc.F64
	case cabi.KChar:
		return wrpc.Char
	case cabi.KString:
		return wrpc.String
	case cabi.KList:
		return wrpc.List(Type(t.Elem))
	case cabi.KRecord:
		fs := make([]wrpc.Field, len(t.Fields))
		for i, f := range t.Fields {
			fs[i] = wrpc.Field{Name: f.Name, Type: Type(f.Type)}
		}
		return wrpc.Record(fs...)
	case cabi.KTuple:
		ts := make([]*wrpc.Type, len(t.Fields))
		for i, f := range t.Fields {
			ts[i] = Type(f.Type)
		}
		return wrpc.Tuple(ts...)
	case cabi.KVariant:
		cs := make([]wrpc.Case, len(t.Cases))
		for i, c := range t.Cases {
			cs[i] = wrpc.Case{Name: c.Name, Type: Type(c.Type)}
		}
		return wrpc.Variant(cs...)
	case cabi.KEnum:
		return wrpc.Enum(t.Labels...)
	case cabi.KOption:
		return wrpc.Option(Type(t.Elem))
	case cabi.KResult:
		return wrpc.Result(Type(t.Ok), Type(t.Err))
	case cabi.KFlags:
		return wrpc.Flags(t.Labels...)
	case cabi.KOwn:
		return wrpc.Own(resourceName(t))
	case cabi.KBorrow:
		return wrpc.Borrow(resourceName(t))
	}
	panic(fmt.Sprintf("wrpcbridge: unknown kind %s", t.Kind))
}

func resourceName(t *cabi.Type) string {
	if t.Resource == nil {
		return "resource"
	}
	return t.Resource.Name
}

// plain reports whether values of t have the same Go form on both sides.
func plain(t *wrpc.Type) bool {
	if t == nil {
		return true
	}
	if p, ok := plains.Load(t); ok {
		return p.(bool)
	}
	p := true
	switch t.Kind {
	case wrpc.KChar, wrpc.KVariant, wrpc.KOption, wrpc.KResult, wrpc.KOwn, wrpc.KBorrow, wrpc.KFuture, wrpc.KStream:
		p = false
	case wrpc.KList:
		p = plain(t.Elem)
	case wrpc.KRecord, wrpc.KTuple:
		for _, f := range t.Fields {
			if !plain(f.Type) {
				p = false
			}
		}
	}
	plains.Store(t, p)
	return p
}

// ToWire converts a component value to the wire value of type t. Resources cross as
// handles: only handles that came from the wire (a remote resource) can be sent back.
func ToWire(t *wrpc.Type, v cabi.Value) (wrpc.Value, error) {
	if plain(t) {
		return v, nil
	}
	switch t.Kind {
	case wrpc.KChar:
		c, ok := v.(cabi.Char)
		if !ok {
			return nil, mismatch(t, v)
		}
		return rune(c), nil
	case wrpc.KList:
		xs, ok := v.([]cabi.Value)
		if !ok {
			return nil, mismatch(t, v)
		}
		out := make([]wrpc.Value, len(xs))
		for i, x := range xs {
			w, err := ToWire(t.Elem, x)
			if err != nil {
				return nil, err
			}
			out[i] = w
		}
		return out, nil
	case wrpc.KRecord, wrpc.KTuple:
		xs, ok := v.([]cabi.Value)
		if !ok || len(xs) != len(t.Fields) {
			return nil, mismatch(t, v)
		}
		out := make([]wrpc.Value, len(xs))
		for i, x := range xs {
			w, err := ToWire(t.Fields[i].Type, x)
			if err != nil {
				return nil, err
			}
			out[i] = w
		}
		return out, nil
	case wrpc.KVariant:
		vv, ok := v.(cabi.VariantValue)
		if !ok || int(vv.Case) >= len(t.Cases) {
			return nil, mismatch(t, v)
		}
		p, err := ToWire(t.Cases[vv.Case].Type, vv.Value)
		return wrpc.VariantValue{Case: vv.Case, Value: p}, err
	case wrpc.KOption:
		o, ok := v.(cabi.OptionValue)
		if !ok {
			return nil, mismatch(t, v)
		}
		if !o.IsSome {
			return wrpc.None(), nil
		}
		p, err := ToWire(t.Elem, o.Value)
		return wrpc.Some(p), err
	case wrpc.KResult:
		r, ok := v.(cabi.ResultValue)
		if !ok {
			return nil, mismatch(t, v)
		}
		side := t.Ok
		if r.IsErr {
			side = t.Err
		}
		p, err := ToWire(side, r.Value)
		return wrpc.ResultValue{IsErr: r.IsErr, Value: p}, err
	case wrpc.KOwn, wrpc.KBorrow:
		if h, ok := v.(wrpc.Handle); ok {
			return h, nil
		}
		return nil, fmt.Errorf("a %s handle held by this host (%T) cannot be sent to another host", t.Name, v)
	case wrpc.KFuture, wrpc.KStream:
		return nil, fmt.Errorf("%s values cannot cross between a component and the wire", t.Kind)
	}
	return v, nil
}

// FromWire converts a wire value of type t into a component value. Resource handles become
// host resources represented by the wrpc.Handle itself.
func FromWire(t *wrpc.Type, v wrpc.Value) (cabi.Value, error) {
	if plain(t) {
		return v, nil
	}
	switch t.Kind {
	case wrpc.KChar:
		c, ok := v.(rune)
		if !ok {
			return nil, mismatch(t, v)
		}
		return cabi.Char(c), nil
	case wrpc.KList:
		xs, ok := v.([]wrpc.Value)
		if !ok {
			return nil, mismatch(t, v)
		}
		out := make([]cabi.Value, len(xs))
		for i, x := range xs {
			c, err := FromWire(t.Elem, x)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case wrpc.KRecord, wrpc.KTuple:
		xs, ok := v.([]wrpc.Value)
		if !ok || len(xs) != len(t.Fields) {
			return nil, mismatch(t, v)
		}
		out := make([]cabi.Value, len(xs))
		for i, x := range xs {
			c, err := FromWire(t.Fields[i].Type, x)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case wrpc.KVariant:
		vv, ok := v.(wrpc.VariantValue)
		if !ok || int(vv.Case) >= len(t.Cases) {
			return nil, mismatch(t, v)
		}
		p, err := FromWire(t.Cases[vv.Case].Type, vv.Value)
		return cabi.VariantValue{Case: vv.Case, Value: p}, err
	case wrpc.KOption:
		o, ok := v.(wrpc.OptionValue)
		if !ok {
			return nil, mismatch(t, v)
		}
		if !o.IsSome {
			return cabi.None(), nil
		}
		p, err := FromWire(t.Elem, o.Value)
		return cabi.Some(p), err
	case wrpc.KResult:
		r, ok := v.(wrpc.ResultValue)
		if !ok {
			return nil, mismatch(t, v)
		}
		side := t.Ok
		if r.IsErr {
			side = t.Err
		}
		p, err := FromWire(side, r.Value)
		return cabi.ResultValue{IsErr: r.IsErr, Value: p}, err
	case wrpc.KOwn, wrpc.KBorrow:
		h, ok := v.(wrpc.Handle)
		if !ok {
			return nil, mismatch(t, v)
		}
		return h, nil
	case wrpc.KFuture, wrpc.KStream:
		return nil, fmt.Errorf("%s values cannot cross between the wire and a component", t.Kind)
	}
	return v, nil
}

func mismatch(t *wrpc.Type, v any) error {
	return fmt.Errorf("value %T does not fit %s", v, t)
}

// Params converts a call's arguments (component values) to wire values of f's parameters.
func Params(f *wrpc.FuncType, args []cabi.Value) ([]wrpc.Value, error) {
	if len(args) != len(f.Params) {
		return nil, fmt.Errorf("%d arguments for %d parameters", len(args), len(f.Params))
	}
	out := make([]wrpc.Value, len(args))
	for i, a := range args {
		w, err := ToWire(f.Params[i].Type, a)
		if err != nil {
			return nil, fmt.Errorf("param %s: %w", f.Params[i].Name, err)
		}
		out[i] = w
	}
	return out, nil
}

// ParamsFromWire converts received arguments to component values.
func ParamsFromWire(f *wrpc.FuncType, args []wrpc.Value) ([]cabi.Value, error) {
	out := make([]cabi.Value, len(args))
	for i, a := range args {
		c, err := FromWire(f.Params[i].Type, a)
		if err != nil {
			return nil, fmt.Errorf("param %s: %w", f.Params[i].Name, err)
		}
		out[i] = c
	}
	return out, nil
}

// Results converts a component's results to wire values of f's results.
func Results(f *wrpc.FuncType, res []cabi.Value) ([]wrpc.Value, error) {
	if len(res) != len(f.Results) {
		return nil, fmt.Errorf("%d results for %d result types", len(res), len(f.Results))
	}
	out := make([]wrpc.Value, len(res))
	for i, r := range res {
		w, err := ToWire(f.Results[i], r)
		if err != nil {
			return nil, fmt.Errorf("result %d: %w", i, err)
		}
		out[i] = w
	}
	return out, nil
}

// ResultsFromWire converts received results to component values.
func ResultsFromWire(f *wrpc.FuncType, res []wrpc.Value) ([]cabi.Value, error) {
	out := make([]cabi.Value, len(res))
	for i, r := range res {
		c, err := FromWire(f.Results[i], r)
		if err != nil {
			return nil, fmt.Errorf("result %d: %w", i, err)
		}
		out[i] = c
	}
	return out, nil
}

// HasResources reports whether a function passes resource handles.
func HasResources(f *wrpc.FuncType) bool {
	var has func(t *wrpc.Type) bool
	has = func(t *wrpc.Type) bool {
		if t == nil {
			return false
		}
		switch t.Kind {
		case wrpc.KOwn, wrpc.KBorrow:
			return true
		case wrpc.KList, wrpc.KOption, wrpc.KFuture, wrpc.KStream:
			return has(t.Elem)
		case wrpc.KResult:
			return has(t.Ok) || has(t.Err)
		case wrpc.KRecord, wrpc.KTuple:
			for _, f := range t.Fields {
				if has(f.Type) {
					return true
				}
			}
		case wrpc.KVariant:
			for _, c := range t.Cases {
				if has(c.Type) {
					return true
				}
			}
		}
		return false
	}
	for _, p := range f.Params {
		if has(p.Type) {
			return true
		}
	}
	for _, r := range f.Results {
		if has(r) {
			return true
		}
	}
	return false
}

// ComponentType is the component value type of a wire type, for declaring host functions
// whose shape is defined once in wire form (lattice/wrpc/interfaces) and checking a
// component's imports against it. Future and stream have no component form here: an error.
func ComponentType(w *wrpc.Type) (*cabi.Type, error) {
	if w == nil {
		return nil, nil
	}
	if w.Kind >= wrpc.KBool && w.Kind <= wrpc.KString {
		return cabi.Prim(cabi.Kind(w.Kind-wrpc.KBool) + cabi.KBool), nil
	}
	var err error
	ct := func(t *wrpc.Type) *cabi.Type {
		c, e := ComponentType(t)
		if e != nil && err == nil {
			err = e
		}
		return c
	}
	var t *cabi.Type
	switch w.Kind {
	case wrpc.KList:
		t = cabi.List(ct(w.Elem))
	case wrpc.KRecord:
		fs := make([]cabi.Field, len(w.Fields))
		for i, f := range w.Fields {
			fs[i] = cabi.Field{Name: f.Name, Type: ct(f.Type)}
		}
		t = cabi.Record(fs...)
	case wrpc.KTuple:
		ts := make([]*cabi.Type, len(w.Fields))
		for i, f := range w.Fields {
			ts[i] = ct(f.Type)
		}
		t = cabi.Tuple(ts...)
	case wrpc.KVariant:
		cs := make([]cabi.Case, len(w.Cases))
		for i, c := range w.Cases {
			cs[i] = cabi.Case{Name: c.Name, Type: ct(c.Type)}
		}
		t = cabi.Variant(cs...)
	case wrpc.KEnum:
		t = cabi.Enum(w.Labels...)
	case wrpc.KOption:
		t = cabi.Option(ct(w.Elem))
	case wrpc.KResult:
		t = cabi.Result(ct(w.Ok), ct(w.Err))
	case wrpc.KFlags:
		t = cabi.Flags(w.Labels...)
	case wrpc.KOwn:
		t = cabi.Own(&cabi.ResourceType{Name: w.Name})
	case wrpc.KBorrow:
		t = cabi.Borrow(&cabi.ResourceType{Name: w.Name})
	default:
		return nil, fmt.Errorf("wrpcbridge: a %s has no component type", w.Kind)
	}
	return t, err
}

// ComponentFunc is the component function type of a wire function type (see ComponentType).
func ComponentFunc(f *wrpc.FuncType) (*cabi.FuncType, error) {
	ps := make([]cabi.Param, len(f.Params))
	for i, p := range f.Params {
		t, err := ComponentType(p.Type)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		ps[i] = cabi.Param{Name: p.Name, Type: t}
	}
	rs := make([]cabi.Param, len(f.Results))
	for i, r := range f.Results {
		t, err := ComponentType(r)
		if err != nil {
			return nil, fmt.Errorf("result: %w", err)
		}
		rs[i] = cabi.Param{Type: t}
	}
	return cabi.NewFuncType(ps, rs), nil
}
