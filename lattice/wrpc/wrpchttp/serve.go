package wrpchttp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
	"github.com/wasmlattice/wash/lattice/wrpc/internal/workers"
)

// Serving over wRPC: wrpc:http/incoming-handler and outgoing-handler exports backed by Go
// HTTP handlers and round trippers, and the response writer that streams their answers.

// ServeFunc serves one request: it writes the response to w and returns an error when it could
// not produce one (before anything was written) or failed while writing it.
type ServeFunc func(w http.ResponseWriter, r *http.Request) error

// IncomingHandler serves incoming-handler.handle with serve. The result is sent as soon as
// serve has written the status; the body streams while serve runs. If serve fails before
// writing anything the invocation fails (the caller sees it end without results); if it fails
// later the body ends without its closing chunk, which the caller reads as a truncated body.
func IncomingHandler(serve ServeFunc) wrpc.Handler {
	return func(ctx context.Context, args []wrpc.Value) ([]wrpc.Value, error) {
		req, err := ToRequest(ctx, args[0])
		if err != nil {
			return nil, err
		}
		return serveResponse(ctx, req, serve)
	}
}

// OutgoingHandler serves outgoing-handler.handle by sending each request with rt.
func OutgoingHandler(rt http.RoundTripper) wrpc.Handler {
	return func(ctx context.Context, args []wrpc.Value) ([]wrpc.Value, error) {
		req, err := ToRequest(ctx, args[0])
		if err != nil {
			return nil, err
		}
		req.RequestURI = ""
		resp, err := rt.RoundTrip(req)
		if err != nil {
			code := InternalError(err.Error())
			if errors.Is(err, context.DeadlineExceeded) {
				code = &ErrorCode{Case: interfaces.ErrorCodeCase("connection-timeout")}
			}
			return []wrpc.Value{wrpc.Err(wrpc.VariantValue{Case: code.Case, Value: code.Payload})}, nil
		}
		trailers := wrpc.FutureFunc(func(ctx context.Context) (wrpc.Value, error) {
			if len(resp.Trailer) == 0 {
				return wrpc.None(), nil
			}
			return wrpc.Some(FieldsValue(resp.Trailer)), nil
		})
		body := wrpc.CloseAtEnd(resp.Body)
		return []wrpc.Value{wrpc.Ok([]wrpc.Value{body, trailers, uint16(resp.StatusCode), FieldsValue(resp.Header)})}, nil
	}
}

// Small answers go inline: a response body that is complete (and at most inlineBody bytes)
// when the result is sent travels as a "ready" stream inside the result, its trailers as a
// ready future, which saves the body's and trailers' channels (five NATS messages) per request.
// A body that is still being written inlineWait after the status, or outgrows inlineBody, or
// is flushed, is streamed.
const (
	inlineBody = 64 << 10
	inlineWait = time.Millisecond
)

// streamingWriter is the http.ResponseWriter serve writes to: the status and headers are
// captured when written; the body is kept until the response is committed to inline or
// streamed, then goes through a pipe to the stream<u8> writer.
type streamingWriter struct {
	header  http.Header
	status  int
	started chan struct{}
	once    sync.Once
	sent    http.Header // the headers as they were at WriteHeader

	mu       sync.Mutex
	buf      []byte
	pr       *io.PipeReader
	pw       *io.PipeWriter // set when streaming
	finished bool           // serve returned
	serveErr error
	full     chan struct{} // the body outgrew inlineBody or was flushed
	fullOnce sync.Once
}

func newStreamingWriter() *streamingWriter {
	return &streamingWriter{header: http.Header{}, started: make(chan struct{}), full: make(chan struct{})}
}

func (w *streamingWriter) Header() http.Header { return w.header }

func (w *streamingWriter) WriteHeader(status int) {
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	w.once.Do(func() {
		w.status = status
		w.sent = w.header.Clone()
		close(w.started)
	})
}

func (w *streamingWriter) signalFull() { w.fullOnce.Do(func() { close(w.full) }) }

func (w *streamingWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.mu.Lock()
	if pw := w.pw; pw != nil {
		w.mu.Unlock()
		return pw.Write(p)
	}
	w.buf = append(w.buf, p...)
	over := len(w.buf) > inlineBody
	w.mu.Unlock()
	if over {
		w.signalFull()
	}
	return len(p), nil
}

// Flush commits to streaming: what follows goes out as it is written.
func (w *streamingWriter) Flush() {
	w.WriteHeader(http.StatusOK)
	w.mu.Lock()
	if w.pw == nil && !w.finished {
		w.pr, w.pw = io.Pipe()
	}
	w.mu.Unlock()
	w.signalFull()
}

// finish records that serve returned; a streamed body ends (with err, the reader sees a
// truncated body).
func (w *streamingWriter) finish(err error) {
	w.mu.Lock()
	w.finished, w.serveErr = true, err
	pw := w.pw
	w.mu.Unlock()
	if pw != nil {
		if err != nil {
			_ = pw.CloseWithError(err)
		} else {
			_ = pw.Close()
		}
	}
}

// commit decides how the body goes: inline when serve has finished cleanly, else streamed
// (what was written so far first).
func (w *streamingWriter) commit() (body wrpc.Value, complete bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished && w.serveErr == nil && w.pw == nil {
		b := w.buf
		if b == nil {
			b = []byte{}
		}
		return b, true
	}
	if w.pw == nil {
		w.pr, w.pw = io.Pipe()
		if w.finished { // failed after the status: the body ends early
			_ = w.pw.CloseWithError(w.serveErr)
		}
	}
	return io.MultiReader(bytes.NewReader(w.buf), w.pr), false
}

func (w *streamingWriter) trailers() wrpc.Value {
	tr := http.Header{}
	for k, vs := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			tr[strings.TrimPrefix(k, http.TrailerPrefix)] = vs
		}
	}
	for _, k := range w.sent.Values("Trailer") {
		for _, name := range strings.Split(k, ",") {
			name = http.CanonicalHeaderKey(strings.TrimSpace(name))
			if vs, ok := w.header[name]; ok && name != "" {
				tr[name] = vs
			}
		}
	}
	if len(tr) == 0 {
		return wrpc.None()
	}
	return wrpc.Some(FieldsValue(tr))
}

func serveResponse(ctx context.Context, req *http.Request, serve ServeFunc) ([]wrpc.Value, error) {
	w := newStreamingWriter()
	done := make(chan struct{})
	// on a worker: serving a component needs a deep stack, which a fresh goroutine would grow
	// by copying on every request
	workers.Go(func() {
		err := serve(w, req)
		if err == nil {
			w.WriteHeader(http.StatusOK)
		}
		w.finish(err)
		close(done)
	})
	// Wait for serve to finish (most answers are complete within the grace period: one
	// wake-up), or for the body to outgrow inline or be flushed. The grace period counts from
	// the start; if it ends before the status, the status gets a grace period of its own.
	grace := time.NewTimer(inlineWait)
	defer grace.Stop()
	select {
	case <-done:
	case <-w.full:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-grace.C:
		select {
		case <-w.started:
		default:
			select {
			case <-w.started:
			case <-done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			grace.Reset(inlineWait)
			select {
			case <-done:
			case <-w.full:
			case <-grace.C:
			case <-ctx.Done():
			}
		}
	}
	select {
	case <-w.started:
	default:
		// serve failed before writing anything
		w.mu.Lock()
		err := w.serveErr
		w.mu.Unlock()
		return nil, err
	}
	body, complete := w.commit()
	var trailers wrpc.FutureValue
	if complete {
		trailers = wrpc.Ready(w.trailers())
	} else {
		go func() {
			// nobody reads the body any more once the invocation is over: unblock serve
			<-ctx.Done()
			w.mu.Lock()
			pw := w.pw
			w.mu.Unlock()
			_ = pw.CloseWithError(ctx.Err())
		}()
		trailers = wrpc.FutureFunc(func(ctx context.Context) (wrpc.Value, error) {
			select {
			case <-done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return w.trailers(), nil
		})
	}
	return []wrpc.Value{wrpc.Ok([]wrpc.Value{body, trailers, uint16(w.status), FieldsValue(w.sent)})}, nil
}
