package providers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/runtime"
	"github.com/wasmlattice/wash/runtime/cabi"
	"github.com/wasmlattice/wash/runtime/wasi"
)

// BlobBackend is one blobstore as seen through one link: blobstore-fs's directory or
// blobstore-s3's endpoint. Errors become the interface's error string.
type BlobBackend interface {
	CreateContainer(ctx context.Context, name string) error
	// GetContainer fails when the container does not exist.
	GetContainer(ctx context.Context, name string) error
	ContainerExists(ctx context.Context, name string) (bool, error)
	DeleteContainer(ctx context.Context, name string) error
	ContainerInfo(ctx context.Context, name string) (created uint64, err error)
	// ReadObject streams bytes start..end (inclusive, clamped to the object) and says how many.
	ReadObject(ctx context.Context, container, object string, start, end uint64) (io.ReadCloser, uint64, error)
	// WriteObject creates or replaces an object with everything r yields.
	WriteObject(ctx context.Context, container, object string, r io.Reader) error
	// DeleteObject removes an object; a missing object is no error.
	DeleteObject(ctx context.Context, container, object string) error
	StatObject(ctx context.Context, container, object string) (size, created uint64, ok bool, err error)
	ListObjects(ctx context.Context, container string) ([]string, error)
	ClearContainer(ctx context.Context, container string) error
	CopyObject(ctx context.Context, srcC, srcO, dstC, dstO string) error
	MoveObject(ctx context.Context, srcC, srcO, dstC, dstO string) error
}

// BlobstoreOpener is a provider serving wasi:blobstore: it returns the backend for a call
// through link.
type BlobstoreOpener interface {
	OpenBlobstore(ctx context.Context, link InterfaceLinkDefinition) (BlobBackend, error)
}

// fsBackend serves a BlobStore directory as a BlobBackend.
type fsBackend struct{ s *BlobStore }

func (b fsBackend) CreateContainer(_ context.Context, n string) error { return b.s.CreateContainer(n) }
func (b fsBackend) GetContainer(_ context.Context, n string) error    { return b.s.containerDir(n) }
func (b fsBackend) ContainerExists(_ context.Context, n string) (bool, error) {
	return b.s.ContainerExists(n)
}
func (b fsBackend) DeleteContainer(_ context.Context, n string) error { return b.s.DeleteContainer(n) }
func (b fsBackend) ContainerInfo(_ context.Context, n string) (uint64, error) {
	return b.s.ContainerInfo(n)
}
func (b fsBackend) ReadObject(_ context.Context, c, o string, start, end uint64) (io.ReadCloser, uint64, error) {
	data, err := b.s.Read(c, o, start, end)
	if err != nil {
		return nil, 0, err
	}
	return io.NopCloser(bytes.NewReader(data)), uint64(len(data)), nil
}
func (b fsBackend) WriteObject(_ context.Context, c, o string, r io.Reader) error {
	return b.s.WriteFrom(c, o, r)
}

// CheckWrite refuses a bad name or a missing container at write-data, before any byte moves.
func (b fsBackend) CheckWrite(_ context.Context, c, o string) error {
	if _, err := objectPath(c, o); err != nil {
		return err
	}
	return b.s.containerDir(c)
}
func (b fsBackend) DeleteObject(_ context.Context, c, o string) error { return b.s.Delete(c, o) }
func (b fsBackend) StatObject(_ context.Context, c, o string) (uint64, uint64, bool, error) {
	return b.s.Stat(c, o)
}
func (b fsBackend) ListObjects(_ context.Context, c string) ([]string, error) { return b.s.List(c) }
func (b fsBackend) ClearContainer(_ context.Context, c string) error          { return b.s.Clear(c) }
func (b fsBackend) CopyObject(_ context.Context, sc, so, dc, do string) error {
	return b.s.Copy(sc, so, dc, do)
}
func (b fsBackend) MoveObject(_ context.Context, sc, so, dc, do string) error {
	return b.s.Move(sc, so, dc, do)
}

// Host representations of the wasi:blobstore resources.
type (
	bsContainer struct {
		store BlobBackend
		name  string
	}
	bsIncoming struct {
		r    io.ReadCloser
		size uint64
	}
	bsNames struct {
		names []string
		pos   int
	}
)

// Drop closes an incoming value nobody consumed.
func (v *bsIncoming) Drop() { _ = v.r.Close() }

// bsOutgoing is an outgoing-value. Bytes written to its body before container.write-data
// are kept in memory; write-data starts the backend's write, which reads those bytes and
// then everything written later straight from the guest (a pipe), so a body written after
// write-data is streamed, never held whole. finish closes the body and waits for the write.
type bsOutgoing struct {
	mu          sync.Mutex
	buf         bytes.Buffer
	pw          *io.PipeWriter
	done        chan error
	streamTaken bool
	finished    bool
}

func (v *bsOutgoing) Write(p []byte) (int, error) {
	v.mu.Lock()
	pw := v.pw
	if pw == nil {
		defer v.mu.Unlock()
		return v.buf.Write(p)
	}
	v.mu.Unlock()
	return pw.Write(p)
}

// start begins the backend write; it fails when write-data was already called.
func (v *bsOutgoing) start(write func(r io.Reader) error) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.pw != nil || v.finished {
		return errors.New("write-data was already called for this outgoing value")
	}
	pr, pw := io.Pipe()
	v.pw, v.done = pw, make(chan error, 1)
	head := bytes.NewReader(bytes.Clone(v.buf.Bytes()))
	v.buf = bytes.Buffer{}
	go func() {
		err := write(io.MultiReader(head, pr))
		pr.CloseWithError(err) // unblock a guest still writing after a failed write
		v.done <- err
	}()
	return nil
}

// finish ends the body and returns the write's result (nil when write-data never ran).
func (v *bsOutgoing) finish() error {
	v.mu.Lock()
	pw, done := v.pw, v.done
	v.finished = true
	v.mu.Unlock()
	if pw == nil {
		return nil
	}
	_ = pw.Close()
	return <-done
}

// Drop aborts a write the guest never finished: the object is not written.
func (v *bsOutgoing) Drop() {
	v.mu.Lock()
	pw, finished := v.pw, v.finished
	v.finished = true
	v.mu.Unlock()
	if pw != nil && !finished {
		pw.CloseWithError(errors.New("the outgoing value was dropped before finish"))
	}
}

// existingContainer is GetContainer's answer for backends that ask ContainerExists: an error
// when the container does not exist.
func existingContainer(name string, ok bool, err error) error {
	if err == nil && !ok {
		err = fmt.Errorf("container %q does not exist", name)
	}
	return err
}

// The wasi:blobstore types the host functions are declared with (checked at link).
var (
	bsIOTypes    = cabi.MustScope(nil, "wasi:io/streams@0.2.0", `resource input-stream resource output-stream`)
	bsTypesScope = cabi.MustScope(bsIOTypes, BlobstoreTypes, `
		type container-name = string
		type object-name = string
		type timestamp = u64
		type object-size = u64
		type error = string
		record container-metadata { name: container-name, created-at: timestamp }
		record object-metadata { name: object-name, container: container-name, created-at: timestamp, size: object-size }
		record object-id { container: container-name, object: object-name }
		resource outgoing-value
		type incoming-value-async-body = input-stream
		type incoming-value-sync-body = list<u8>
		resource incoming-value
	`)
	bsContainerScope = cabi.MustScope(bsTypesScope, BlobstoreContainer, `resource container resource stream-object-names`)

	bsBlobstoreSigs = cabi.Signatures(bsContainerScope, map[string]string{
		"create-container": "func(name: container-name) -> result<container, error>",
		"get-container":    "func(name: container-name) -> result<container, error>",
		"delete-container": "func(name: container-name) -> result<_, error>",
		"container-exists": "func(name: container-name) -> result<bool, error>",
		"copy-object":      "func(src: object-id, dest: object-id) -> result<_, error>",
		"move-object":      "func(src: object-id, dest: object-id) -> result<_, error>",
	})
	bsContainerSigs = cabi.Signatures(bsContainerScope, map[string]string{
		"[method]container.name":                               "func(self: borrow<container>) -> result<string, error>",
		"[method]container.info":                               "func(self: borrow<container>) -> result<container-metadata, error>",
		"[method]container.get-data":                           "func(self: borrow<container>, name: object-name, start: u64, end: u64) -> result<incoming-value, error>",
		"[method]container.write-data":                         "func(self: borrow<container>, name: object-name, data: borrow<outgoing-value>) -> result<_, error>",
		"[method]container.list-objects":                       "func(self: borrow<container>) -> result<stream-object-names, error>",
		"[method]container.delete-object":                      "func(self: borrow<container>, name: object-name) -> result<_, error>",
		"[method]container.delete-objects":                     "func(self: borrow<container>, names: list<object-name>) -> result<_, error>",
		"[method]container.has-object":                         "func(self: borrow<container>, name: object-name) -> result<bool, error>",
		"[method]container.object-info":                        "func(self: borrow<container>, name: object-name) -> result<object-metadata, error>",
		"[method]container.clear":                              "func(self: borrow<container>) -> result<_, error>",
		"[method]stream-object-names.read-stream-object-names": "func(self: borrow<stream-object-names>, len: u64) -> result<tuple<list<object-name>, bool>, error>",
		"[method]stream-object-names.skip-stream-object-names": "func(self: borrow<stream-object-names>, num: u64) -> result<tuple<u64, bool>, error>",
	})
	bsTypesSigs = cabi.Signatures(bsTypesScope, map[string]string{
		"[static]outgoing-value.new-outgoing-value":           "func() -> outgoing-value",
		"[method]outgoing-value.outgoing-value-write-body":    "func(self: borrow<outgoing-value>) -> result<output-stream>",
		"[static]outgoing-value.finish":                       "func(this: outgoing-value) -> result<_, error>",
		"[static]incoming-value.incoming-value-consume-sync":  "func(this: incoming-value) -> result<incoming-value-sync-body, error>",
		"[static]incoming-value.incoming-value-consume-async": "func(this: incoming-value) -> result<incoming-value-async-body, error>",
		"[method]incoming-value.size":                         "func(self: borrow<incoming-value>) -> u64",
	})
)

func objectID(v cabi.Value) (container, object string) {
	rec, _ := v.([]cabi.Value)
	if len(rec) == 2 {
		container, _ = rec[0].(string)
		object, _ = rec[1].(string)
	}
	return container, object
}

// bsResult is result<T, error> where error is a string.
func bsResult(v cabi.Value, err error) (cabi.Value, error) {
	if err != nil {
		return cabi.Err(err.Error()), nil
	}
	return cabi.Ok(v), nil
}

// MaxBlobConsumeSync bounds incoming-value-consume-sync: a larger object must be read as a
// stream (consume-async).
const MaxBlobConsumeSync = 256 << 20

// BlobstoreInterfaces builds wasi:blobstore blobstore, container and types over open, which
// returns the backend of the calling component's link (a LinkError fails the whole call;
// other errors become the interface's error string).
func BlobstoreInterfaces(open func(ctx context.Context) (BlobBackend, error)) []*runtime.HostInterface {
	withStore := func(ctx context.Context, f func(s BlobBackend) (cabi.Value, error)) (cabi.Value, error) {
		s, err := open(ctx)
		var le *LinkError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%s: %w", BlobstoreBlobstore, err)
		}
		if err != nil {
			return cabi.Err(err.Error()), nil
		}
		return f(s)
	}
	named := func(f func(s BlobBackend, ctx context.Context, name string) (cabi.Value, error)) runtime.HostFunc {
		return cabi.Fn1(func(ctx context.Context, name string) (cabi.Value, error) {
			return withStore(ctx, func(s BlobBackend) (cabi.Value, error) { return f(s, ctx, name) })
		})
	}
	objects := func(f func(s BlobBackend, ctx context.Context, sc, so, dc, do string) error) runtime.HostFunc {
		return cabi.Fn2(func(ctx context.Context, src, dest []cabi.Value) (cabi.Value, error) {
			return withStore(ctx, func(s BlobBackend) (cabi.Value, error) {
				sc, so := objectID(src)
				dc, do := objectID(dest)
				return bsResult(nil, f(s, ctx, sc, so, dc, do))
			})
		})
	}
	blobstore := cabi.Typed(BlobstoreBlobstore, bsBlobstoreSigs, map[string]runtime.HostFunc{
		"create-container": named(func(s BlobBackend, ctx context.Context, name string) (cabi.Value, error) {
			if err := s.CreateContainer(ctx, name); err != nil {
				return cabi.Err(err.Error()), nil
			}
			return cabi.Ok(&bsContainer{store: s, name: name}), nil
		}),
		"get-container": named(func(s BlobBackend, ctx context.Context, name string) (cabi.Value, error) {
			if err := s.GetContainer(ctx, name); err != nil {
				return cabi.Err(err.Error()), nil
			}
			return cabi.Ok(&bsContainer{store: s, name: name}), nil
		}),
		"delete-container": named(func(s BlobBackend, ctx context.Context, name string) (cabi.Value, error) {
			return bsResult(nil, s.DeleteContainer(ctx, name))
		}),
		"container-exists": named(func(s BlobBackend, ctx context.Context, name string) (cabi.Value, error) {
			return bsResult(s.ContainerExists(ctx, name))
		}),
		"copy-object": objects(func(s BlobBackend, ctx context.Context, sc, so, dc, do string) error {
			return s.CopyObject(ctx, sc, so, dc, do)
		}),
		"move-object": objects(func(s BlobBackend, ctx context.Context, sc, so, dc, do string) error {
			return s.MoveObject(ctx, sc, so, dc, do)
		}),
	})
	container := cabi.Typed(BlobstoreContainer, bsContainerSigs, map[string]runtime.HostFunc{
		"[method]container.name": cabi.Fn1(func(_ context.Context, c *bsContainer) (cabi.Value, error) {
			return cabi.Ok(c.name), nil
		}),
		"[method]container.info": cabi.Fn1(func(ctx context.Context, c *bsContainer) (cabi.Value, error) {
			created, err := c.store.ContainerInfo(ctx, c.name)
			return bsResult([]cabi.Value{c.name, created}, err)
		}),
		"[method]container.get-data": cabi.Fn4(func(ctx context.Context, c *bsContainer, name string, start, end uint64) (cabi.Value, error) {
			r, size, err := c.store.ReadObject(ctx, c.name, name, start, end)
			if err != nil {
				return cabi.Err(err.Error()), nil
			}
			return cabi.Ok(&bsIncoming{r: r, size: size}), nil
		}),
		"[method]container.write-data": cabi.Fn3(func(ctx context.Context, c *bsContainer, name string, ov *bsOutgoing) (cabi.Value, error) {
			if wc, ok := c.store.(interface {
				CheckWrite(ctx context.Context, container, object string) error
			}); ok {
				if err := wc.CheckWrite(ctx, c.name, name); err != nil {
					return cabi.Err(err.Error()), nil
				}
			}
			// the write outlives this call: it ends with outgoing-value.finish
			wctx := context.WithoutCancel(ctx)
			return bsResult(nil, ov.start(func(r io.Reader) error { return c.store.WriteObject(wctx, c.name, name, r) }))
		}),
		"[method]container.list-objects": cabi.Fn1(func(ctx context.Context, c *bsContainer) (cabi.Value, error) {
			names, err := c.store.ListObjects(ctx, c.name)
			if err != nil {
				return cabi.Err(err.Error()), nil
			}
			return cabi.Ok(&bsNames{names: names}), nil
		}),
		"[method]container.delete-object": cabi.Fn2(func(ctx context.Context, c *bsContainer, name string) (cabi.Value, error) {
			return bsResult(nil, c.store.DeleteObject(ctx, c.name, name))
		}),
		"[method]container.delete-objects": cabi.Fn2(func(ctx context.Context, c *bsContainer, names []cabi.Value) (cabi.Value, error) {
			for _, n := range stringList(names) {
				if err := c.store.DeleteObject(ctx, c.name, n); err != nil {
					return cabi.Err(err.Error()), nil
				}
			}
			return cabi.Ok(nil), nil
		}),
		"[method]container.has-object": cabi.Fn2(func(ctx context.Context, c *bsContainer, name string) (cabi.Value, error) {
			_, _, ok, err := c.store.StatObject(ctx, c.name, name)
			return bsResult(ok, err)
		}),
		"[method]container.object-info": cabi.Fn2(func(ctx context.Context, c *bsContainer, name string) (cabi.Value, error) {
			size, created, ok, err := c.store.StatObject(ctx, c.name, name)
			if err == nil && !ok {
				err = fmt.Errorf("object %q in container %q does not exist", name, c.name)
			}
			return bsResult([]cabi.Value{name, c.name, created, size}, err)
		}),
		"[method]container.clear": cabi.Fn1(func(ctx context.Context, c *bsContainer) (cabi.Value, error) {
			return bsResult(nil, c.store.ClearContainer(ctx, c.name))
		}),
		"[method]stream-object-names.read-stream-object-names": cabi.Fn2(func(_ context.Context, n *bsNames, count uint64) (cabi.Value, error) {
			k := int(min(count, uint64(len(n.names)-n.pos)))
			out := make([]cabi.Value, k)
			for i := range k {
				out[i] = n.names[n.pos+i]
			}
			n.pos += k
			return cabi.Ok([]cabi.Value{out, n.pos >= len(n.names)}), nil
		}),
		"[method]stream-object-names.skip-stream-object-names": cabi.Fn2(func(_ context.Context, n *bsNames, num uint64) (cabi.Value, error) {
			k := min(num, uint64(len(n.names)-n.pos))
			n.pos += int(k)
			return cabi.Ok([]cabi.Value{k, n.pos >= len(n.names)}), nil
		}),
	})
	types := cabi.Typed(BlobstoreTypes, bsTypesSigs, map[string]runtime.HostFunc{
		"[static]outgoing-value.new-outgoing-value": cabi.Fn0(func(context.Context) (cabi.Value, error) {
			return &bsOutgoing{}, nil
		}),
		"[method]outgoing-value.outgoing-value-write-body": cabi.Fn1(func(_ context.Context, ov *bsOutgoing) (cabi.Value, error) {
			if ov.streamTaken {
				return cabi.Err(nil), nil
			}
			ov.streamTaken = true
			return cabi.Ok(&wasi.OutputStream{W: ov}), nil
		}),
		"[static]outgoing-value.finish": cabi.Fn1(func(_ context.Context, ov *bsOutgoing) (cabi.Value, error) {
			return bsResult(nil, ov.finish())
		}),
		"[static]incoming-value.incoming-value-consume-sync": cabi.Fn1(func(_ context.Context, iv *bsIncoming) (cabi.Value, error) {
			defer iv.r.Close()
			if iv.size > MaxBlobConsumeSync {
				return cabi.Err(fmt.Sprintf("the value has %d bytes, more than consume-sync reads (%d); read it with incoming-value-consume-async", iv.size, MaxBlobConsumeSync)), nil
			}
			data, err := io.ReadAll(io.LimitReader(iv.r, MaxBlobConsumeSync+1))
			if err != nil {
				return cabi.Err(err.Error()), nil
			}
			return cabi.Ok(data), nil
		}),
		"[static]incoming-value.incoming-value-consume-async": cabi.Fn1(func(_ context.Context, iv *bsIncoming) (cabi.Value, error) {
			return cabi.Ok(&wasi.InputStream{R: wrpc.CloseAtEnd(iv.r)}), nil
		}),
		"[method]incoming-value.size": cabi.Fn1(func(_ context.Context, iv *bsIncoming) (uint64, error) {
			return iv.size, nil
		}),
	})
	return []*runtime.HostInterface{blobstore, container, types}
}
