// Package wrpchttp carries HTTP over wRPC the way wasmCloud 1.x does (wrpc:http@0.1.0): it
// converts between net/http and the wrpc:http request/response values, calls
// incoming-handler.handle or outgoing-handler.handle as an http.RoundTripper, and serves both
// with ordinary Go handlers. Bodies are streamed (stream<u8>), trailers follow the body
// (future<option<fields>>); repeated headers are grouped under one lowercase name, as the
// Rust peers require.
package wrpchttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
)

var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
	http.MethodConnect, http.MethodOptions, http.MethodTrace, http.MethodPatch}

func methodValue(m string) wrpc.VariantValue {
	if m == "" {
		m = http.MethodGet
	}
	for i, x := range methods {
		if x == m {
			return wrpc.VariantValue{Case: uint32(i)}
		}
	}
	return wrpc.VariantValue{Case: 9, Value: m}
}

func methodName(v wrpc.Value) (string, error) {
	vv, ok := v.(wrpc.VariantValue)
	if !ok {
		return "", fmt.Errorf("method is %T", v)
	}
	if int(vv.Case) < len(methods) {
		return methods[vv.Case], nil
	}
	s, _ := vv.Value.(string)
	if s == "" {
		return "", errors.New("method other() without a name")
	}
	return s, nil
}

// hopByHop headers belong to one connection and are not forwarded.
var hopByHop = map[string]bool{"connection": true, "keep-alive": true, "proxy-connection": true,
	"transfer-encoding": true, "upgrade": true, "te": true, "trailer": true}

// FieldsValue groups h into wrpc:http fields: one entry per lowercase name with all its values.
func FieldsValue(h http.Header) []wrpc.Value {
	out := make([]wrpc.Value, 0, len(h))
	for k, vs := range h {
		name := strings.ToLower(k)
		if hopByHop[name] || strings.HasPrefix(k, http.TrailerPrefix) {
			continue
		}
		vals := make([]wrpc.Value, len(vs))
		for i, v := range vs {
			vals[i] = []byte(v)
		}
		out = append(out, []wrpc.Value{name, vals})
	}
	return out
}

// HeaderFromFields turns fields back into an http.Header. A name that appears twice is an
// error, as upstream's conversion reports ("duplicate header entry").
func HeaderFromFields(v wrpc.Value) (http.Header, error) {
	list, ok := v.([]wrpc.Value)
	if !ok {
		return nil, fmt.Errorf("fields are %T", v)
	}
	h := make(http.Header, len(list))
	seen := make(map[string]bool, len(list))
	for _, e := range list {
		kv, ok := e.([]wrpc.Value)
		if !ok || len(kv) != 2 {
			return nil, errors.New("malformed field entry")
		}
		name, _ := kv[0].(string)
		if seen[strings.ToLower(name)] {
			return nil, fmt.Errorf("duplicate header entry %q", name)
		}
		seen[strings.ToLower(name)] = true
		vals, _ := kv[1].([]wrpc.Value)
		for _, x := range vals {
			b, _ := x.([]byte)
			h.Add(name, string(b))
		}
	}
	return h, nil
}

// bodyTracker reads a body and closes done when it has ended (EOF or error).
type bodyTracker struct {
	r    io.Reader
	once sync.Once
	done chan struct{}
}

func newBodyTracker(r io.Reader) *bodyTracker {
	return &bodyTracker{r: r, done: make(chan struct{})}
}

func (b *bodyTracker) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil {
		b.once.Do(func() { close(b.done) })
	}
	return n, err
}

// RequestValue converts r into a wrpc:http request: the body is streamed, the trailers future
// resolves once the body has been read. The scheme is always set (http, or https with TLS),
// the authority is r.Host, and the Host header travels among the fields as hyper sends it.
func RequestValue(r *http.Request) wrpc.Value {
	var body io.Reader = http.NoBody
	if r.Body != nil {
		body = r.Body
	}
	tracker := newBodyTracker(body)
	trailers := wrpc.FutureFunc(func(ctx context.Context) (wrpc.Value, error) {
		select {
		case <-tracker.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if len(r.Trailer) == 0 {
			return wrpc.None(), nil
		}
		return wrpc.Some(FieldsValue(r.Trailer)), nil
	})
	scheme := "http"
	if r.TLS != nil || (r.URL != nil && r.URL.Scheme == "https") {
		scheme = "https"
	}
	pathQuery := "/"
	if r.URL != nil {
		pathQuery = r.URL.RequestURI()
	}
	host := r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	headers := FieldsValue(r.Header)
	if host != "" && r.Header.Get("Host") == "" {
		headers = append(headers, []wrpc.Value{"host", []wrpc.Value{[]byte(host)}})
	}
	return NewRequestValue(r.Method, scheme, host, pathQuery, headers, tracker, trailers)
}

// NewRequestValue assembles a request value from its parts; headers are fields (see
// FieldsValue), body a stream<u8> value (io.Reader or []byte) and trailers a future of
// option<fields>. An empty authority is sent as none.
func NewRequestValue(method, scheme, authority, pathQuery string, headers []wrpc.Value, body wrpc.Value, trailers wrpc.FutureValue) wrpc.Value {
	sv := wrpc.VariantValue{Case: 2, Value: scheme}
	switch scheme {
	case "http":
		sv = wrpc.VariantValue{Case: 0}
	case "https":
		sv = wrpc.VariantValue{Case: 1}
	}
	auth := wrpc.None()
	if authority != "" {
		auth = wrpc.Some(authority)
	}
	return []wrpc.Value{body, trailers, methodValue(method), wrpc.Some(pathQuery), wrpc.Some(sv), auth, headers}
}

// ToRequest converts a received wrpc:http request into an *http.Request whose body reads the
// request's stream. A request without a scheme is refused, as a wasmCloud host refuses it.
func ToRequest(ctx context.Context, v wrpc.Value) (*http.Request, error) {
	f, ok := v.([]wrpc.Value)
	if !ok || len(f) != 7 {
		return nil, fmt.Errorf("request is %T", v)
	}
	method, err := methodName(f[2])
	if err != nil {
		return nil, err
	}
	scheme := ""
	if o, _ := f[4].(wrpc.OptionValue); o.IsSome {
		sv, _ := o.Value.(wrpc.VariantValue)
		switch sv.Case {
		case 0:
			scheme = "http"
		case 1:
			scheme = "https"
		default:
			scheme, _ = sv.Value.(string)
		}
	}
	if scheme == "" {
		return nil, errors.New("scheme missing")
	}
	pq := "/"
	if o, _ := f[3].(wrpc.OptionValue); o.IsSome {
		pq, _ = o.Value.(string)
	}
	authority := ""
	if o, _ := f[5].(wrpc.OptionValue); o.IsSome {
		authority, _ = o.Value.(string)
	}
	header, err := HeaderFromFields(f[6])
	if err != nil {
		return nil, err
	}
	if authority == "" {
		authority = header.Get("Host")
	}
	header.Del("Host")
	u, err := url.ParseRequestURI(pq)
	if err != nil {
		return nil, fmt.Errorf("path-with-query %q: %w", pq, err)
	}
	u.Scheme, u.Host = scheme, authority
	var body io.ReadCloser = http.NoBody
	switch b := f[0].(type) {
	case *wrpc.ByteStream:
		body = b.WithContext(ctx)
	case io.ReadCloser:
		body = b
	case io.Reader:
		body = io.NopCloser(b)
	}
	r := (&http.Request{
		Method: method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header, Body: body, Host: authority, RequestURI: pq, ContentLength: -1,
	}).WithContext(ctx)
	if cl := header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			r.ContentLength = n
		}
	}
	if scheme == "https" {
		r.TLS = nil // no TLS state crossed the wire; the scheme says it was https
	}
	return r, nil
}

// ErrorCode is an err(error-code) answer.
type ErrorCode struct {
	Case    uint32
	Payload wrpc.Value
}

func (e *ErrorCode) Error() string {
	name := "unknown"
	if int(e.Case) < len(interfaces.ErrorCode.Cases) {
		name = interfaces.ErrorCode.Cases[e.Case].Name
	}
	if o, ok := e.Payload.(wrpc.OptionValue); ok && o.IsSome {
		return fmt.Sprintf("HTTP error-code %s: %v", name, o.Value)
	}
	return "HTTP error-code " + name
}

// InternalError is error-code::internal-error(some(msg)).
func InternalError(msg string) *ErrorCode {
	return &ErrorCode{Case: interfaces.ErrorCodeCase("internal-error"), Payload: wrpc.Some(msg)}
}

// ToResponse converts a received result<response, error-code> into an *http.Response (or the
// *ErrorCode).
func ToResponse(ctx context.Context, v wrpc.Value, req *http.Request) (*http.Response, error) {
	res, ok := v.(wrpc.ResultValue)
	if !ok {
		return nil, fmt.Errorf("handle returned %T", v)
	}
	if res.IsErr {
		vv, _ := res.Value.(wrpc.VariantValue)
		return nil, &ErrorCode{Case: vv.Case, Payload: vv.Value}
	}
	f, ok := res.Value.([]wrpc.Value)
	if !ok || len(f) != 4 {
		return nil, fmt.Errorf("response is %T", res.Value)
	}
	status, _ := f[2].(uint16)
	header, err := HeaderFromFields(f[3])
	if err != nil {
		return nil, err
	}
	resp := &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(int(status))), StatusCode: int(status),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: header, ContentLength: -1, Request: req,
	}
	if cl := header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			resp.ContentLength = n
		}
	}
	trailers, _ := f[1].(wrpc.FutureValue)
	var body io.ReadCloser = http.NoBody
	switch b := f[0].(type) {
	case *wrpc.ByteStream:
		body = b.WithContext(ctx)
	case io.ReadCloser:
		body = b
	case io.Reader:
		body = io.NopCloser(b)
	}
	resp.Body = &responseBody{ReadCloser: body, resp: resp, trailers: trailers, ctx: ctx}
	return resp, nil
}

// responseBody fills resp.Trailer once the body has ended.
type responseBody struct {
	io.ReadCloser
	resp     *http.Response
	trailers wrpc.FutureValue
	ctx      context.Context
	once     sync.Once
}

func (b *responseBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.readTrailers()
	}
	return n, err
}

func (b *responseBody) readTrailers() {
	b.once.Do(func() {
		if b.trailers == nil {
			return
		}
		v, err := b.trailers.Await(b.ctx)
		if err != nil {
			return
		}
		if o, ok := v.(wrpc.OptionValue); ok && o.IsSome {
			if h, err := HeaderFromFields(o.Value); err == nil {
				b.resp.Trailer = h
			}
		}
	})
}

func (b *responseBody) Close() error {
	return b.ReadCloser.Close()
}

// WriteResponse copies resp to w: headers (without hop-by-hop ones), status, body, trailers.
// An error after the status line went out is returned wrapped in ErrResponseStarted.
func WriteResponse(w http.ResponseWriter, resp *http.Response) error {
	defer resp.Body.Close()
	h := w.Header()
	for k, vs := range resp.Header {
		if hopByHop[strings.ToLower(k)] {
			continue
		}
		h[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("%w: body: %w", ErrResponseStarted, err)
	}
	for k, vs := range resp.Trailer {
		for _, v := range vs {
			h.Add(http.TrailerPrefix+k, v)
		}
	}
	return nil
}

// ErrResponseStarted wraps errors that happen after the response status was written.
var ErrResponseStarted = errors.New("response already started")

// Transport is an http.RoundTripper that sends each request over wRPC to
// incoming-handler.handle (or outgoing-handler.handle when Outgoing is set).
type Transport struct {
	Conn *wrpc.Conn
	// Target returns the invocation for a request (its Prefix and Header; Instance and Func are
	// set by the Transport).
	Target   func(r *http.Request) wrpc.Invocation
	Outgoing bool
}

// RoundTrip sends r and returns the response; the body streams as it arrives. An
// err(error-code) answer is returned as *ErrorCode.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	inv := t.Target(r)
	f := interfaces.HTTPHandle
	args := []wrpc.Value{RequestValue(r)}
	if t.Outgoing {
		f = interfaces.HTTPOutgoing
		args = append(args, wrpc.None())
	}
	inv.Instance, inv.Func = f.Instance, f.Name
	ctx := r.Context()
	res, err := t.Conn.Invoke(ctx, inv, f.Type, args)
	if err != nil {
		return nil, err
	}
	return ToResponse(ctx, res[0], r)
}

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
		body := &closeOnEOF{r: resp.Body}
		return []wrpc.Value{wrpc.Ok([]wrpc.Value{body, trailers, uint16(resp.StatusCode), FieldsValue(resp.Header)})}, nil
	}
}

type closeOnEOF struct{ r io.ReadCloser }

func (c *closeOnEOF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil {
		_ = c.r.Close()
	}
	return n, err
}

// streamingWriter is the http.ResponseWriter serve writes to: the status and headers are
// captured when written; the body goes through a pipe to the stream<u8> writer.
type streamingWriter struct {
	header  http.Header
	status  int
	started chan struct{}
	once    sync.Once
	pr      *io.PipeReader
	pw      *io.PipeWriter
	sent    http.Header // the headers as they were at WriteHeader
}

func newStreamingWriter() *streamingWriter {
	pr, pw := io.Pipe()
	return &streamingWriter{header: http.Header{}, started: make(chan struct{}), pr: pr, pw: pw}
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

func (w *streamingWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.pw.Write(p)
}

func (w *streamingWriter) Flush() { w.WriteHeader(http.StatusOK) }

func serveResponse(ctx context.Context, req *http.Request, serve ServeFunc) ([]wrpc.Value, error) {
	w := newStreamingWriter()
	done := make(chan error, 1)
	go func() {
		err := serve(w, req)
		if err == nil {
			w.WriteHeader(http.StatusOK)
			_ = w.pw.Close()
		} else {
			_ = w.pw.CloseWithError(err)
		}
		done <- err
	}()
	go func() {
		// nobody reads the body any more once the invocation is over: unblock serve
		<-ctx.Done()
		_ = w.pr.CloseWithError(ctx.Err())
	}()
	var serveErr error
	finished := false
	select {
	case <-w.started:
	case serveErr = <-done:
		finished = true
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-w.started:
	default:
		// serve failed before writing anything
		return nil, serveErr
	}
	trailers := wrpc.FutureFunc(func(ctx context.Context) (wrpc.Value, error) {
		if !finished {
			select {
			case serveErr = <-done:
				finished = true
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
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
			return wrpc.None(), nil
		}
		return wrpc.Some(FieldsValue(tr)), nil
	})
	return []wrpc.Value{wrpc.Ok([]wrpc.Value{w.pr, trailers, uint16(w.status), FieldsValue(w.sent)})}, nil
}
