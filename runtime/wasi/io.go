package wasi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/wasmlattice/wash/runtime/cabi"
)

// IOError is the wasi:io/error resource.
type IOError struct{ Err error }

// Pollable is the wasi:io/poll pollable resource: anything that can say whether it is ready
// and give a channel closed once it is.
type Pollable interface {
	Ready() bool
	Wait() <-chan struct{}
}

type readyPollable struct{}

var closedCh = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (readyPollable) Ready() bool           { return true }
func (readyPollable) Wait() <-chan struct{} { return closedCh }

type timerPollable struct {
	at time.Time
}

func (t *timerPollable) Ready() bool { return !time.Now().Before(t.at) }
func (t *timerPollable) Wait() <-chan struct{} {
	c := make(chan struct{})
	d := time.Until(t.at)
	if d <= 0 {
		return closedCh
	}
	time.AfterFunc(d, func() { close(c) })
	return c
}

type chanPollable struct{ c <-chan struct{} }

func (p chanPollable) Ready() bool {
	select {
	case <-p.c:
		return true
	default:
		return false
	}
}
func (p chanPollable) Wait() <-chan struct{} { return p.c }

// pollables blocks until at least one is ready (or ctx ends) and returns the ready indices.
func pollables(ctx context.Context, ps []Pollable) []cabi.Value {
	for {
		var ready []cabi.Value
		for i, p := range ps {
			if p.Ready() {
				ready = append(ready, uint32(i))
			}
		}
		if len(ready) > 0 || len(ps) == 0 {
			return ready
		}
		cases := make([]reflect.SelectCase, 0, len(ps)+1)
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
		for _, p := range ps {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(p.Wait())})
		}
		if i, _, _ := reflect.Select(cases); i == 0 {
			panic(ctx.Err())
		}
	}
}

// InputStream is the wasi:io/streams input-stream resource over a Go reader.
type InputStream struct {
	R      io.Reader
	closer io.Closer
	eof    bool
}

// Drop closes the underlying body, if any.
func (s *InputStream) Drop() {
	if s.closer != nil {
		_ = s.closer.Close()
	}
}

const maxRead = 1 << 20

func streamClosed() (cabi.Value, error) { return errv(cabi.VariantValue{Case: streamErrorClosed}) }
func streamFailed(err error) (cabi.Value, error) {
	return errv(cabi.VariantValue{Case: streamErrorFailed, Value: &IOError{Err: err}})
}

func (s *InputStream) read(n uint64) (cabi.Value, error) {
	if s.eof || s.R == nil {
		return streamClosed()
	}
	if n > maxRead {
		n = maxRead
	}
	if n == 0 {
		return ok([]byte{})
	}
	buf := make([]byte, n)
	k, err := s.R.Read(buf)
	if k > 0 {
		if errors.Is(err, io.EOF) {
			s.eof = true
		}
		return ok(buf[:k])
	}
	if err == nil {
		return ok([]byte{})
	}
	s.eof = true
	if errors.Is(err, io.EOF) {
		return streamClosed()
	}
	return streamFailed(err)
}

// OutputStream is the wasi:io/streams output-stream resource over a Go writer.
type OutputStream struct {
	W      io.Writer
	closed bool
	onDrop func()
}

// Drop runs the owner's hook (e.g. an HTTP body stream).
func (s *OutputStream) Drop() {
	if s.onDrop != nil {
		s.onDrop()
	}
}

func (s *OutputStream) write(b []byte) (cabi.Value, error) {
	if s.closed || s.W == nil {
		return streamClosed()
	}
	if _, err := s.W.Write(b); err != nil {
		s.closed = true
		return streamFailed(err)
	}
	return ok(nil)
}

func (s *OutputStream) flush() (cabi.Value, error) {
	if s.closed {
		return streamClosed()
	}
	if f, ok2 := s.W.(http.Flusher); ok2 {
		f.Flush()
	}
	return ok(nil)
}

const writeBudget = 1 << 20

func ioFuncs() map[string]map[string]cabi.HostDecl {
	d := func(sig string, fn cabi.HostFunc) cabi.HostDecl { return cabi.Declare(ioTypes, sig, fn) }
	ready := cabi.Fn1(func(context.Context, any) (Pollable, error) { return readyPollable{}, nil })
	read := cabi.Fn2(func(_ context.Context, s *InputStream, n uint64) (cabi.Value, error) { return s.read(n) })
	skipFn := cabi.Fn2(func(_ context.Context, s *InputStream, n uint64) (cabi.Value, error) { return skip(s, n) })
	flush := cabi.Fn1(func(_ context.Context, s *OutputStream) (cabi.Value, error) { return s.flush() })
	spliceFn := cabi.Fn3(func(_ context.Context, dst *OutputStream, src *InputStream, n uint64) (cabi.Value, error) {
		return splice(dst, src, n)
	})
	return map[string]map[string]cabi.HostDecl{
		"wasi:io/error@0.2.0": {
			"[method]error.to-debug-string": d("func(self: borrow<error>) -> string", cabi.Fn1(func(_ context.Context, e *IOError) (string, error) {
				if e.Err == nil {
					return "error", nil
				}
				return e.Err.Error(), nil
			})),
		},
		"wasi:io/poll@0.2.0": {
			"[method]pollable.ready": d("func(self: borrow<pollable>) -> bool", cabi.Fn1(func(_ context.Context, p Pollable) (bool, error) {
				return p.Ready(), nil
			})),
			"[method]pollable.block": d("func(self: borrow<pollable>)", cabi.Fn1(func(ctx context.Context, p Pollable) (cabi.NoResult, error) {
				pollables(ctx, []Pollable{p})
				return cabi.NoResult{}, nil
			})),
			"poll": d("func(in: list<borrow<pollable>>) -> list<u32>", cabi.Fn1(func(ctx context.Context, list []cabi.Value) ([]cabi.Value, error) {
				if len(list) == 0 {
					return nil, &cabi.Trap{Msg: "poll called with an empty list"}
				}
				ps := make([]Pollable, len(list))
				for i, v := range list {
					p, ok2 := v.(Pollable)
					if !ok2 {
						return nil, &cabi.Trap{Msg: "poll: not a pollable"}
					}
					ps[i] = p
				}
				return pollables(ctx, ps), nil
			})),
		},
		"wasi:io/streams@0.2.0": {
			"[method]input-stream.read":          d("func(self: borrow<input-stream>, len: u64) -> result<list<u8>, stream-error>", read),
			"[method]input-stream.blocking-read": d("func(self: borrow<input-stream>, len: u64) -> result<list<u8>, stream-error>", read),
			"[method]input-stream.skip":          d("func(self: borrow<input-stream>, len: u64) -> result<u64, stream-error>", skipFn),
			"[method]input-stream.blocking-skip": d("func(self: borrow<input-stream>, len: u64) -> result<u64, stream-error>", skipFn),
			"[method]input-stream.subscribe":     d("func(self: borrow<input-stream>) -> pollable", ready),
			"[method]output-stream.check-write": d("func(self: borrow<output-stream>) -> result<u64, stream-error>", cabi.Fn1(func(_ context.Context, s *OutputStream) (cabi.Value, error) {
				if s.closed {
					return streamClosed()
				}
				return ok(uint64(writeBudget))
			})),
			"[method]output-stream.write": d("func(self: borrow<output-stream>, contents: list<u8>) -> result<_, stream-error>", cabi.Fn2(func(_ context.Context, s *OutputStream, b []byte) (cabi.Value, error) {
				return s.write(b)
			})),
			"[method]output-stream.blocking-write-and-flush": d("func(self: borrow<output-stream>, contents: list<u8>) -> result<_, stream-error>", cabi.Fn2(func(_ context.Context, s *OutputStream, b []byte) (cabi.Value, error) {
				if r, _ := s.write(b); r.(cabi.ResultValue).IsErr {
					return r, nil
				}
				return s.flush()
			})),
			"[method]output-stream.flush":          d("func(self: borrow<output-stream>) -> result<_, stream-error>", flush),
			"[method]output-stream.blocking-flush": d("func(self: borrow<output-stream>) -> result<_, stream-error>", flush),
			"[method]output-stream.subscribe":      d("func(self: borrow<output-stream>) -> pollable", ready),
			"[method]output-stream.write-zeroes": d("func(self: borrow<output-stream>, len: u64) -> result<_, stream-error>", cabi.Fn2(func(_ context.Context, s *OutputStream, n uint64) (cabi.Value, error) {
				return writeZeroes(s, n)
			})),
			"[method]output-stream.blocking-write-zeroes-and-flush": d("func(self: borrow<output-stream>, len: u64) -> result<_, stream-error>", cabi.Fn2(func(_ context.Context, s *OutputStream, n uint64) (cabi.Value, error) {
				if r, _ := writeZeroes(s, n); r.(cabi.ResultValue).IsErr {
					return r, nil
				}
				return s.flush()
			})),
			"[method]output-stream.splice":          d("func(self: borrow<output-stream>, src: borrow<input-stream>, len: u64) -> result<u64, stream-error>", spliceFn),
			"[method]output-stream.blocking-splice": d("func(self: borrow<output-stream>, src: borrow<input-stream>, len: u64) -> result<u64, stream-error>", spliceFn),
		},
	}
}

func skip(s *InputStream, n uint64) (cabi.Value, error) {
	r, _ := s.read(n)
	rv := r.(cabi.ResultValue)
	if rv.IsErr {
		return rv, nil
	}
	return ok(uint64(len(rv.Value.([]byte))))
}

func writeZeroes(s *OutputStream, n uint64) (cabi.Value, error) {
	if n > writeBudget {
		return nil, &cabi.Trap{Msg: "write-zeroes larger than check-write allows"}
	}
	return s.write(make([]byte, n))
}

func splice(dst *OutputStream, src *InputStream, n uint64) (cabi.Value, error) {
	r, _ := src.read(n)
	rv := r.(cabi.ResultValue)
	if rv.IsErr {
		return rv, nil
	}
	b := rv.Value.([]byte)
	if w, _ := dst.write(b); w.(cabi.ResultValue).IsErr {
		return w, nil
	}
	return ok(uint64(len(b)))
}

// bufferedWriter buffers writes until a target is attached (an HTTP response body written
// before response-outparam.set).
type bufferedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	w   io.Writer
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.w != nil {
		return b.w.Write(p)
	}
	return b.buf.Write(p)
}

func (b *bufferedWriter) attach(w io.Writer) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.w = w
	if b.buf.Len() > 0 {
		_, err := w.Write(b.buf.Bytes())
		b.buf.Reset()
		return err
	}
	return nil
}

func (b *bufferedWriter) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f, ok2 := b.w.(http.Flusher); ok2 {
		f.Flush()
	}
}
