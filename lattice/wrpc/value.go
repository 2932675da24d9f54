package wrpc

import (
	"context"
	"io"
)

// Value is a component value in its Go representation, always read together with its Type:
//
//	bool                 bool
//	s8..s64, u8..u64     int8..int64, uint8..uint64
//	f32, f64             float32, float64
//	char                 rune
//	string               string
//	list<u8>             []byte (to send also: string)
//	list<T>              []Value (to send also: []string for list<string> and list<list<u8>>)
//	record, tuple        []Value (fields in order)
//	variant              VariantValue
//	enum                 uint32 (case index)
//	option<T>            OptionValue
//	result<T, E>         ResultValue
//	flags                uint32 (bit i = label i)
//	own<R>, borrow<R>    Handle (opaque bytes chosen by the peer that owns the resource)
//	future<T>            FutureValue (to send: any FutureValue, e.g. Ready(v))
//	stream<u8>           to send: io.Reader or []byte; received: *ByteStream
//	stream<T>            StreamValue (to send: any StreamValue, e.g. StreamOf(...))
type Value = any

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

// Err wraps v as result::err.
func Err(v Value) ResultValue { return ResultValue{IsErr: true, Value: v} }

// Handle is a resource handle on the wire: opaque bytes the owning peer handed out.
type Handle []byte

// FutureValue is a future<T>: Await blocks until the value is there.
type FutureValue interface {
	Await(ctx context.Context) (Value, error)
}

// StreamValue is a stream<T> for T other than u8: Next returns the next chunk of elements,
// io.EOF after the last one.
type StreamValue interface {
	Next(ctx context.Context) ([]Value, error)
}

// Ready is a future that is already resolved.
func Ready(v Value) FutureValue { return readyFuture{v} }

type readyFuture struct{ v Value }

func (r readyFuture) Await(context.Context) (Value, error) { return r.v, nil }

// FutureFunc adapts a function to FutureValue.
type FutureFunc func(ctx context.Context) (Value, error)

// Await calls f.
func (f FutureFunc) Await(ctx context.Context) (Value, error) { return f(ctx) }

// StreamOf is a stream<T> that sends elems as one chunk.
func StreamOf(elems ...Value) StreamValue { return &sliceStream{elems: elems} }

type sliceStream struct {
	elems []Value
	done  bool
}

func (s *sliceStream) Next(context.Context) ([]Value, error) {
	if s.done || len(s.elems) == 0 {
		return nil, io.EOF
	}
	s.done = true
	return s.elems, nil
}

// StreamChan is a stream<T> fed by a channel: each receive is one chunk; close ends it.
type StreamChan <-chan []Value

// Next receives one chunk.
func (c StreamChan) Next(ctx context.Context) ([]Value, error) {
	select {
	case v, ok := <-c:
		if !ok {
			return nil, io.EOF
		}
		return v, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// CloseAtEnd returns a reader of rc that closes rc once a read ends it (EOF or an error), so a
// body handed over as a stream<u8> value is released when the stream has been consumed.
func CloseAtEnd(rc io.ReadCloser) io.Reader { return &closeAtEnd{rc: rc} }

type closeAtEnd struct{ rc io.ReadCloser }

func (c *closeAtEnd) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if err != nil {
		_ = c.rc.Close()
	}
	return n, err
}
