// Package keyvalue serves and calls wrpc:keyvalue@0.2.0-draft (store, atomics, batch), the
// interface wasmCloud hosts use to reach key-value providers: a provider implements Store and
// serves Exports; a host (or anything else) calls a provider through Client.
package keyvalue

import (
	"context"
	"errors"
	"fmt"

	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
)

// Store is one key-value backend as one caller sees it. Buckets are the names components
// passed to wasi:keyvalue/store.open.
type Store interface {
	Get(ctx context.Context, bucket, key string) (value []byte, found bool, err error)
	Set(ctx context.Context, bucket, key string, value []byte) error
	Delete(ctx context.Context, bucket, key string) error
	Exists(ctx context.Context, bucket, key string) (bool, error)
	// ListKeys returns one page of keys from cursor on, and the cursor of the next page (nil
	// when done).
	ListKeys(ctx context.Context, bucket string, cursor uint64) ([]string, *uint64, error)
	// Increment adds delta atomically (a missing key counts as 0) and returns the new value.
	Increment(ctx context.Context, bucket, key string, delta uint64) (uint64, error)
}

// Cases of wasi:keyvalue/store's error variant, in declaration order.
const (
	CaseNoSuchStore  uint32 = 0
	CaseAccessDenied uint32 = 1
	CaseOther        uint32 = 2
)

// Error is an error the caller should see as a specific store error.
type Error struct {
	Case uint32 // CaseNoSuchStore, CaseAccessDenied or CaseOther (with Msg)
	Msg  string
}

func (e *Error) Error() string {
	switch e.Case {
	case CaseNoSuchStore:
		return "no such store"
	case CaseAccessDenied:
		return "access denied"
	}
	return e.Msg
}

// ErrNoSuchStore is error::no-such-store.
var ErrNoSuchStore = &Error{Case: CaseNoSuchStore}

// errValue is the error variant for err.
func errValue(err error) wrpc.Value {
	var ke *Error
	if errors.As(err, &ke) {
		if ke.Case == CaseOther {
			return wrpc.Err(wrpc.VariantValue{Case: CaseOther, Value: ke.Msg})
		}
		return wrpc.Err(wrpc.VariantValue{Case: ke.Case})
	}
	return wrpc.Err(wrpc.VariantValue{Case: CaseOther, Value: err.Error()})
}

func str(a []wrpc.Value, i int) string {
	if i < len(a) {
		s, _ := a[i].(string)
		return s
	}
	return ""
}

func strs(v wrpc.Value) []string {
	l, _ := v.([]wrpc.Value)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// Open finds the store (and the backend's bucket name) for one invocation; ctx carries the
// invocation's headers (see provider.Caller). An error becomes the call's error value.
type Open func(ctx context.Context, bucket string) (Store, string, error)

// Exports serves every wrpc:keyvalue function with the store open gives for each call.
func Exports(open Open) []wrpc.Export {
	with := func(f *interfaces.Func, do func(ctx context.Context, s Store, bucket string, a []wrpc.Value) (wrpc.Value, error)) wrpc.Export {
		return wrpc.Export{Instance: f.Instance, Func: f.Name, Type: f.Type, Handler: func(ctx context.Context, a []wrpc.Value) ([]wrpc.Value, error) {
			s, bucket, err := open(ctx, str(a, 0))
			if err != nil {
				return []wrpc.Value{errValue(err)}, nil
			}
			v, err := do(ctx, s, bucket, a)
			if err != nil {
				return []wrpc.Value{errValue(err)}, nil
			}
			return []wrpc.Value{v}, nil
		}}
	}
	return []wrpc.Export{
		with(interfaces.KVGet, func(ctx context.Context, s Store, b string, a []wrpc.Value) (wrpc.Value, error) {
			v, found, err := s.Get(ctx, b, str(a, 1))
			if err != nil || !found {
				return wrpc.Ok(wrpc.None()), err
			}
			if v == nil {
				v = []byte{}
			}
			return wrpc.Ok(wrpc.Some(v)), nil
		}),
		with(interfaces.KVSet, func(ctx context.Context, s Store, b string, a []wrpc.Value) (wrpc.Value, error) {
			v, _ := a[2].([]byte)
			return wrpc.Ok(nil), s.Set(ctx, b, str(a, 1), v)
		}),
		with(interfaces.KVDelete, func(ctx context.Context, s Store, b string, a []wrpc.Value) (wrpc.Value, error) {
			return wrpc.Ok(nil), s.Delete(ctx, b, str(a, 1))
		}),
		with(interfaces.KVExists, func(ctx context.Context, s Store, b string, a []wrpc.Value) (wrpc.Value, error) {
			ok, err := s.Exists(ctx, b, str(a, 1))
			return wrpc.Ok(ok), err
		}),
		with(interfaces.KVListKeys, func(ctx context.Context, s Store, b string, a []wrpc.Value) (wrpc.Value, error) {
			var cursor uint64
			if o, ok := a[1].(wrpc.OptionValue); ok && o.IsSome {
				cursor, _ = o.Value.(uint64)
			}
			keys, next, err := s.ListKeys(ctx, b, cursor)
			list := make([]wrpc.Value, len(keys))
			for i, k := range keys {
				list[i] = k
			}
			n := wrpc.None()
			if next != nil {
				n = wrpc.Some(*next)
			}
			return wrpc.Ok([]wrpc.Value{list, n}), err
		}),
		with(interfaces.KVIncrement, func(ctx context.Context, s Store, b string, a []wrpc.Value) (wrpc.Value, error) {
			d, _ := a[2].(uint64)
			n, err := s.Increment(ctx, b, str(a, 1), d)
			return wrpc.Ok(n), err
		}),
		with(interfaces.KVGetMany, func(ctx context.Context, s Store, b string, a []wrpc.Value) (wrpc.Value, error) {
			var out []wrpc.Value
			for _, k := range strs(a[1]) {
				v, found, err := s.Get(ctx, b, k)
				if err != nil {
					return nil, err
				}
				if !found {
					out = append(out, wrpc.None())
					continue
				}
				if v == nil {
					v = []byte{}
				}
				out = append(out, wrpc.Some([]wrpc.Value{k, v}))
			}
			return wrpc.Ok(out), nil
		}),
		with(interfaces.KVSetMany, func(ctx context.Context, s Store, b string, a []wrpc.Value) (wrpc.Value, error) {
			pairs, _ := a[1].([]wrpc.Value)
			for _, pv := range pairs {
				kv, _ := pv.([]wrpc.Value)
				if len(kv) != 2 {
					continue
				}
				k, _ := kv[0].(string)
				v, _ := kv[1].([]byte)
				if err := s.Set(ctx, b, k, v); err != nil {
					return nil, err
				}
			}
			return wrpc.Ok(nil), nil
		}),
		with(interfaces.KVDeleteMany, func(ctx context.Context, s Store, b string, a []wrpc.Value) (wrpc.Value, error) {
			for _, k := range strs(a[1]) {
				if err := s.Delete(ctx, b, k); err != nil {
					return nil, err
				}
			}
			return wrpc.Ok(nil), nil
		}),
	}
}

// Client is a Store served by a provider over wrpc:keyvalue. Error values from the provider
// come back as *Error; a call that cannot be made at all comes back wrapped by Fail.
type Client struct {
	Conn *wrpc.Conn
	// Invocation names the provider ("<lattice>.<provider-id>") and carries source-id and
	// link-name; Instance and Func are set per call.
	Invocation wrpc.Invocation
	// Fail wraps errors of calls that could not be made (nil: returned as they are).
	Fail func(error) error
}

func (c *Client) call(ctx context.Context, f *interfaces.Func, args ...wrpc.Value) (wrpc.Value, error) {
	inv := c.Invocation
	inv.Instance, inv.Func = f.Instance, f.Name
	res, err := c.Conn.Invoke(ctx, inv, f.Type, args)
	if err != nil {
		err = fmt.Errorf("%s.%s: %w", f.Instance, f.Name, err)
		if c.Fail != nil {
			err = c.Fail(err)
		}
		return nil, err
	}
	rv, _ := res[0].(wrpc.ResultValue)
	if rv.IsErr {
		vv, _ := rv.Value.(wrpc.VariantValue)
		msg, _ := vv.Value.(string)
		return nil, &Error{Case: vv.Case, Msg: msg}
	}
	return rv.Value, nil
}

// Get implements Store.
func (c *Client) Get(ctx context.Context, bucket, key string) ([]byte, bool, error) {
	v, err := c.call(ctx, interfaces.KVGet, bucket, key)
	if err != nil {
		return nil, false, err
	}
	o, _ := v.(wrpc.OptionValue)
	b, _ := o.Value.([]byte)
	return b, o.IsSome, nil
}

// Set implements Store.
func (c *Client) Set(ctx context.Context, bucket, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := c.call(ctx, interfaces.KVSet, bucket, key, value)
	return err
}

// Delete implements Store.
func (c *Client) Delete(ctx context.Context, bucket, key string) error {
	_, err := c.call(ctx, interfaces.KVDelete, bucket, key)
	return err
}

// Exists implements Store.
func (c *Client) Exists(ctx context.Context, bucket, key string) (bool, error) {
	v, err := c.call(ctx, interfaces.KVExists, bucket, key)
	b, _ := v.(bool)
	return b, err
}

// ListKeys implements Store.
func (c *Client) ListKeys(ctx context.Context, bucket string, cursor uint64) ([]string, *uint64, error) {
	cur := wrpc.None()
	if cursor != 0 {
		cur = wrpc.Some(cursor)
	}
	v, err := c.call(ctx, interfaces.KVListKeys, bucket, cur)
	if err != nil {
		return nil, nil, err
	}
	rec, _ := v.([]wrpc.Value)
	if len(rec) != 2 {
		return nil, nil, errors.New("list-keys: malformed key-response")
	}
	var next *uint64
	if o, _ := rec[1].(wrpc.OptionValue); o.IsSome {
		n, _ := o.Value.(uint64)
		next = &n
	}
	return strs(rec[0]), next, nil
}

// Increment implements Store.
func (c *Client) Increment(ctx context.Context, bucket, key string, delta uint64) (uint64, error) {
	v, err := c.call(ctx, interfaces.KVIncrement, bucket, key, delta)
	n, _ := v.(uint64)
	return n, err
}
