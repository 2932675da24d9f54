// Package interfaces declares, once, the wire types of the interfaces wasmCloud 1.x hosts and
// providers exchange over wRPC: wrpc:keyvalue, wrpc:blobstore, wasmcloud:messaging and
// wrpc:http. Hosts calling providers, built-in providers serving over wRPC and providers built
// with the SDK all use these declarations, so both sides agree by construction. Instance names
// carry the version that goes into the subject; link keys drop it.
package interfaces

import (
	"fmt"

	"github.com/wasmlattice/wash/lattice/wrpc"
)

// Func is one function of an interface.
type Func struct {
	Instance string
	Name     string
	Type     *wrpc.FuncType
}

func p(name string, t *wrpc.Type) wrpc.Param { return wrpc.Param{Name: name, Type: t} }

func params(ps ...wrpc.Param) []wrpc.Param { return ps }

// Instance names.
const (
	KeyValueStore   = "wrpc:keyvalue/store@0.2.0-draft"
	KeyValueAtomics = "wrpc:keyvalue/atomics@0.2.0-draft"
	KeyValueBatch   = "wrpc:keyvalue/batch@0.2.0-draft"
	KeyValueWatcher = "wrpc:keyvalue/watcher@0.2.0-draft"

	// Blobstore is tried first by wasmCloud 1.9 hosts; BlobstoreV01 after a 503.
	Blobstore    = "wrpc:blobstore/blobstore@0.2.0"
	BlobstoreV01 = "wrpc:blobstore/blobstore@0.1.0"

	MessagingHandler  = "wasmcloud:messaging/handler@0.2.0"
	MessagingConsumer = "wasmcloud:messaging/consumer@0.2.0"

	HTTPIncomingHandler = "wrpc:http/incoming-handler@0.1.0"
	HTTPOutgoingHandler = "wrpc:http/outgoing-handler@0.1.0"
)

// wrpc:keyvalue@0.2.0-draft.
var (
	// KeyValueError is store.error: no-such-store, access-denied, other(string).
	KeyValueError = wrpc.Named("error", wrpc.Variant(
		wrpc.Case{Name: "no-such-store"}, wrpc.Case{Name: "access-denied"}, wrpc.Case{Name: "other", Type: wrpc.String}))
	// KeyResponse is store.key-response.
	KeyResponse = wrpc.Named("key-response", wrpc.Record(
		wrpc.Field{Name: "keys", Type: wrpc.List(wrpc.String)}, wrpc.Field{Name: "cursor", Type: wrpc.Option(wrpc.U64)}))

	bucket, key = p("bucket", wrpc.String), p("key", wrpc.String)
	bytes       = wrpc.List(wrpc.U8)

	KVGet       = &Func{KeyValueStore, "get", wrpc.NewFunc(params(bucket, key), wrpc.Result(wrpc.Option(bytes), KeyValueError))}
	KVSet       = &Func{KeyValueStore, "set", wrpc.NewFunc(params(bucket, key, p("value", bytes)), wrpc.Result(nil, KeyValueError))}
	KVDelete    = &Func{KeyValueStore, "delete", wrpc.NewFunc(params(bucket, key), wrpc.Result(nil, KeyValueError))}
	KVExists    = &Func{KeyValueStore, "exists", wrpc.NewFunc(params(bucket, key), wrpc.Result(wrpc.Bool, KeyValueError))}
	KVListKeys  = &Func{KeyValueStore, "list-keys", wrpc.NewFunc(params(bucket, p("cursor", wrpc.Option(wrpc.U64))), wrpc.Result(KeyResponse, KeyValueError))}
	KVIncrement = &Func{KeyValueAtomics, "increment", wrpc.NewFunc(params(bucket, key, p("delta", wrpc.U64)), wrpc.Result(wrpc.U64, KeyValueError))}
	KVGetMany   = &Func{KeyValueBatch, "get-many", wrpc.NewFunc(params(bucket, p("keys", wrpc.List(wrpc.String))),
		wrpc.Result(wrpc.List(wrpc.Option(wrpc.Tuple(wrpc.String, bytes))), KeyValueError))}
	KVSetMany = &Func{KeyValueBatch, "set-many", wrpc.NewFunc(params(bucket, p("key-values", wrpc.List(wrpc.Tuple(wrpc.String, bytes)))),
		wrpc.Result(nil, KeyValueError))}
	KVDeleteMany = &Func{KeyValueBatch, "delete-many", wrpc.NewFunc(params(bucket, p("keys", wrpc.List(wrpc.String))), wrpc.Result(nil, KeyValueError))}

	KVOnSet    = &Func{KeyValueWatcher, "on-set", wrpc.NewFunc(params(bucket, key, p("value", bytes)))}
	KVOnDelete = &Func{KeyValueWatcher, "on-delete", wrpc.NewFunc(params(bucket, key))}

	// KeyValue is every function a wrpc:keyvalue provider serves.
	KeyValue = []*Func{KVGet, KVSet, KVDelete, KVExists, KVListKeys, KVIncrement, KVGetMany, KVSetMany, KVDeleteMany}
)

// wrpc:blobstore@0.2.0 (wrpc/blobstore v0.2.0 wit/) and @0.1.0 (wasmCloud 1.9.2
// crates/runtime/wit/wrpc/deps/blobstore-wrpc): the same functions, except that 0.2.0 also
// returns a completion future with streamed data.
var (
	ContainerMetadata = wrpc.Named("container-metadata", wrpc.Record(wrpc.Field{Name: "created-at", Type: wrpc.U64}))
	ObjectMetadata    = wrpc.Named("object-metadata", wrpc.Record(
		wrpc.Field{Name: "created-at", Type: wrpc.U64}, wrpc.Field{Name: "size", Type: wrpc.U64}))
	ObjectID = wrpc.Named("object-id", wrpc.Record(
		wrpc.Field{Name: "container", Type: wrpc.String}, wrpc.Field{Name: "object", Type: wrpc.String}))

	status = wrpc.Future(wrpc.Result(nil, wrpc.String))

	// Blobstore02 and Blobstore01 list the functions of each version, in WIT order.
	Blobstore02 = blobstoreFuncs(Blobstore, true)
	Blobstore01 = blobstoreFuncs(BlobstoreV01, false)
)

func blobstoreFuncs(instance string, v02 bool) []*Func {
	res := func(ok *wrpc.Type) *wrpc.Type { return wrpc.Result(ok, wrpc.String) }
	name := p("name", wrpc.String)
	id := p("id", ObjectID)
	list := res(wrpc.Stream(wrpc.String))
	get := res(wrpc.Stream(wrpc.U8))
	write := res(nil)
	if v02 {
		list = res(wrpc.Tuple(wrpc.Stream(wrpc.String), status))
		get = res(wrpc.Tuple(wrpc.Stream(wrpc.U8), status))
		write = res(status)
	}
	f := func(n string, ps []wrpc.Param, r *wrpc.Type) *Func { return &Func{instance, n, wrpc.NewFunc(ps, r)} }
	return []*Func{
		f("clear-container", params(name), res(nil)),
		f("container-exists", params(name), res(wrpc.Bool)),
		f("create-container", params(name), res(nil)),
		f("delete-container", params(name), res(nil)),
		f("get-container-info", params(name), res(ContainerMetadata)),
		f("list-container-objects", params(name, p("limit", wrpc.Option(wrpc.U64)), p("offset", wrpc.Option(wrpc.U64))), list),
		f("copy-object", params(p("src", ObjectID), p("dest", ObjectID)), res(nil)),
		f("delete-object", params(id), res(nil)),
		f("delete-objects", params(p("container", wrpc.String), p("objects", wrpc.List(wrpc.String))), res(nil)),
		f("get-container-data", params(id, p("start", wrpc.U64), p("end", wrpc.U64)), get),
		f("get-object-info", params(id), res(ObjectMetadata)),
		f("has-object", params(id), res(wrpc.Bool)),
		f("move-object", params(p("src", ObjectID), p("dest", ObjectID)), res(nil)),
		f("write-container-data", params(id, p("data", wrpc.Stream(wrpc.U8))), write),
	}
}

// FuncNamed finds a function by name in a list.
func FuncNamed(fs []*Func, name string) *Func {
	for _, f := range fs {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// wasmcloud:messaging@0.2.0.
var (
	BrokerMessage = wrpc.Named("broker-message", wrpc.Record(
		wrpc.Field{Name: "subject", Type: wrpc.String}, wrpc.Field{Name: "body", Type: bytes},
		wrpc.Field{Name: "reply-to", Type: wrpc.Option(wrpc.String)}))

	MessagingHandleMessage = &Func{MessagingHandler, "handle-message", wrpc.NewFunc(params(p("msg", BrokerMessage)), wrpc.Result(nil, wrpc.String))}
	MessagingRequest       = &Func{MessagingConsumer, "request", wrpc.NewFunc(params(p("subject", wrpc.String), p("body", bytes), p("timeout-ms", wrpc.U32)),
		wrpc.Result(BrokerMessage, wrpc.String))}
	MessagingPublish = &Func{MessagingConsumer, "publish", wrpc.NewFunc(params(p("msg", BrokerMessage)), wrpc.Result(nil, wrpc.String))}
)

// wrpc:http@0.1.0 (wrpc/http wit/types.wit, handler.wit; the variants are wasi:http@0.2's).
var (
	Method = wrpc.Named("method", wrpc.Variant(cases("get", "head", "post", "put", "delete", "connect", "options", "trace", "patch", "other(string)")...))
	Scheme = wrpc.Named("scheme", wrpc.Variant(cases("HTTP", "HTTPS", "other(string)")...))
	Fields = wrpc.Named("fields", wrpc.List(wrpc.Tuple(wrpc.String, wrpc.List(bytes))))

	dnsErrorPayload = wrpc.Named("DNS-error-payload", wrpc.Record(
		wrpc.Field{Name: "rcode", Type: wrpc.Option(wrpc.String)}, wrpc.Field{Name: "info-code", Type: wrpc.Option(wrpc.U16)}))
	tlsAlertPayload = wrpc.Named("TLS-alert-received-payload", wrpc.Record(
		wrpc.Field{Name: "alert-id", Type: wrpc.Option(wrpc.U8)}, wrpc.Field{Name: "alert-message", Type: wrpc.Option(wrpc.String)}))
	fieldSizePayload = wrpc.Named("field-size-payload", wrpc.Record(
		wrpc.Field{Name: "field-name", Type: wrpc.Option(wrpc.String)}, wrpc.Field{Name: "field-size", Type: wrpc.Option(wrpc.U32)}))

	// ErrorCode is wasi:http/types.error-code; InternalError is its last case.
	ErrorCode = wrpc.Named("error-code", wrpc.Variant(
		wrpc.Case{Name: "DNS-timeout"},
		wrpc.Case{Name: "DNS-error", Type: dnsErrorPayload},
		wrpc.Case{Name: "destination-not-found"},
		wrpc.Case{Name: "destination-unavailable"},
		wrpc.Case{Name: "destination-IP-prohibited"},
		wrpc.Case{Name: "destination-IP-unroutable"},
		wrpc.Case{Name: "connection-refused"},
		wrpc.Case{Name: "connection-terminated"},
		wrpc.Case{Name: "connection-timeout"},
		wrpc.Case{Name: "connection-read-timeout"},
		wrpc.Case{Name: "connection-write-timeout"},
		wrpc.Case{Name: "connection-limit-reached"},
		wrpc.Case{Name: "TLS-protocol-error"},
		wrpc.Case{Name: "TLS-certificate-error"},
		wrpc.Case{Name: "TLS-alert-received", Type: tlsAlertPayload},
		wrpc.Case{Name: "HTTP-request-denied"},
		wrpc.Case{Name: "HTTP-request-length-required"},
		wrpc.Case{Name: "HTTP-request-body-size", Type: wrpc.Option(wrpc.U64)},
		wrpc.Case{Name: "HTTP-request-method-invalid"},
		wrpc.Case{Name: "HTTP-request-URI-invalid"},
		wrpc.Case{Name: "HTTP-request-URI-too-long"},
		wrpc.Case{Name: "HTTP-request-header-section-size", Type: wrpc.Option(wrpc.U32)},
		wrpc.Case{Name: "HTTP-request-header-size", Type: wrpc.Option(fieldSizePayload)},
		wrpc.Case{Name: "HTTP-request-trailer-section-size", Type: wrpc.Option(wrpc.U32)},
		wrpc.Case{Name: "HTTP-request-trailer-size", Type: fieldSizePayload},
		wrpc.Case{Name: "HTTP-response-incomplete"},
		wrpc.Case{Name: "HTTP-response-header-section-size", Type: wrpc.Option(wrpc.U32)},
		wrpc.Case{Name: "HTTP-response-header-size", Type: fieldSizePayload},
		wrpc.Case{Name: "HTTP-response-body-size", Type: wrpc.Option(wrpc.U64)},
		wrpc.Case{Name: "HTTP-response-trailer-section-size", Type: wrpc.Option(wrpc.U32)},
		wrpc.Case{Name: "HTTP-response-trailer-size", Type: fieldSizePayload},
		wrpc.Case{Name: "HTTP-response-transfer-coding", Type: wrpc.Option(wrpc.String)},
		wrpc.Case{Name: "HTTP-response-content-coding", Type: wrpc.Option(wrpc.String)},
		wrpc.Case{Name: "HTTP-response-timeout"},
		wrpc.Case{Name: "HTTP-upgrade-failed"},
		wrpc.Case{Name: "HTTP-protocol-error"},
		wrpc.Case{Name: "loop-detected"},
		wrpc.Case{Name: "configuration-error"},
		wrpc.Case{Name: "internal-error", Type: wrpc.Option(wrpc.String)},
	))

	// Request is wrpc:http/types.request.
	Request = wrpc.Named("request", wrpc.Record(
		wrpc.Field{Name: "body", Type: wrpc.Stream(wrpc.U8)},
		wrpc.Field{Name: "trailers", Type: wrpc.Future(wrpc.Option(Fields))},
		wrpc.Field{Name: "method", Type: Method},
		wrpc.Field{Name: "path-with-query", Type: wrpc.Option(wrpc.String)},
		wrpc.Field{Name: "scheme", Type: wrpc.Option(Scheme)},
		wrpc.Field{Name: "authority", Type: wrpc.Option(wrpc.String)},
		wrpc.Field{Name: "headers", Type: Fields},
	))
	// Response is wrpc:http/types.response.
	Response = wrpc.Named("response", wrpc.Record(
		wrpc.Field{Name: "body", Type: wrpc.Stream(wrpc.U8)},
		wrpc.Field{Name: "trailers", Type: wrpc.Future(wrpc.Option(Fields))},
		wrpc.Field{Name: "status", Type: wrpc.U16},
		wrpc.Field{Name: "headers", Type: Fields},
	))
	duration = wrpc.Option(wrpc.U64)
	// RequestOptions is wrpc:http/types.request-options (durations in nanoseconds).
	RequestOptions = wrpc.Named("request-options", wrpc.Record(
		wrpc.Field{Name: "connect-timeout", Type: duration},
		wrpc.Field{Name: "first-byte-timeout", Type: duration},
		wrpc.Field{Name: "between-bytes-timeout", Type: duration},
	))

	HTTPHandle   = &Func{HTTPIncomingHandler, "handle", wrpc.NewFunc(params(p("request", Request)), wrpc.Result(Response, ErrorCode))}
	HTTPOutgoing = &Func{HTTPOutgoingHandler, "handle", wrpc.NewFunc(params(p("request", Request), p("options", wrpc.Option(RequestOptions))),
		wrpc.Result(Response, ErrorCode))}
)

// Case is the index of a case of a variant (or a label of an enum) by name, so code names
// cases rather than numbering them; an unknown name is a bug and panics.
func Case(t *wrpc.Type, name string) uint32 {
	for i, c := range t.Cases {
		if c.Name == name {
			return uint32(i)
		}
	}
	for i, l := range t.Labels {
		if l == name {
			return uint32(i)
		}
	}
	panic(fmt.Sprintf("interfaces: %s has no case %s", t.Name, name))
}

// ErrorCodeCase returns the case index of an error-code name.
func ErrorCodeCase(name string) uint32 {
	for i, c := range ErrorCode.Cases {
		if c.Name == name {
			return uint32(i)
		}
	}
	return uint32(len(ErrorCode.Cases) - 1)
}

// cases builds variant cases; "name(string)" has a string payload.
func cases(names ...string) []wrpc.Case {
	out := make([]wrpc.Case, len(names))
	for i, n := range names {
		if len(n) > 8 && n[len(n)-8:] == "(string)" {
			out[i] = wrpc.Case{Name: n[:len(n)-8], Type: wrpc.String}
		} else {
			out[i] = wrpc.Case{Name: n}
		}
	}
	return out
}
