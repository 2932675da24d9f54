package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
	"github.com/wasmlattice/wash/lattice/wrpc/wrpchttp"
	"github.com/wasmlattice/wash/provider/keyvalue"
)

// Serving over wRPC: every builtin that serves a capability interface to components on its
// host (a KeyValueOpener, BlobstoreOpener or MessagingOpener) also serves it to the whole
// lattice, the way an upstream provider does, so components on other hosts (ours or
// wasmCloud's) can use it; WRPCExports derives the exports from the interfaces a builtin
// implements, so a new builtin gets them without code of its own. Each handler resolves the
// link the invocation came through (source-id and link-name headers) and opens the backend
// for that link, exactly as the in-process path does. The remote clients below are the other
// direction: a component here whose link names a provider that is not a builtin on this host.

func serveFunc(f *interfaces.Func, h wrpc.Handler) wrpc.Export {
	return wrpc.Export{Instance: f.Instance, Func: f.Name, Type: f.Type, Handler: h}
}

func one(v wrpc.Value) ([]wrpc.Value, error) { return []wrpc.Value{v}, nil }

func argString(a []wrpc.Value, i int) string {
	if i < len(a) {
		s, _ := a[i].(string)
		return s
	}
	return ""
}

// WRPCExports is what a builtin serves over wRPC: wrpc:keyvalue for a KeyValueOpener,
// wrpc:blobstore 0.2.0 and 0.1.0 for a BlobstoreOpener, wasmcloud:messaging/consumer for a
// MessagingOpener, and whatever an Exporter adds.
func WRPCExports(b Builtin, caller CallerLink) []wrpc.Export {
	var out []wrpc.Export
	if o, ok := b.(KeyValueOpener); ok {
		out = append(out, KeyValueExports(o, caller)...)
	}
	if o, ok := b.(BlobstoreOpener); ok {
		out = append(out, BlobstoreExports(o, caller)...)
	}
	if o, ok := b.(MessagingOpener); ok {
		out = append(out, MessagingExports(o, caller)...)
	}
	if e, ok := b.(Exporter); ok {
		out = append(out, e.Exports(caller)...)
	}
	return out
}

// KeyValueExports serves wrpc:keyvalue store, atomics and batch (the SDK's handlers) through
// o; the bucket is the name the calling component passed to store.open, as a wasmCloud host
// sends it.
func KeyValueExports(o KeyValueOpener, caller CallerLink) []wrpc.Export {
	return keyvalue.Exports(func(ctx context.Context, bucket string) (KVStore, string, error) {
		link, err := caller(ctx, "wasi", "keyvalue")
		if err != nil {
			return nil, "", &KVError{Case: keyvalue.CaseOther, Msg: err.Error()}
		}
		return o.Open(ctx, link, bucket)
	})
}

// openForCaller opens, on each call, what open serves for the caller's link on ns:pkg.
func openForCaller[T any](caller CallerLink, ns, pkg string, open func(context.Context, InterfaceLinkDefinition) (T, error)) func(context.Context) (T, error) {
	return func(ctx context.Context) (T, error) {
		link, err := caller(ctx, ns, pkg)
		if err != nil {
			var zero T
			return zero, err
		}
		return open(ctx, link)
	}
}

// BlobstoreExports serves wrpc:blobstore@0.2.0 and @0.1.0 through o.
func BlobstoreExports(o BlobstoreOpener, caller CallerLink) []wrpc.Export {
	backend := openForCaller(caller, "wasi", "blobstore", o.OpenBlobstore)
	var out []wrpc.Export
	for _, fs := range [][]*interfaces.Func{interfaces.Blobstore02, interfaces.Blobstore01} {
		v02 := fs[0].Instance == interfaces.Blobstore
		for _, f := range fs {
			out = append(out, serveFunc(f, blobHandler(f.Name, v02, backend)))
		}
	}
	return out
}

func objectIDArg(v wrpc.Value) (string, string) {
	rec, _ := v.([]wrpc.Value)
	if len(rec) != 2 {
		return "", ""
	}
	c, _ := rec[0].(string)
	o, _ := rec[1].(string)
	return c, o
}

func blobResult(v wrpc.Value, err error) ([]wrpc.Value, error) {
	if err != nil {
		return one(wrpc.Err(err.Error()))
	}
	return one(wrpc.Ok(v))
}

var blobDone = wrpc.Ready(wrpc.Ok(nil))

func blobHandler(name string, v02 bool, backend func(ctx context.Context) (BlobBackend, error)) wrpc.Handler {
	return func(ctx context.Context, a []wrpc.Value) ([]wrpc.Value, error) {
		s, err := backend(ctx)
		if err != nil {
			return one(wrpc.Err(err.Error()))
		}
		switch name {
		case "clear-container":
			return blobResult(nil, s.ClearContainer(ctx, argString(a, 0)))
		case "container-exists":
			return blobResult(s.ContainerExists(ctx, argString(a, 0)))
		case "create-container":
			return blobResult(nil, s.CreateContainer(ctx, argString(a, 0)))
		case "delete-container":
			return blobResult(nil, s.DeleteContainer(ctx, argString(a, 0)))
		case "get-container-info":
			created, err := s.ContainerInfo(ctx, argString(a, 0))
			return blobResult([]wrpc.Value{created}, err)
		case "list-container-objects":
			names, err := s.ListObjects(ctx, argString(a, 0))
			if err != nil {
				return blobResult(nil, err)
			}
			if o, _ := a[2].(wrpc.OptionValue); o.IsSome {
				off, _ := o.Value.(uint64)
				names = names[min(off, uint64(len(names))):]
			}
			if o, _ := a[1].(wrpc.OptionValue); o.IsSome {
				lim, _ := o.Value.(uint64)
				names = names[:min(lim, uint64(len(names)))]
			}
			elems := make([]wrpc.Value, len(names))
			for i, n := range names {
				elems[i] = n
			}
			if v02 {
				return one(wrpc.Ok([]wrpc.Value{wrpc.StreamOf(elems...), blobDone}))
			}
			return one(wrpc.Ok(wrpc.StreamOf(elems...)))
		case "copy-object", "move-object":
			sc, so := objectIDArg(a[0])
			dc, do := objectIDArg(a[1])
			if name == "copy-object" {
				return blobResult(nil, s.CopyObject(ctx, sc, so, dc, do))
			}
			return blobResult(nil, s.MoveObject(ctx, sc, so, dc, do))
		case "delete-object":
			c, o := objectIDArg(a[0])
			return blobResult(nil, s.DeleteObject(ctx, c, o))
		case "delete-objects":
			for _, o := range stringList(a[1]) {
				if err := s.DeleteObject(ctx, argString(a, 0), o); err != nil {
					return blobResult(nil, err)
				}
			}
			return blobResult(nil, nil)
		case "get-container-data":
			c, o := objectIDArg(a[0])
			start, _ := a[1].(uint64)
			end, _ := a[2].(uint64)
			rc, _, err := s.ReadObject(ctx, c, o, start, end)
			if err != nil {
				return blobResult(nil, err)
			}
			body := wrpc.CloseAtEnd(rc)
			if v02 {
				return one(wrpc.Ok([]wrpc.Value{body, blobDone}))
			}
			return one(wrpc.Ok(body))
		case "get-object-info":
			c, o := objectIDArg(a[0])
			size, created, ok, err := s.StatObject(ctx, c, o)
			if err == nil && !ok {
				err = fmt.Errorf("object %q in container %q does not exist", o, c)
			}
			return blobResult([]wrpc.Value{created, size}, err)
		case "has-object":
			c, o := objectIDArg(a[0])
			_, _, ok, err := s.StatObject(ctx, c, o)
			return blobResult(ok, err)
		case "write-container-data":
			c, o := objectIDArg(a[0])
			r, _ := a[1].(io.Reader)
			if r == nil {
				return blobResult(nil, errors.New("write-container-data: no data stream"))
			}
			err := s.WriteObject(ctx, c, o, r)
			if v02 {
				if err != nil {
					return blobResult(nil, err)
				}
				return one(wrpc.Ok(blobDone))
			}
			return blobResult(nil, err)
		}
		return nil, fmt.Errorf("wrpc:blobstore: unknown function %s", name)
	}
}

// RemoteBlobs is a blobstore provider elsewhere in the lattice, a BlobBackend over
// wrpc:blobstore@0.2.0, and @0.1.0 when nothing serves 0.2.0 (a 503), as a wasmCloud host
// falls back. Object data streams both ways.
type RemoteBlobs struct {
	Conn       *wrpc.Conn
	Invocation wrpc.Invocation
	// Fail turns a call that could not be made into the error the component sees (nil: a
	// LinkError with the call's error).
	Fail func(error) error
}

func failWith(fail func(error) error, err error) error {
	if fail != nil {
		return fail(err)
	}
	return &LinkError{Msg: err.Error()}
}

func (r *RemoteBlobs) call(ctx context.Context, name string, args ...wrpc.Value) (wrpc.Value, bool, error) {
	v02 := true
	f := interfaces.FuncNamed(interfaces.Blobstore02, name)
	inv := r.Invocation
	inv.Instance, inv.Func = f.Instance, f.Name
	res, err := r.Conn.Invoke(ctx, inv, f.Type, args)
	if errors.Is(err, wrpc.ErrNoResponders) {
		v02 = false
		f = interfaces.FuncNamed(interfaces.Blobstore01, name)
		inv.Instance = f.Instance
		res, err = r.Conn.Invoke(ctx, inv, f.Type, args)
	}
	if err != nil {
		return nil, v02, failWith(r.Fail, fmt.Errorf("wrpc:blobstore/blobstore.%s: %w", name, err))
	}
	rv, _ := res[0].(wrpc.ResultValue)
	if rv.IsErr {
		msg, _ := rv.Value.(string)
		return nil, v02, errors.New(msg)
	}
	return rv.Value, v02, nil
}

func objectIDValue(c, o string) wrpc.Value { return []wrpc.Value{c, o} }

// awaitStatus waits for a 0.2.0 completion future (result<_, string>).
func awaitStatus(ctx context.Context, v wrpc.Value) error {
	f, ok := v.(wrpc.FutureValue)
	if !ok {
		return nil
	}
	st, err := f.Await(ctx)
	if err != nil {
		return &LinkError{Msg: "wrpc:blobstore: " + err.Error()}
	}
	if rv, ok := st.(wrpc.ResultValue); ok && rv.IsErr {
		msg, _ := rv.Value.(string)
		return errors.New(msg)
	}
	return nil
}

func (r *RemoteBlobs) CreateContainer(ctx context.Context, name string) error {
	_, _, err := r.call(ctx, "create-container", name)
	return err
}

func (r *RemoteBlobs) GetContainer(ctx context.Context, name string) error {
	ok, err := r.ContainerExists(ctx, name)
	return existingContainer(name, ok, err)
}

func (r *RemoteBlobs) ContainerExists(ctx context.Context, name string) (bool, error) {
	v, _, err := r.call(ctx, "container-exists", name)
	b, _ := v.(bool)
	return b, err
}

func (r *RemoteBlobs) DeleteContainer(ctx context.Context, name string) error {
	_, _, err := r.call(ctx, "delete-container", name)
	return err
}

func (r *RemoteBlobs) ContainerInfo(ctx context.Context, name string) (uint64, error) {
	v, _, err := r.call(ctx, "get-container-info", name)
	rec, _ := v.([]wrpc.Value)
	if err != nil || len(rec) < 1 {
		return 0, err
	}
	n, _ := rec[0].(uint64)
	return n, nil
}

// ReadObject streams the object's bytes; the size is unknown ahead (0).
func (r *RemoteBlobs) ReadObject(ctx context.Context, container, object string, start, end uint64) (io.ReadCloser, uint64, error) {
	v, v02, err := r.call(ctx, "get-container-data", objectIDValue(container, object), start, end)
	if err != nil {
		return nil, 0, err
	}
	var stream, status wrpc.Value = v, nil
	if v02 {
		t, _ := v.([]wrpc.Value)
		if len(t) != 2 {
			return nil, 0, errors.New("get-container-data: malformed result")
		}
		stream, status = t[0], t[1]
	}
	rd, _ := stream.(io.Reader)
	if rd == nil {
		return nil, 0, errors.New("get-container-data: no data stream")
	}
	return &statusReader{r: rd, ctx: ctx, status: status}, 0, nil
}

// statusReader reads a remote object and, at its end, its completion status.
type statusReader struct {
	r      io.Reader
	ctx    context.Context
	status wrpc.Value
}

func (s *statusReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if errors.Is(err, io.EOF) {
		if serr := awaitStatus(s.ctx, s.status); serr != nil {
			return n, serr
		}
	}
	return n, err
}

func (s *statusReader) Close() error {
	if c, ok := s.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func (r *RemoteBlobs) WriteObject(ctx context.Context, container, object string, data io.Reader) error {
	v, _, err := r.call(ctx, "write-container-data", objectIDValue(container, object), data)
	if err != nil {
		return err
	}
	return awaitStatus(ctx, v)
}

func (r *RemoteBlobs) DeleteObject(ctx context.Context, container, object string) error {
	_, _, err := r.call(ctx, "delete-object", objectIDValue(container, object))
	return err
}

func (r *RemoteBlobs) StatObject(ctx context.Context, container, object string) (size, created uint64, ok bool, err error) {
	v, _, err := r.call(ctx, "has-object", objectIDValue(container, object))
	if err != nil {
		return 0, 0, false, err
	}
	if has, _ := v.(bool); !has {
		return 0, 0, false, nil
	}
	v, _, err = r.call(ctx, "get-object-info", objectIDValue(container, object))
	rec, _ := v.([]wrpc.Value)
	if err != nil || len(rec) != 2 {
		return 0, 0, false, err
	}
	created, _ = rec[0].(uint64)
	size, _ = rec[1].(uint64)
	return size, created, true, nil
}

func (r *RemoteBlobs) ListObjects(ctx context.Context, container string) ([]string, error) {
	v, v02, err := r.call(ctx, "list-container-objects", container, wrpc.None(), wrpc.None())
	if err != nil {
		return nil, err
	}
	var stream, status wrpc.Value = v, nil
	if v02 {
		t, _ := v.([]wrpc.Value)
		if len(t) != 2 {
			return nil, errors.New("list-container-objects: malformed result")
		}
		stream, status = t[0], t[1]
	}
	sv, _ := stream.(wrpc.StreamValue)
	if sv == nil {
		return nil, errors.New("list-container-objects: no name stream")
	}
	var out []string
	for {
		chunk, err := sv.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &LinkError{Msg: "wrpc:blobstore: listing objects: " + err.Error()}
		}
		for _, c := range chunk {
			s, _ := c.(string)
			out = append(out, s)
		}
	}
	return out, awaitStatus(ctx, status)
}

func (r *RemoteBlobs) ClearContainer(ctx context.Context, container string) error {
	_, _, err := r.call(ctx, "clear-container", container)
	return err
}

func (r *RemoteBlobs) CopyObject(ctx context.Context, srcC, srcO, dstC, dstO string) error {
	_, _, err := r.call(ctx, "copy-object", objectIDValue(srcC, srcO), objectIDValue(dstC, dstO))
	return err
}

func (r *RemoteBlobs) MoveObject(ctx context.Context, srcC, srcO, dstC, dstO string) error {
	_, _, err := r.call(ctx, "move-object", objectIDValue(srcC, srcO), objectIDValue(dstC, dstO))
	return err
}

// MessagingExports serves wasmcloud:messaging/consumer@0.2.0 (request, publish) through the
// broker o opens for the caller's link.
func MessagingExports(o MessagingOpener, caller CallerLink) []wrpc.Export {
	broker := openForCaller(caller, "wasmcloud", "messaging", o.OpenMessaging)
	return []wrpc.Export{
		serveFunc(interfaces.MessagingRequest, func(ctx context.Context, a []wrpc.Value) ([]wrpc.Value, error) {
			b, err := broker(ctx)
			if err != nil {
				return one(wrpc.Err(err.Error()))
			}
			body, _ := a[1].([]byte)
			ms, _ := a[2].(uint32)
			timeout := time.Second
			if ms > 0 {
				timeout = time.Duration(ms) * time.Millisecond
			}
			m, err := b.Request(ctx, argString(a, 0), body, timeout)
			if err != nil {
				return one(wrpc.Err(err.Error()))
			}
			return one(wrpc.Ok(brokerMessageValue(m)))
		}),
		serveFunc(interfaces.MessagingPublish, func(ctx context.Context, a []wrpc.Value) ([]wrpc.Value, error) {
			b, err := broker(ctx)
			if err != nil {
				return one(wrpc.Err(err.Error()))
			}
			m := brokerMessageOf(a[0])
			if m.Subject == "" {
				return one(wrpc.Err("publish needs a subject"))
			}
			if err := b.Publish(ctx, m); err != nil {
				return one(wrpc.Err(err.Error()))
			}
			return one(wrpc.Ok(nil))
		}),
	}
}

// RemoteMessaging is a messaging provider elsewhere in the lattice, a MessageBroker over
// wasmcloud:messaging/consumer@0.2.0.
type RemoteMessaging struct {
	Conn       *wrpc.Conn
	Invocation wrpc.Invocation
	// Fail turns a call that could not be made into the error the component sees (nil: a
	// LinkError with the call's error).
	Fail func(error) error
}

func (r RemoteMessaging) call(ctx context.Context, f *interfaces.Func, args ...wrpc.Value) (wrpc.Value, error) {
	inv := r.Invocation
	inv.Instance, inv.Func = f.Instance, f.Name
	res, err := r.Conn.Invoke(ctx, inv, f.Type, args)
	if err != nil {
		return nil, failWith(r.Fail, fmt.Errorf("%s.%s: %w", f.Instance, f.Name, err))
	}
	rv, _ := res[0].(wrpc.ResultValue)
	if rv.IsErr {
		msg, _ := rv.Value.(string)
		return nil, errors.New(msg)
	}
	return rv.Value, nil
}

// Request implements MessageBroker.
func (r RemoteMessaging) Request(ctx context.Context, subject string, body []byte, timeout time.Duration) (BrokerMessage, error) {
	if body == nil {
		body = []byte{}
	}
	v, err := r.call(ctx, interfaces.MessagingRequest, subject, body, uint32(timeout/time.Millisecond))
	if err != nil {
		return BrokerMessage{}, err
	}
	return brokerMessageOf(v), nil
}

// Publish implements MessageBroker.
func (r RemoteMessaging) Publish(ctx context.Context, m BrokerMessage) error {
	_, err := r.call(ctx, interfaces.MessagingPublish, brokerMessageValue(m))
	return err
}

func brokerMessageValue(m BrokerMessage) wrpc.Value {
	if m.ReplyTo == "" {
		return m.record(wrpc.None())
	}
	return m.record(wrpc.Some(m.ReplyTo))
}

func brokerMessageOf(v wrpc.Value) BrokerMessage {
	rec, _ := v.([]wrpc.Value)
	var m BrokerMessage
	if len(rec) == 3 {
		m.Subject, _ = rec[0].(string)
		m.Body, _ = rec[1].([]byte)
		if o, _ := rec[2].(wrpc.OptionValue); o.IsSome {
			m.ReplyTo, _ = o.Value.(string)
		}
	}
	return m
}

// DeliverRemote hands a message to a component's wasmcloud:messaging/handler wherever it runs
// (handle-message on "<lattice>.<component>"), as upstream's messaging provider does. A
// result error from the handler is returned as an error.
func DeliverRemote(ctx context.Context, c *wrpc.Conn, inv wrpc.Invocation, m BrokerMessage) error {
	f := interfaces.MessagingHandleMessage
	inv.Instance, inv.Func = f.Instance, f.Name
	res, err := c.Invoke(ctx, inv, f.Type, []wrpc.Value{brokerMessageValue(m)})
	if err != nil {
		return err
	}
	if rv, _ := res[0].(wrpc.ResultValue); rv.IsErr {
		msg, _ := rv.Value.(string)
		return fmt.Errorf("the handler returned an error: %s", msg)
	}
	return nil
}

// Exports serves wrpc:http/outgoing-handler@0.1.0 through the host's HTTP client.
func (c *httpClient) Exports(CallerLink) []wrpc.Export {
	rt := c.transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	return []wrpc.Export{serveFunc(interfaces.HTTPOutgoing, wrpchttp.OutgoingHandler(rt))}
}
