// Package wrpchttp carries HTTP over wRPC the way wasmCloud 1.x does (wrpc:http@0.1.0): it
// converts between net/http and the wrpc:http request/response values, calls
// incoming-handler.handle or outgoing-handler.handle as an http.RoundTripper, and serves both
// with ordinary Go handlers. Bodies are streamed (stream<u8>), trailers follow the body
// (future<option<fields>>); repeated headers are grouped under one lowercase name, as the
// Rust peers require.
package wrpchttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
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
	return wrpc.VariantValue{Case: methodOther, Value: m}
}

// Named cases of wasi:http method and scheme.
var (
	methodOther = interfaces.Case(interfaces.Method, "other")
	schemeHTTP  = interfaces.Case(interfaces.Scheme, "HTTP")
	schemeHTTPS = interfaces.Case(interfaces.Scheme, "HTTPS")
	schemeOther = interfaces.Case(interfaces.Scheme, "other")
)

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
// The values are h's own []string (encoded as list<list<u8>> without a copy): encode the
// fields before h changes.
func FieldsValue(h http.Header) []wrpc.Value {
	out := make([]wrpc.Value, 0, len(h))
	entries := make([]wrpc.Value, 0, 2*len(h)) // one backing array for every [name, values]
	for k, vs := range h {
		name := lowerName(k)
		if hopByHop[name] || strings.HasPrefix(k, http.TrailerPrefix) {
			continue
		}
		entries = append(entries, name, vs)
		out = append(out, entries[len(entries)-2:len(entries):len(entries)])
	}
	return out
}

// commonLower maps common canonical header names to their lowercase wire names, so the usual
// headers cost no allocation.
var commonLower = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Accept-Ranges",
		"Authorization", "Cache-Control", "Connection", "Content-Disposition", "Content-Encoding", "Content-Language",
		"Content-Length", "Content-Location", "Content-Range", "Content-Type", "Cookie", "Date", "Etag", "Expect",
		"Expires", "Forwarded", "From", "Host", "If-Match", "If-Modified-Since", "If-None-Match", "If-Range",
		"If-Unmodified-Since", "Last-Modified", "Link", "Location", "Origin", "Pragma", "Range", "Referer",
		"Retry-After", "Server", "Set-Cookie", "Traceparent", "Tracestate", "Transfer-Encoding", "User-Agent",
		"Vary", "Via", "Www-Authenticate", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Request-Id"} {
		m[k] = strings.ToLower(k)
		wrpc.InternStrings(m[k]) // received names are lowercase
	}
	return m
}()

func lowerName(k string) string {
	if l, ok := commonLower[k]; ok {
		return l
	}
	return strings.ToLower(k)
}

// HeaderFromFields turns fields back into an http.Header. A name that appears twice is an
// error, as upstream's conversion reports ("duplicate header entry").
func HeaderFromFields(v wrpc.Value) (http.Header, error) {
	list, ok := v.([]wrpc.Value)
	if !ok {
		return nil, fmt.Errorf("fields are %T", v)
	}
	n := 0
	for _, e := range list {
		if kv, ok := e.([]wrpc.Value); ok && len(kv) == 2 {
			switch vals := kv[1].(type) {
			case []wrpc.Value:
				n += len(vals)
			case []string:
				n += len(vals)
			}
		}
	}
	h := make(http.Header, len(list))
	all := make([]string, 0, n) // one backing array for every name's values
	var empty map[string]bool
	for _, e := range list {
		kv, ok := e.([]wrpc.Value)
		if !ok || len(kv) != 2 {
			return nil, errors.New("malformed field entry")
		}
		name, _ := kv[0].(string)
		key := textproto.CanonicalMIMEHeaderKey(name)
		if _, dup := h[key]; dup || empty[key] {
			return nil, fmt.Errorf("duplicate header entry %q", name)
		}
		start := len(all)
		switch vals := kv[1].(type) {
		case []wrpc.Value:
			for _, x := range vals {
				b, _ := x.([]byte)
				all = append(all, string(b))
			}
		case []string:
			all = append(all, vals...)
		}
		if len(all) > start {
			h[key] = all[start:len(all):len(all)]
		} else { // a name without values is no header, but still taken
			if empty == nil {
				empty = map[string]bool{}
			}
			empty[key] = true
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
	if complete, ok := smallBody(r); ok {
		// all of it is here: the body goes inline and the trailers (none, with a body read
		// this way) are known
		return requestValue(r, complete, wrpc.Ready(wrpc.None()))
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
	return requestValue(r, tracker, trailers)
}

// smallBody reads a request body that is empty or has a small declared length and no
// announced trailers.
func smallBody(r *http.Request) ([]byte, bool) {
	if len(r.Trailer) > 0 {
		return nil, false
	}
	if r.Body == nil || r.Body == http.NoBody {
		return []byte{}, true
	}
	if r.ContentLength <= 0 || r.ContentLength > inlineBody {
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, r.ContentLength+1))
	if err != nil || int64(len(b)) != r.ContentLength {
		// leave a short or failing body to the streamed path's reader: give what was read
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), r.Body))
		return nil, false
	}
	return b, true
}

func requestValue(r *http.Request, body wrpc.Value, trailers wrpc.FutureValue) wrpc.Value {
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
		headers = append(headers, []wrpc.Value{"host", []string{host}})
	}
	return NewRequestValue(r.Method, scheme, host, pathQuery, headers, body, trailers)
}

// NewRequestValue assembles a request value from its parts; headers are fields (see
// FieldsValue), body a stream<u8> value (io.Reader or []byte) and trailers a future of
// option<fields>. An empty authority is sent as none.
func NewRequestValue(method, scheme, authority, pathQuery string, headers []wrpc.Value, body wrpc.Value, trailers wrpc.FutureValue) wrpc.Value {
	sv := wrpc.VariantValue{Case: schemeOther, Value: scheme}
	switch scheme {
	case "http":
		sv = wrpc.VariantValue{Case: schemeHTTP}
	case "https":
		sv = wrpc.VariantValue{Case: schemeHTTPS}
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
		case schemeHTTP:
			scheme = "http"
		case schemeHTTPS:
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
	body := bodyReader(ctx, f[0])
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
	body := bodyReader(ctx, f[0])
	resp.Body = &responseBody{ReadCloser: body, resp: resp, trailers: trailers, ctx: ctx}
	return resp, nil
}

// bodyReader reads the body stream of a request or response value (the stream a peer
// sends, or the reader a local caller passed); a missing body is empty.
func bodyReader(ctx context.Context, v wrpc.Value) io.ReadCloser {
	switch b := v.(type) {
	case *wrpc.ByteStream:
		return b.WithContext(ctx)
	case io.ReadCloser:
		return b
	case io.Reader:
		return io.NopCloser(b)
	}
	return http.NoBody
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
