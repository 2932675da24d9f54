package providers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

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

// closeAtEOF closes a body once it has been read to the end (or failed).
type closeAtEOF struct{ rc io.ReadCloser }

func (c *closeAtEOF) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if err != nil {
		_ = c.rc.Close()
	}
	return n, err
}

func rep[T any](a []cabi.Value, i int) (T, error) {
	var zero T
	if i >= len(a) {
		return zero, fmt.Errorf("wasi:blobstore: missing argument %d", i)
	}
	v, ok := a[i].(T)
	if !ok {
		return zero, fmt.Errorf("wasi:blobstore: argument %d is %T, not %T", i, a[i], zero)
	}
	return v, nil
}

func u64Arg(a []cabi.Value, i int) uint64 {
	if i < len(a) {
		n, _ := a[i].(uint64)
		return n
	}
	return 0
}

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
	blobstore := &runtime.HostInterface{Name: BlobstoreBlobstore, Funcs: map[string]runtime.HostFunc{
		"create-container": func(ctx context.Context, a []cabi.Value) (cabi.Value, error) {
			return withStore(ctx, func(s BlobBackend) (cabi.Value, error) {
				name := strArg(a, 0)
				if err := s.CreateContainer(ctx, name); err != nil {
					return cabi.Err(err.Error()), nil
				}
				return cabi.Ok(&bsContainer{store: s, name: name}), nil
			})
		},
		"get-container": func(ctx context.Context, a []cabi.Value) (cabi.Value, error) {
			return withStore(ctx, func(s BlobBackend) (cabi.Value, error) {
				name := strArg(a, 0)
				if err := s.GetContainer(ctx, name); err != nil {
					return cabi.Err(err.Error()), nil
				}
				return cabi.Ok(&bsContainer{store: s, name: name}), nil
			})
		},
		"delete-container": func(ctx context.Context, a []cabi.Value) (cabi.Value, error) {
			return withStore(ctx, func(s BlobBackend) (cabi.Value, error) {
				return bsResult(nil, s.DeleteContainer(ctx, strArg(a, 0)))
			})
		},
		"container-exists": func(ctx context.Context, a []cabi.Value) (cabi.Value, error) {
			return withStore(ctx, func(s BlobBackend) (cabi.Value, error) {
				return bsResult(s.ContainerExists(ctx, strArg(a, 0)))
			})
		},
		"copy-object": func(ctx context.Context, a []cabi.Value) (cabi.Value, error) {
			return withStore(ctx, func(s BlobBackend) (cabi.Value, error) {
				sc, so := objectID(a[0])
				dc, do := objectID(a[1])
				return bsResult(nil, s.CopyObject(ctx, sc, so, dc, do))
			})
		},
		"move-object": func(ctx context.Context, a []cabi.Value) (cabi.Value, error) {
			return withStore(ctx, func(s BlobBackend) (cabi.Value, error) {
				sc, so := objectID(a[0])
				dc, do := objectID(a[1])
				return bsResult(nil, s.MoveObject(ctx, sc, so, dc, do))
			})
		},
	}}
	method := func(f func(ctx context.Context, c *bsContainer, a []cabi.Value) (cabi.Value, error)) runtime.HostFunc {
		return func(ctx context.Context, a []cabi.Value) (cabi.Value, error) {
			c, err := rep[*bsContainer](a, 0)
			if err != nil {
				return nil, err
			}
			return f(ctx, c, a)
		}
	}
	container := &runtime.HostInterface{Name: BlobstoreContainer, Funcs: map[string]runtime.HostFunc{
		"[method]container.name": method(func(_ context.Context, c *bsContainer, _ []cabi.Value) (cabi.Value, error) {
			return cabi.Ok(c.name), nil
		}),
		"[method]container.info": method(func(ctx context.Context, c *bsContainer, _ []cabi.Value) (cabi.Value, error) {
			created, err := c.store.ContainerInfo(ctx, c.name)
			return bsResult([]cabi.Value{c.name, created}, err)
		}),
		"[method]container.get-data": method(func(ctx context.Context, c *bsContainer, a []cabi.Value) (cabi.Value, error) {
			r, size, err := c.store.ReadObject(ctx, c.name, strArg(a, 1), u64Arg(a, 2), u64Arg(a, 3))
			if err != nil {
				return cabi.Err(err.Error()), nil
			}
			return cabi.Ok(&bsIncoming{r: r, size: size}), nil
		}),
		"[method]container.write-data": method(func(ctx context.Context, c *bsContainer, a []cabi.Value) (cabi.Value, error) {
			ov, err := rep[*bsOutgoing](a, 2)
			if err != nil {
				return nil, err
			}
			name := strArg(a, 1)
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
		"[method]container.list-objects": method(func(ctx context.Context, c *bsContainer, _ []cabi.Value) (cabi.Value, error) {
			names, err := c.store.ListObjects(ctx, c.name)
			if err != nil {
				return cabi.Err(err.Error()), nil
			}
			return cabi.Ok(&bsNames{names: names}), nil
		}),
		"[method]container.delete-object": method(func(ctx context.Context, c *bsContainer, a []cabi.Value) (cabi.Value, error) {
			return bsResult(nil, c.store.DeleteObject(ctx, c.name, strArg(a, 1)))
		}),
		"[method]container.delete-objects": method(func(ctx context.Context, c *bsContainer, a []cabi.Value) (cabi.Value, error) {
			for _, n := range stringList(a[1]) {
				if err := c.store.DeleteObject(ctx, c.name, n); err != nil {
					return cabi.Err(err.Error()), nil
				}
			}
			return cabi.Ok(nil), nil
		}),
		"[method]container.has-object": method(func(ctx context.Context, c *bsContainer, a []cabi.Value) (cabi.Value, error) {
			_, _, ok, err := c.store.StatObject(ctx, c.name, strArg(a, 1))
			return bsResult(ok, err)
		}),
		"[method]container.object-info": method(func(ctx context.Context, c *bsContainer, a []cabi.Value) (cabi.Value, error) {
			name := strArg(a, 1)
			size, created, ok, err := c.store.StatObject(ctx, c.name, name)
			if err == nil && !ok {
				err = fmt.Errorf("object %q in container %q does not exist", name, c.name)
			}
			return bsResult([]cabi.Value{name, c.name, created, size}, err)
		}),
		"[method]container.clear": method(func(ctx context.Context, c *bsContainer, _ []cabi.Value) (cabi.Value, error) {
			return bsResult(nil, c.store.ClearContainer(ctx, c.name))
		}),
		"[method]stream-object-names.read-stream-object-names": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
			n, err := rep[*bsNames](a, 0)
			if err != nil {
				return nil, err
			}
			k := int(min(u64Arg(a, 1), uint64(len(n.names)-n.pos)))
			out := make([]cabi.Value, k)
			for i := range k {
				out[i] = n.names[n.pos+i]
			}
			n.pos += k
			return cabi.Ok([]cabi.Value{out, n.pos >= len(n.names)}), nil
		},
		"[method]stream-object-names.skip-stream-object-names": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
			n, err := rep[*bsNames](a, 0)
			if err != nil {
				return nil, err
			}
			k := min(u64Arg(a, 1), uint64(len(n.names)-n.pos))
			n.pos += int(k)
			return cabi.Ok([]cabi.Value{k, n.pos >= len(n.names)}), nil
		},
	}}
	types := &runtime.HostInterface{Name: BlobstoreTypes, Funcs: map[string]runtime.HostFunc{
		"[static]outgoing-value.new-outgoing-value": func(context.Context, []cabi.Value) (cabi.Value, error) {
			return &bsOutgoing{}, nil
		},
		"[method]outgoing-value.outgoing-value-write-body": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
			ov, err := rep[*bsOutgoing](a, 0)
			if err != nil {
				return nil, err
			}
			if ov.streamTaken {
				return cabi.Err(nil), nil
			}
			ov.streamTaken = true
			return cabi.Ok(&wasi.OutputStream{W: ov}), nil
		},
		"[static]outgoing-value.finish": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
			ov, err := rep[*bsOutgoing](a, 0)
			if err != nil {
				return nil, err
			}
			return bsResult(nil, ov.finish())
		},
		"[static]incoming-value.incoming-value-consume-sync": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
			iv, err := rep[*bsIncoming](a, 0)
			if err != nil {
				return nil, err
			}
			defer iv.r.Close()
			if iv.size > MaxBlobConsumeSync {
				return cabi.Err(fmt.Sprintf("the value has %d bytes, more than consume-sync reads (%d); read it with incoming-value-consume-async", iv.size, MaxBlobConsumeSync)), nil
			}
			data, err := io.ReadAll(io.LimitReader(iv.r, MaxBlobConsumeSync+1))
			if err != nil {
				return cabi.Err(err.Error()), nil
			}
			return cabi.Ok(data), nil
		},
		"[static]incoming-value.incoming-value-consume-async": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
			iv, err := rep[*bsIncoming](a, 0)
			if err != nil {
				return nil, err
			}
			return cabi.Ok(&wasi.InputStream{R: &closeAtEOF{rc: iv.r}}), nil
		},
		"[method]incoming-value.size": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
			iv, err := rep[*bsIncoming](a, 0)
			if err != nil {
				return nil, err
			}
			return iv.size, nil
		},
	}}
	return []*runtime.HostInterface{blobstore, container, types}
}
