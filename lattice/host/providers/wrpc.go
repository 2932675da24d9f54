package providers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
	"github.com/wasmlattice/wash/lattice/wrpc/wrpchttp"
	"github.com/wasmlattice/wash/provider/keyvalue"
)

// Serving over wRPC: every builtin that implements an interface components import also serves
// it on the lattice, the way an upstream provider does, so components on other hosts (ours or
// wasmCloud's) can use it. Each handler resolves the link the invocation came through
// (source-id and link-name headers) and applies that link's config, exactly as the in-process
// path does. The remote clients below are the other direction: a component here whose link
// names a provider that is not a builtin on this host.

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

func argStrings(v wrpc.Value) []string {
	l, _ := v.([]wrpc.Value)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// Exports serves wrpc:keyvalue store, atomics and batch (the SDK's handlers); the bucket is
// the name the calling component passed to store.open, as a wasmCloud host sends it.
func (p *KeyValueProvider) Exports(caller CallerLink) []wrpc.Export {
	return keyvalue.Exports(func(ctx context.Context, bucket string) (KVStore, string, error) {
		link, err := caller(ctx, "wasi", "keyvalue")
		if err != nil {
			return nil, "", &KVError{Case: 2, Msg: err.Error()}
		}
		return p.Open(ctx, link, bucket)
	})
}

// Exports serves wrpc:blobstore@0.2.0 and @0.1.0 over the directory the caller's link names.
func (p *BlobstoreFSProvider) Exports(caller CallerLink) []wrpc.Export {
	store := func(ctx context.Context) (*BlobStore, error) {
		link, err := caller(ctx, "wasi", "blobstore")
		if err != nil {
			return nil, err
		}
		return p.Open(link)
	}
	var out []wrpc.Export
	for _, fs := range [][]*interfaces.Func{interfaces.Blobstore02, interfaces.Blobstore01} {
		v02 := fs[0].Instance == interfaces.Blobstore
		for _, f := range fs {
			out = append(out, serveFunc(f, blobHandler(f.Name, v02, store)))
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

func blobHandler(name string, v02 bool, store func(ctx context.Context) (*BlobStore, error)) wrpc.Handler {
	return func(ctx context.Context, a []wrpc.Value) ([]wrpc.Value, error) {
		s, err := store(ctx)
		if err != nil {
			return one(wrpc.Err(err.Error()))
		}
		switch name {
		case "clear-container":
			return blobResult(nil, s.Clear(argString(a, 0)))
		case "container-exists":
			return blobResult(s.ContainerExists(argString(a, 0)))
		case "create-container":
			return blobResult(nil, s.CreateContainer(argString(a, 0)))
		case "delete-container":
			return blobResult(nil, s.DeleteContainer(argString(a, 0)))
		case "get-container-info":
			created, err := s.ContainerInfo(argString(a, 0))
			return blobResult([]wrpc.Value{created}, err)
		case "list-container-objects":
			names, err := s.List(argString(a, 0))
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
				return blobResult(nil, s.Copy(sc, so, dc, do))
			}
			return blobResult(nil, s.Move(sc, so, dc, do))
		case "delete-object":
			c, o := objectIDArg(a[0])
			return blobResult(nil, s.Delete(c, o))
		case "delete-objects":
			for _, o := range argStrings(a[1]) {
				if err := s.Delete(argString(a, 0), o); err != nil {
					return blobResult(nil, err)
				}
			}
			return blobResult(nil, nil)
		case "get-container-data":
			c, o := objectIDArg(a[0])
			start, _ := a[1].(uint64)
			end, _ := a[2].(uint64)
			data, err := s.Read(c, o, start, end)
			if err != nil {
				return blobResult(nil, err)
			}
			if v02 {
				return one(wrpc.Ok([]wrpc.Value{data, blobDone}))
			}
			return one(wrpc.Ok(data))
		case "get-object-info":
			c, o := objectIDArg(a[0])
			size, created, ok, err := s.Stat(c, o)
			if err == nil && !ok {
				err = fmt.Errorf("object %q in container %q does not exist", o, c)
			}
			return blobResult([]wrpc.Value{created, size}, err)
		case "has-object":
			c, o := objectIDArg(a[0])
			_, _, ok, err := s.Stat(c, o)
			return blobResult(ok, err)
		case "write-container-data":
			c, o := objectIDArg(a[0])
			r, _ := a[1].(io.Reader)
			if r == nil {
				return blobResult(nil, errors.New("write-container-data: no data stream"))
			}
			data, err := io.ReadAll(io.LimitReader(r, maxBlobBytes+1))
			if err == nil && len(data) > maxBlobBytes {
				err = fmt.Errorf("object %q is larger than %d bytes", o, maxBlobBytes)
			}
			if err == nil {
				err = s.Write(c, o, data)
			}
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

// maxBlobBytes bounds one object written over wRPC (the in-process path buffers the same way).
const maxBlobBytes = 256 << 20

// RemoteBlobs is a blobstore provider elsewhere in the lattice: wrpc:blobstore@0.2.0, and
// @0.1.0 when nothing serves 0.2.0 (a 503), as a wasmCloud host falls back.
type RemoteBlobs struct {
	Ctx        context.Context
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

func (r *RemoteBlobs) call(name string, args ...wrpc.Value) (wrpc.Value, bool, error) {
	ctx := r.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
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
func (r *RemoteBlobs) awaitStatus(v wrpc.Value) error {
	f, ok := v.(wrpc.FutureValue)
	if !ok {
		return nil
	}
	ctx := r.Ctx
	if ctx == nil {
		ctx = context.Background()
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

func (r *RemoteBlobs) CreateContainer(name string) error {
	_, _, err := r.call("create-container", name)
	return err
}

func (r *RemoteBlobs) ContainerExists(name string) (bool, error) {
	v, _, err := r.call("container-exists", name)
	b, _ := v.(bool)
	return b, err
}

func (r *RemoteBlobs) CheckContainer(name string) error {
	ok, err := r.ContainerExists(name)
	if err == nil && !ok {
		err = fmt.Errorf("container %q does not exist", name)
	}
	return err
}

func (r *RemoteBlobs) DeleteContainer(name string) error {
	_, _, err := r.call("delete-container", name)
	return err
}

func (r *RemoteBlobs) ContainerInfo(name string) (uint64, error) {
	v, _, err := r.call("get-container-info", name)
	rec, _ := v.([]wrpc.Value)
	if err != nil || len(rec) < 1 {
		return 0, err
	}
	n, _ := rec[0].(uint64)
	return n, nil
}

func (r *RemoteBlobs) Read(container, object string, start, end uint64) ([]byte, error) {
	v, v02, err := r.call("get-container-data", objectIDValue(container, object), start, end)
	if err != nil {
		return nil, err
	}
	var stream, status wrpc.Value = v, nil
	if v02 {
		t, _ := v.([]wrpc.Value)
		if len(t) != 2 {
			return nil, errors.New("get-container-data: malformed result")
		}
		stream, status = t[0], t[1]
	}
	rd, _ := stream.(io.Reader)
	if rd == nil {
		return nil, errors.New("get-container-data: no data stream")
	}
	data, err := io.ReadAll(io.LimitReader(rd, maxBlobBytes+1))
	if err != nil {
		return nil, &LinkError{Msg: "wrpc:blobstore: reading object data: " + err.Error()}
	}
	if len(data) > maxBlobBytes {
		return nil, fmt.Errorf("object %q is larger than %d bytes", object, maxBlobBytes)
	}
	return data, r.awaitStatus(status)
}

func (r *RemoteBlobs) Write(container, object string, data []byte) error {
	v, _, err := r.call("write-container-data", objectIDValue(container, object), bytes.NewReader(data))
	if err != nil {
		return err
	}
	return r.awaitStatus(v)
}

func (r *RemoteBlobs) Delete(container, object string) error {
	_, _, err := r.call("delete-object", objectIDValue(container, object))
	return err
}

func (r *RemoteBlobs) Stat(container, object string) (size, created uint64, ok bool, err error) {
	v, _, err := r.call("has-object", objectIDValue(container, object))
	if err != nil {
		return 0, 0, false, err
	}
	if has, _ := v.(bool); !has {
		return 0, 0, false, nil
	}
	v, _, err = r.call("get-object-info", objectIDValue(container, object))
	rec, _ := v.([]wrpc.Value)
	if err != nil || len(rec) != 2 {
		return 0, 0, false, err
	}
	created, _ = rec[0].(uint64)
	size, _ = rec[1].(uint64)
	return size, created, true, nil
}

func (r *RemoteBlobs) List(container string) ([]string, error) {
	v, v02, err := r.call("list-container-objects", container, wrpc.None(), wrpc.None())
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
	ctx := r.Ctx
	if ctx == nil {
		ctx = context.Background()
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
	return out, r.awaitStatus(status)
}

func (r *RemoteBlobs) Clear(container string) error {
	_, _, err := r.call("clear-container", container)
	return err
}

func (r *RemoteBlobs) Copy(srcC, srcO, dstC, dstO string) error {
	_, _, err := r.call("copy-object", objectIDValue(srcC, srcO), objectIDValue(dstC, dstO))
	return err
}

func (r *RemoteBlobs) Move(srcC, srcO, dstC, dstO string) error {
	_, _, err := r.call("move-object", objectIDValue(srcC, srcO), objectIDValue(dstC, dstO))
	return err
}

// Exports serves wasmcloud:messaging/consumer@0.2.0 (request, publish) on this provider's
// connection.
func (p *MessagingProvider) Exports(CallerLink) []wrpc.Export {
	return []wrpc.Export{
		serveFunc(interfaces.MessagingRequest, func(ctx context.Context, a []wrpc.Value) ([]wrpc.Value, error) {
			subject := argString(a, 0)
			body, _ := a[1].([]byte)
			ms, _ := a[2].(uint32)
			timeout := time.Second
			if ms > 0 {
				timeout = time.Duration(ms) * time.Millisecond
			}
			m, err := p.nc.Request(subject, body, timeout)
			if err != nil {
				return one(wrpc.Err(fmt.Sprintf("messaging-nats: request to %s: %v", subject, err)))
			}
			return one(wrpc.Ok(brokerMessageValue(BrokerMessage{Subject: m.Subject, Body: m.Data, ReplyTo: m.Reply})))
		}),
		serveFunc(interfaces.MessagingPublish, func(ctx context.Context, a []wrpc.Value) ([]wrpc.Value, error) {
			m := brokerMessageOf(a[0])
			if m.Subject == "" {
				return one(wrpc.Err("messaging-nats: publish needs a subject"))
			}
			if err := p.nc.PublishMsg(&nats.Msg{Subject: m.Subject, Reply: m.ReplyTo, Data: m.Body}); err != nil {
				return one(wrpc.Err(fmt.Sprintf("messaging-nats: publish to %s: %v", m.Subject, err)))
			}
			return one(wrpc.Ok(nil))
		}),
	}
}

func brokerMessageValue(m BrokerMessage) wrpc.Value {
	reply := wrpc.None()
	if m.ReplyTo != "" {
		reply = wrpc.Some(m.ReplyTo)
	}
	body := m.Body
	if body == nil {
		body = []byte{}
	}
	return []wrpc.Value{m.Subject, body, reply}
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
