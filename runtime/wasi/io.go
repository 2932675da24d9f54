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

func streamClosed() (cabi.Value, error) { return errv(cabi.VariantValue{Case: 1}) }
func streamFailed(err error) (cabi.Value, error) {
	return errv(cabi.VariantValue{Case: 0, Value: &IOError{Err: err}})
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

func ioFuncs() map[string]map[string]cabi.HostFunc {
	return map[string]map[string]cabi.HostFunc{
		"wasi:io/error@0.2.0": {
			"[method]error.to-debug-string": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				e := arg[*IOError](a, 0)
				if e.Err == nil {
					return "error", nil
				}
				return e.Err.Error(), nil
			},
		},
		"wasi:io/poll@0.2.0": {
			"[method]pollable.ready": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				return arg[Pollable](a, 0).Ready(), nil
			},
			"[method]pollable.block": func(ctx context.Context, a []cabi.Value) (cabi.Value, error) {
				pollables(ctx, []Pollable{arg[Pollable](a, 0)})
				return nil, nil
			},
			"poll": func(ctx context.Context, a []cabi.Value) (cabi.Value, error) {
				list := arg[[]cabi.Value](a, 0)
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
			},
		},
		"wasi:io/streams@0.2.0": {
			"[method]input-stream.read": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				return arg[*InputStream](a, 0).read(arg[uint64](a, 1))
			},
			"[method]input-stream.blocking-read": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				return arg[*InputStream](a, 0).read(arg[uint64](a, 1))
			},
			"[method]input-stream.skip": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				return skip(arg[*InputStream](a, 0), arg[uint64](a, 1))
			},
			"[method]input-stream.blocking-skip": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				return skip(arg[*InputStream](a, 0), arg[uint64](a, 1))
			},
			"[method]input-stream.subscribe": func(context.Context, []cabi.Value) (cabi.Value, error) {
				return Pollable(readyPollable{}), nil
			},
			"[method]output-stream.check-write": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				if arg[*OutputStream](a, 0).closed {
					return streamClosed()
				}
				return ok(uint64(writeBudget))
			},
			"[method]output-stream.write": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				return arg[*OutputStream](a, 0).write(arg[[]byte](a, 1))
			},
			"[method]output-stream.blocking-write-and-flush": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				s := arg[*OutputStream](a, 0)
				if r, _ := s.write(arg[[]byte](a, 1)); r.(cabi.ResultValue).IsErr {
					return r, nil
				}
				return s.flush()
			},
			"[method]output-stream.flush": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				return arg[*OutputStream](a, 0).flush()
			},
			"[method]output-stream.blocking-flush": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				return arg[*OutputStream](a, 0).flush()
			},
			"[method]output-stream.subscribe": func(context.Context, []cabi.Value) (cabi.Value, error) {
				return Pollable(readyPollable{}), nil
			},
			"[method]output-stream.write-zeroes": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				return writeZeroes(arg[*OutputStream](a, 0), arg[uint64](a, 1))
			},
			"[method]output-stream.blocking-write-zeroes-and-flush": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				s := arg[*OutputStream](a, 0)
				if r, _ := writeZeroes(s, arg[uint64](a, 1)); r.(cabi.ResultValue).IsErr {
					return r, nil
				}
				return s.flush()
			},
			"[method]output-stream.splice": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				return splice(arg[*OutputStream](a, 0), arg[*InputStream](a, 1), arg[uint64](a, 2))
			},
			"[method]output-stream.blocking-splice": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				return splice(arg[*OutputStream](a, 0), arg[*InputStream](a, 1), arg[uint64](a, 2))
			},
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
