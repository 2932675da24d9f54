package cabi

import (
	"context"
	"fmt"
)

// Value is a component value in its Go representation (see the package doc).
type Value = any

// Char is a Unicode scalar value (the component type char).
type Char rune

// VariantValue is a value of a variant type.
type VariantValue struct {
	Case  uint32
	Value Value // nil for a case without payload
}

// OptionValue is a value of option<T>.
type OptionValue struct {
	IsSome bool
	Value  Value
}

// ResultValue is a value of result<T, E>.
type ResultValue struct {
	IsErr bool
	Value Value // nil when the taken side has no payload
}

// Some wraps v as option::some.
func Some(v Value) OptionValue { return OptionValue{IsSome: true, Value: v} }

// None is option::none.
func None() OptionValue { return OptionValue{} }

// Ok wraps v as result::ok.
func Ok(v Value) ResultValue { return ResultValue{Value: v} }

// Err wraps v as result::error.
func Err(v Value) ResultValue { return ResultValue{IsErr: true, Value: v} }

// GuestRep is how a resource defined by a guest component (canon resource.new) looks to the
// host: the guest's i32 representation and its type.
type GuestRep struct {
	Type *ResourceType
	Rep  uint32
}

// Dropper is implemented by host resource representations that release something when the
// guest drops its last owning handle (or the instance ends).
type Dropper interface{ Drop() }

// ResourceType identifies one resource type. Host resources are the ones a component imports;
// guest resources are defined inside the component (with a destructor run through DropGuest).
type ResourceType struct {
	Name  string // e.g. "wasi:http/types@0.2.0#fields"
	Guest bool
	ID    int // linker-assigned, for guest resources
}

// HostFunc implements one imported component function. args are lifted from the guest;
// the returned value (nil for no result) is lowered back. An error traps the guest.
// ctx carries the calling instance (see the component and wasi packages).
type HostFunc func(ctx context.Context, args []Value) (Value, error)

// HostInterface is a host implementation of one component interface, keyed by its full name
// (e.g. "wasi:keyvalue/store@0.2.0-draft"). Funcs is keyed by the function's name within the
// interface, exactly as in the component ("get", "[method]bucket.get", "[constructor]fields",
// "[static]outgoing-body.finish"). Resource drops need no entry: they call Dropper.Drop.
type HostInterface struct {
	Name  string
	Funcs map[string]HostFunc
	// Types declares the component type of functions of Funcs (see Declare); the linker
	// refuses a component that imports one of them with another type. Functions without an
	// entry are not checked.
	Types map[string]*FuncType
}

// Trap is a guest-visible failure raised while lifting/lowering; it aborts the call.
type Trap struct{ Msg string }

func (t *Trap) Error() string { return "trap: " + t.Msg }

func trapf(format string, args ...any) {
	panic(&Trap{Msg: fmt.Sprintf(format, args...)})
}

// Catch converts a panic raised by this package (or a host function) into an error; use it
// with defer at API boundaries.
func Catch(err *error) {
	if r := recover(); r != nil {
		switch x := r.(type) {
		case *Trap:
			*err = x
		case error:
			*err = x
		default:
			*err = fmt.Errorf("panic: %v", r)
		}
	}
}
