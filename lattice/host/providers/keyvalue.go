package providers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wasmlattice/wash/provider/keyvalue"
	"github.com/wasmlattice/wash/runtime"
	"github.com/wasmlattice/wash/runtime/cabi"
)

// Interface names of wasi:keyvalue as wasmCloud 1.x components import them.
const (
	KeyValueStore   = "wasi:keyvalue/store@0.2.0-draft"
	KeyValueAtomics = "wasi:keyvalue/atomics@0.2.0-draft"
	KeyValueBatch   = "wasi:keyvalue/batch@0.2.0-draft"
)

// KVStore is one key-value backend as seen through one link (its config already applied).
// Buckets are the identifiers components pass to store.open. It is the SDK's Store, so the
// builtins and native providers serve wrpc:keyvalue with the same code.
type KVStore = keyvalue.Store

// KVError is an error a backend wants the component to see as a specific store error
// (Case 0 no-such-store, 1 access-denied, 2 other).
type KVError = keyvalue.Error

// The SDK's KVError cases, for backends in this package.
const (
	kvCaseAccessDenied = keyvalue.CaseAccessDenied
	kvCaseOther        = keyvalue.CaseOther
)

// ErrNoSuchStore makes store.open report error::no-such-store.
var ErrNoSuchStore = keyvalue.ErrNoSuchStore

// LinkError says a component cannot use a capability because of its links (none, or one to a
// provider that does not run here). It fails the whole call with its message instead of
// becoming an error value the guest may ignore.
type LinkError struct{ Msg string }

func (e *LinkError) Error() string { return e.Msg }

// The wasi:keyvalue types the host functions are declared with; a component importing
// another shape of these interfaces fails to link with a line naming the import.
var kvTypes = cabi.MustScope(nil, KeyValueStore, `
	variant error { no-such-store, access-denied, other(string) }
	record key-response { keys: list<string>, cursor: option<u64> }
	resource bucket
`)

var (
	kvStoreSigs = cabi.Signatures(kvTypes, map[string]string{
		"open":                     "func(identifier: string) -> result<bucket, error>",
		"[method]bucket.get":       "func(self: borrow<bucket>, key: string) -> result<option<list<u8>>, error>",
		"[method]bucket.set":       "func(self: borrow<bucket>, key: string, value: list<u8>) -> result<_, error>",
		"[method]bucket.delete":    "func(self: borrow<bucket>, key: string) -> result<_, error>",
		"[method]bucket.exists":    "func(self: borrow<bucket>, key: string) -> result<bool, error>",
		"[method]bucket.list-keys": "func(self: borrow<bucket>, cursor: option<u64>) -> result<key-response, error>",
	})
	kvAtomicsSigs = cabi.Signatures(kvTypes, map[string]string{
		"increment": "func(bucket: borrow<bucket>, key: string, delta: u64) -> result<u64, error>",
	})
	kvBatchSigs = cabi.Signatures(kvTypes, map[string]string{
		"get-many":    "func(bucket: borrow<bucket>, keys: list<string>) -> result<list<option<tuple<string, list<u8>>>>, error>",
		"set-many":    "func(bucket: borrow<bucket>, key-values: list<tuple<string, list<u8>>>) -> result<_, error>",
		"delete-many": "func(bucket: borrow<bucket>, keys: list<string>) -> result<_, error>",
	})
	// kvErrorCases maps the SDK's error cases to the declared variant's.
	kvErrorCases = map[uint32]uint32{
		keyvalue.CaseNoSuchStore:  kvTypes.Case("error", "no-such-store"),
		keyvalue.CaseAccessDenied: kvTypes.Case("error", "access-denied"),
		keyvalue.CaseOther:        kvTypes.Case("error", "other"),
	}
	kvErrorOther = kvTypes.Case("error", "other")
)

// kvErr turns a backend error into the wasi:keyvalue error variant.
func kvErr(err error) cabi.ResultValue {
	var ke *KVError
	if errors.As(err, &ke) {
		c, known := kvErrorCases[ke.Case]
		if !known {
			c = kvErrorOther
		}
		if c == kvErrorOther {
			return cabi.Err(cabi.VariantValue{Case: c, Value: ke.Msg})
		}
		return cabi.Err(cabi.VariantValue{Case: c})
	}
	return cabi.Err(cabi.VariantValue{Case: kvErrorOther, Value: err.Error()})
}

// kvFail turns a backend error into the wasi:keyvalue error value, except a LinkError (no
// usable link, or a provider that could not be reached), which fails the call as upstream's
// failed invocations do.
func kvFail(err error) (cabi.Value, error) {
	var le *LinkError
	if errors.As(err, &le) {
		return nil, err
	}
	return kvErr(err), nil
}

// kvBucket is the host representation of a store.bucket resource.
type kvBucket struct {
	store KVStore
	name  string
}

// stringList reads a list<string>, lifted from a component or decoded from wRPC (both are
// []any).
func stringList(v cabi.Value) []string {
	l, _ := v.([]cabi.Value)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// KeyValueInterfaces builds wasi:keyvalue store, atomics and batch over open, which maps the
// identifier a component passes to store.open to a backend (and the bucket name the backend
// uses). They are built per invocation, so closures may capture the link.
func KeyValueInterfaces(open func(ctx context.Context, identifier string) (KVStore, string, error)) []*runtime.HostInterface {
	store := cabi.Typed(KeyValueStore, kvStoreSigs, map[string]runtime.HostFunc{
		"open": cabi.Fn1(func(ctx context.Context, identifier string) (cabi.Value, error) {
			s, name, err := open(ctx, identifier)
			var le *LinkError
			if errors.As(err, &le) {
				return nil, fmt.Errorf("%s#open: %w", KeyValueStore, err)
			}
			if err != nil {
				return kvFail(err)
			}
			return cabi.Ok(&kvBucket{store: s, name: name}), nil
		}),
		"[method]bucket.get": cabi.Fn2(func(ctx context.Context, b *kvBucket, key string) (cabi.Value, error) {
			v, found, err := b.store.Get(ctx, b.name, key)
			if err != nil {
				return kvFail(err)
			}
			if !found {
				return cabi.Ok(cabi.None()), nil
			}
			if v == nil {
				v = []byte{}
			}
			return cabi.Ok(cabi.Some(v)), nil
		}),
		"[method]bucket.set": cabi.Fn3(func(ctx context.Context, b *kvBucket, key string, value []byte) (cabi.Value, error) {
			if err := b.store.Set(ctx, b.name, key, value); err != nil {
				return kvFail(err)
			}
			return cabi.Ok(nil), nil
		}),
		"[method]bucket.delete": cabi.Fn2(func(ctx context.Context, b *kvBucket, key string) (cabi.Value, error) {
			if err := b.store.Delete(ctx, b.name, key); err != nil {
				return kvFail(err)
			}
			return cabi.Ok(nil), nil
		}),
		"[method]bucket.exists": cabi.Fn2(func(ctx context.Context, b *kvBucket, key string) (cabi.Value, error) {
			ok, err := b.store.Exists(ctx, b.name, key)
			if err != nil {
				return kvFail(err)
			}
			return cabi.Ok(ok), nil
		}),
		"[method]bucket.list-keys": cabi.Fn2(func(ctx context.Context, b *kvBucket, cursorOpt cabi.OptionValue) (cabi.Value, error) {
			var cursor uint64
			if cursorOpt.IsSome {
				cursor, _ = cursorOpt.Value.(uint64)
			}
			keys, next, err := b.store.ListKeys(ctx, b.name, cursor)
			if err != nil {
				return kvFail(err)
			}
			list := make([]cabi.Value, len(keys))
			for i, k := range keys {
				list[i] = k
			}
			nextOpt := cabi.None()
			if next != nil {
				nextOpt = cabi.Some(*next)
			}
			return cabi.Ok([]cabi.Value{list, nextOpt}), nil
		}),
	})
	atomics := cabi.Typed(KeyValueAtomics, kvAtomicsSigs, map[string]runtime.HostFunc{
		"increment": cabi.Fn3(func(ctx context.Context, b *kvBucket, key string, delta uint64) (cabi.Value, error) {
			n, err := b.store.Increment(ctx, b.name, key, delta)
			if err != nil {
				return kvFail(err)
			}
			return cabi.Ok(n), nil
		}),
	})
	batch := cabi.Typed(KeyValueBatch, kvBatchSigs, map[string]runtime.HostFunc{
		"get-many": cabi.Fn2(func(ctx context.Context, b *kvBucket, keys []cabi.Value) (cabi.Value, error) {
			var out []cabi.Value
			for _, k := range stringList(keys) {
				v, found, err := b.store.Get(ctx, b.name, k)
				if err != nil {
					return kvFail(err)
				}
				if !found {
					out = append(out, cabi.None())
					continue
				}
				if v == nil {
					v = []byte{}
				}
				out = append(out, cabi.Some([]cabi.Value{k, v}))
			}
			return cabi.Ok(out), nil
		}),
		"set-many": cabi.Fn2(func(ctx context.Context, b *kvBucket, pairs []cabi.Value) (cabi.Value, error) {
			for _, p := range pairs {
				kv, _ := p.([]cabi.Value)
				if len(kv) != 2 {
					continue
				}
				k, _ := kv[0].(string)
				v, _ := kv[1].([]byte)
				if err := b.store.Set(ctx, b.name, k, v); err != nil {
					return kvFail(err)
				}
			}
			return cabi.Ok(nil), nil
		}),
		"delete-many": cabi.Fn2(func(ctx context.Context, b *kvBucket, keys []cabi.Value) (cabi.Value, error) {
			for _, k := range stringList(keys) {
				if err := b.store.Delete(ctx, b.name, k); err != nil {
					return kvFail(err)
				}
			}
			return cabi.Ok(nil), nil
		}),
	})
	return []*runtime.HostInterface{store, atomics, batch}
}

// UnlinkedInterfaces serves every function of ifaces with an error that fails the call with
// reason: a component imports a capability nobody linked it to. The guest traps, the
// invocation fails with reason, and the host goes on.
func UnlinkedInterfaces(reason string, ifaces map[string][]string) []*runtime.HostInterface {
	var out []*runtime.HostInterface
	for name, fns := range ifaces {
		hi := &runtime.HostInterface{Name: name, Funcs: map[string]runtime.HostFunc{}}
		for _, fn := range fns {
			fn := fn
			hi.Funcs[fn] = func(context.Context, []cabi.Value) (cabi.Value, error) {
				return nil, fmt.Errorf("%s#%s: %s", name, fn, reason)
			}
		}
		out = append(out, hi)
	}
	return out
}

// KeyValueFuncs lists the functions of each wasi:keyvalue interface (for UnlinkedInterfaces).
var KeyValueFuncs = map[string][]string{
	KeyValueStore: {"open", "[method]bucket.get", "[method]bucket.set", "[method]bucket.delete",
		"[method]bucket.exists", "[method]bucket.list-keys"},
	KeyValueAtomics: {"increment"},
	KeyValueBatch:   {"get-many", "set-many", "delete-many"},
}

// configValue reads a link config key case-insensitively (upstream providers accept both
// "url" and "URL").
func configValue(cfg map[string]string, keys ...string) string {
	for _, k := range keys {
		if v, ok := cfg[k]; ok {
			return v
		}
	}
	for _, k := range keys {
		for ck, v := range cfg {
			if strings.EqualFold(ck, k) {
				return v
			}
		}
	}
	return ""
}
