package wasi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wasmlattice/wash/runtime/cabi"
)

// ---- resources ----

// Fields is the wasi:http fields (headers/trailers) resource.
type Fields struct {
	entries   []field
	immutable bool
}

type field struct {
	name  string
	value []byte
}

// NewFields converts a Go header map (names are lower-cased, as wasi:http expects).
func NewFields(h http.Header, immutable bool) *Fields {
	f := &Fields{immutable: immutable}
	for k, vs := range h {
		for _, v := range vs {
			f.entries = append(f.entries, field{strings.ToLower(k), []byte(v)})
		}
	}
	return f
}

// Header converts back to a Go header map.
func (f *Fields) Header() http.Header {
	h := http.Header{}
	for _, e := range f.entries {
		h.Add(e.name, string(e.value))
	}
	return h
}

func (f *Fields) clone() *Fields {
	return &Fields{entries: append([]field(nil), f.entries...)}
}

// IncomingRequest is the wasi:http incoming-request resource.
type IncomingRequest struct {
	R         *http.Request
	headers   *Fields
	bodyTaken bool
}

// NewIncomingRequest wraps a server request for a guest.
func NewIncomingRequest(r *http.Request) *IncomingRequest {
	return &IncomingRequest{R: r}
}

// ResponseOutparam is the wasi:http response-outparam resource: it writes the response the
// guest sets onto w.
type ResponseOutparam struct {
	w       http.ResponseWriter
	mu      sync.Mutex
	set     bool
	errCode cabi.Value
	started bool
	body    *OutgoingBody
}

// NewResponseOutparam returns the outparam for one incoming request.
func NewResponseOutparam(w http.ResponseWriter) *ResponseOutparam { return &ResponseOutparam{w: w} }

// Result reports what the guest did: whether it set a response (and an error-code instead of
// a response), and whether the response head has been written.
func (o *ResponseOutparam) Result() (set bool, errCode cabi.Value, started bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.set, o.errCode, o.started
}

// OutgoingResponse is the wasi:http outgoing-response resource.
type OutgoingResponse struct {
	status    uint16
	headers   *Fields
	body      *OutgoingBody
	bodyTaken bool
}

// OutgoingBody is the wasi:http outgoing-body resource (for responses and requests).
type OutgoingBody struct {
	w           *bufferedWriter
	pw          *io.PipeWriter // for outgoing requests
	streamTaken bool
	finished    bool
}

// Drop aborts a request body that was never finished.
func (b *OutgoingBody) Drop() {
	if b.pw != nil && !b.finished {
		_ = b.pw.CloseWithError(errors.New("outgoing body dropped before finish"))
	}
}

func (b *OutgoingBody) writer() io.Writer {
	if b.pw != nil {
		return b.pw
	}
	return b.w
}

// IncomingBody is the wasi:http incoming-body resource.
type IncomingBody struct {
	r           io.ReadCloser
	streamTaken bool
}

// Drop closes the body.
func (b *IncomingBody) Drop() {
	if b.r != nil && !b.streamTaken {
		_ = b.r.Close()
	}
}

// FutureTrailers is the wasi:http future-trailers resource (trailers are never delivered).
type FutureTrailers struct{ taken bool }

// OutgoingRequest is the wasi:http outgoing-request resource.
type OutgoingRequest struct {
	method    cabi.Value // method variant
	scheme    cabi.Value // option<scheme>
	authority cabi.Value // option<string>
	path      cabi.Value // option<string>
	headers   *Fields
	body      *OutgoingBody
	pr        *io.PipeReader
	bodyTaken bool
}

// RequestOptions is the wasi:http request-options resource.
type RequestOptions struct {
	connect, firstByte, between cabi.Value // option<duration>
}

// FutureIncomingResponse is the wasi:http future-incoming-response resource.
type FutureIncomingResponse struct {
	done   chan struct{}
	resp   *IncomingResponse
	errc   cabi.Value
	taken  bool
	cancel context.CancelFunc
}

// Drop cancels an outstanding request.
func (f *FutureIncomingResponse) Drop() {
	if f.cancel != nil && !f.taken {
		f.cancel()
	}
}

// IncomingResponse is the wasi:http incoming-response resource.
type IncomingResponse struct {
	status    uint16
	headers   *Fields
	body      io.ReadCloser
	bodyTaken bool
}

// Drop closes an unconsumed body.
func (r *IncomingResponse) Drop() {
	if !r.bodyTaken && r.body != nil {
		_ = r.body.Close()
	}
}

// ---- variants ----

// methods are the method variant's cases without payload, as Go spells them
var methods = func() (m []string) {
	for _, c := range httpTypes.Type("method").Cases {
		if c.Type == nil {
			m = append(m, strings.ToUpper(c.Name))
		}
	}
	return m
}()

func methodValue(m string) cabi.Value {
	for i, x := range methods {
		if x == m {
			return cabi.VariantValue{Case: uint32(i)}
		}
	}
	return cabi.VariantValue{Case: methodOther, Value: m}
}

func methodString(v cabi.Value) (string, bool) {
	mv, ok2 := v.(cabi.VariantValue)
	if !ok2 {
		return "", false
	}
	if int(mv.Case) < len(methods) {
		return methods[mv.Case], true
	}
	s, _ := mv.Value.(string)
	return s, isToken(s)
}

func schemeValue(s string) cabi.Value {
	switch strings.ToLower(s) {
	case "http":
		return cabi.VariantValue{Case: schemeHTTP}
	case "https":
		return cabi.VariantValue{Case: schemeHTTPS}
	}
	return cabi.VariantValue{Case: schemeOther, Value: s}
}

func schemeString(v cabi.Value) string {
	o, _ := v.(cabi.OptionValue)
	if !o.IsSome {
		return "https"
	}
	sv, _ := o.Value.(cabi.VariantValue)
	switch sv.Case {
	case schemeHTTP:
		return "http"
	case schemeHTTPS:
		return "https"
	}
	s, _ := sv.Value.(string)
	return s
}

func errorCode(c uint32, msg string) cabi.Value {
	switch c {
	case ecInternalError:
		return cabi.VariantValue{Case: c, Value: cabi.Some(msg)}
	}
	return cabi.VariantValue{Case: c}
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

func validValue(b []byte) bool {
	for _, c := range b {
		if c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

var forbiddenHeaders = map[string]bool{"connection": true, "keep-alive": true, "proxy-connection": true, "transfer-encoding": true, "upgrade": true}

func (f *Fields) check(name string, vals ...[]byte) cabi.Value {
	if f.immutable {
		return hdrImmutable
	}
	if !isToken(name) {
		return hdrInvalid
	}
	if forbiddenHeaders[strings.ToLower(name)] {
		return hdrForbidden
	}
	for _, v := range vals {
		if !validValue(v) {
			return hdrInvalid
		}
	}
	return nil
}

func optString(v cabi.Value) (string, bool) {
	o, _ := v.(cabi.OptionValue)
	if !o.IsSome {
		return "", false
	}
	s, _ := o.Value.(string)
	return s, true
}

// ---- the functions ----

func httpFuncs() map[string]map[string]cabi.HostFunc {
	type F = cabi.HostFunc
	types := map[string]F{
		"[constructor]fields": func(context.Context, []cabi.Value) (cabi.Value, error) { return &Fields{}, nil },
		"[static]fields.from-list": cabi.Fn1(func(_ context.Context, entries []cabi.Value) (cabi.Value, error) {
			f := &Fields{}
			for _, e := range entries {
				kv := e.([]cabi.Value)
				name, val := kv[0].(string), kv[1].([]byte)
				if bad := f.check(name, val); bad != nil {
					return errv(bad)
				}
				f.entries = append(f.entries, field{strings.ToLower(name), val})
			}
			return ok(f)
		}),
		"[method]fields.get": cabi.Fn2(func(_ context.Context, f *Fields, name string) (cabi.Value, error) {
			name = strings.ToLower(name)
			out := []cabi.Value{}
			for _, e := range f.entries {
				if e.name == name {
					out = append(out, e.value)
				}
			}
			return out, nil
		}),
		"[method]fields.has": cabi.Fn2(func(_ context.Context, f *Fields, name string) (cabi.Value, error) {
			name = strings.ToLower(name)
			for _, e := range f.entries {
				if e.name == name {
					return true, nil
				}
			}
			return false, nil
		}),
		"[method]fields.set": cabi.Fn3(func(_ context.Context, f *Fields, name string, values []cabi.Value) (cabi.Value, error) {
			var vals [][]byte
			for _, v := range values {
				vals = append(vals, v.([]byte))
			}
			if bad := f.check(name, vals...); bad != nil {
				return errv(bad)
			}
			f.del(name)
			for _, v := range vals {
				f.entries = append(f.entries, field{strings.ToLower(name), v})
			}
			return ok(nil)
		}),
		"[method]fields.delete": cabi.Fn2(func(_ context.Context, f *Fields, name string) (cabi.Value, error) {
			if bad := f.check(name); bad != nil {
				return errv(bad)
			}
			f.del(name)
			return ok(nil)
		}),
		"[method]fields.append": cabi.Fn3(func(_ context.Context, f *Fields, name string, val []byte) (cabi.Value, error) {
			if bad := f.check(name, val); bad != nil {
				return errv(bad)
			}
			f.entries = append(f.entries, field{strings.ToLower(name), val})
			return ok(nil)
		}),
		"[method]fields.entries": cabi.Fn1(func(_ context.Context, f *Fields) (cabi.Value, error) {
			out := make([]cabi.Value, len(f.entries))
			for i, e := range f.entries {
				out[i] = []cabi.Value{e.name, e.value}
			}
			return out, nil
		}),
		"[method]fields.clone": cabi.Fn1(func(_ context.Context, self *Fields) (cabi.Value, error) {
			return self.clone(), nil
		}),
		"[method]incoming-request.method": cabi.Fn1(func(_ context.Context, self *IncomingRequest) (cabi.Value, error) {
			return methodValue(self.R.Method), nil
		}),
		"[method]incoming-request.path-with-query": cabi.Fn1(func(_ context.Context, self *IncomingRequest) (cabi.Value, error) {
			return cabi.Some(self.R.URL.RequestURI()), nil
		}),
		"[method]incoming-request.scheme": cabi.Fn1(func(_ context.Context, self *IncomingRequest) (cabi.Value, error) {
			r := self.R
			if r.TLS != nil {
				return cabi.Some(schemeValue("https")), nil
			}
			return cabi.Some(schemeValue("http")), nil
		}),
		"[method]incoming-request.authority": cabi.Fn1(func(_ context.Context, self *IncomingRequest) (cabi.Value, error) {
			return cabi.Some(self.R.Host), nil
		}),
		"[method]incoming-request.headers": cabi.Fn1(func(_ context.Context, r *IncomingRequest) (cabi.Value, error) {
			if r.headers == nil {
				r.headers = NewFields(r.R.Header, true)
			}
			return r.headers, nil
		}),
		"[method]incoming-request.consume": cabi.Fn1(func(_ context.Context, r *IncomingRequest) (cabi.Value, error) {
			if r.bodyTaken {
				return errv(nil)
			}
			r.bodyTaken = true
			body := r.R.Body
			if body == nil {
				body = http.NoBody
			}
			return ok(&IncomingBody{r: body})
		}),
		"[method]incoming-body.stream": cabi.Fn1(func(_ context.Context, b *IncomingBody) (cabi.Value, error) {
			if b.streamTaken {
				return errv(nil)
			}
			b.streamTaken = true
			return ok(&InputStream{R: b.r, closer: b.r})
		}),
		"[static]incoming-body.finish": cabi.Fn1(func(_ context.Context, b *IncomingBody) (cabi.Value, error) {
			b.Drop()
			return &FutureTrailers{}, nil
		}),
		"[method]future-trailers.subscribe": func(context.Context, []cabi.Value) (cabi.Value, error) {
			return Pollable(readyPollable{}), nil
		},
		"[method]future-trailers.get": cabi.Fn1(func(_ context.Context, t *FutureTrailers) (cabi.Value, error) {
			if t.taken {
				return cabi.Some(cabi.Err(nil)), nil
			}
			t.taken = true
			return cabi.Some(cabi.Ok(cabi.Ok(cabi.None()))), nil
		}),
		"[constructor]outgoing-response": cabi.Fn1(func(_ context.Context, h *Fields) (cabi.Value, error) {
			return &OutgoingResponse{status: 200, headers: h}, nil
		}),
		"[method]outgoing-response.status-code": cabi.Fn1(func(_ context.Context, self *OutgoingResponse) (cabi.Value, error) {
			return self.status, nil
		}),
		"[method]outgoing-response.set-status-code": cabi.Fn2(func(_ context.Context, r *OutgoingResponse, code uint16) (cabi.Value, error) {
			if code < 100 || code > 999 {
				return errv(nil)
			}
			r.status = code
			return ok(nil)
		}),
		"[method]outgoing-response.headers": cabi.Fn1(func(_ context.Context, r *OutgoingResponse) (cabi.Value, error) {
			return &Fields{entries: r.headers.entries, immutable: true}, nil
		}),
		"[method]outgoing-response.body": cabi.Fn1(func(_ context.Context, r *OutgoingResponse) (cabi.Value, error) {
			if r.bodyTaken {
				return errv(nil)
			}
			r.bodyTaken = true
			r.body = &OutgoingBody{w: &bufferedWriter{}}
			return ok(r.body)
		}),
		"[method]outgoing-body.write": cabi.Fn1(func(_ context.Context, b *OutgoingBody) (cabi.Value, error) {
			if b.streamTaken {
				return errv(nil)
			}
			b.streamTaken = true
			return ok(&OutputStream{W: b.writer()})
		}),
		"[static]outgoing-body.finish": cabi.Fn1(func(_ context.Context, b *OutgoingBody) (cabi.Value, error) {
			b.finished = true
			if b.pw != nil {
				_ = b.pw.Close()
			}
			return ok(nil)
		}),
		"[static]response-outparam.set": cabi.Fn2(func(_ context.Context, o *ResponseOutparam, res cabi.ResultValue) (cabi.Value, error) {
			return nil, o.setResponse(res)
		}),
		"[constructor]outgoing-request": cabi.Fn1(func(_ context.Context, headers *Fields) (cabi.Value, error) {
			return &OutgoingRequest{method: cabi.VariantValue{Case: methodGet}, headers: headers}, nil
		}),
		"[method]outgoing-request.body": cabi.Fn1(func(_ context.Context, r *OutgoingRequest) (cabi.Value, error) {
			if r.bodyTaken {
				return errv(nil)
			}
			r.bodyTaken = true
			pr, pw := io.Pipe()
			r.pr = pr
			r.body = &OutgoingBody{pw: pw}
			return ok(r.body)
		}),
		"[method]outgoing-request.method": cabi.Fn1(func(_ context.Context, self *OutgoingRequest) (cabi.Value, error) {
			return self.method, nil
		}),
		"[method]outgoing-request.set-method": cabi.Fn2(func(_ context.Context, r *OutgoingRequest, v cabi.VariantValue) (cabi.Value, error) {
			if _, valid := methodString(v); !valid {
				return errv(nil)
			}
			r.method = v
			return ok(nil)
		}),
		"[method]outgoing-request.headers": cabi.Fn1(func(_ context.Context, r *OutgoingRequest) (cabi.Value, error) {
			return &Fields{entries: r.headers.entries, immutable: true}, nil
		}),
		"[constructor]request-options": func(context.Context, []cabi.Value) (cabi.Value, error) {
			return &RequestOptions{}, nil
		},
		"[method]future-incoming-response.subscribe": cabi.Fn1(func(_ context.Context, self *FutureIncomingResponse) (cabi.Value, error) {
			return Pollable(chanPollable{c: self.done}), nil
		}),
		"[method]future-incoming-response.get": cabi.Fn1(func(_ context.Context, f *FutureIncomingResponse) (cabi.Value, error) {
			select {
			case <-f.done:
			default:
				return none()
			}
			if f.taken {
				return cabi.Some(cabi.Err(nil)), nil
			}
			f.taken = true
			if f.errc != nil {
				return cabi.Some(cabi.Ok(cabi.Err(f.errc))), nil
			}
			return cabi.Some(cabi.Ok(cabi.Ok(f.resp))), nil
		}),
		"[method]incoming-response.status": cabi.Fn1(func(_ context.Context, self *IncomingResponse) (cabi.Value, error) {
			return self.status, nil
		}),
		"[method]incoming-response.headers": cabi.Fn1(func(_ context.Context, self *IncomingResponse) (cabi.Value, error) {
			return self.headers, nil
		}),
		"[method]incoming-response.consume": cabi.Fn1(func(_ context.Context, r *IncomingResponse) (cabi.Value, error) {
			if r.bodyTaken {
				return errv(nil)
			}
			r.bodyTaken = true
			return ok(&IncomingBody{r: r.body})
		}),
		"http-error-code": func(context.Context, []cabi.Value) (cabi.Value, error) { return none() },
	}
	defineOptionProperty(types, "outgoing-request", "path-with-query", func(r *OutgoingRequest) *cabi.Value { return &r.path })
	defineOptionProperty(types, "outgoing-request", "scheme", func(r *OutgoingRequest) *cabi.Value { return &r.scheme })
	defineOptionProperty(types, "outgoing-request", "authority", func(r *OutgoingRequest) *cabi.Value { return &r.authority })
	defineOptionProperty(types, "request-options", "connect-timeout", func(r *RequestOptions) *cabi.Value { return &r.connect })
	defineOptionProperty(types, "request-options", "first-byte-timeout", func(r *RequestOptions) *cabi.Value { return &r.firstByte })
	defineOptionProperty(types, "request-options", "between-bytes-timeout", func(r *RequestOptions) *cabi.Value { return &r.between })
	return map[string]map[string]cabi.HostFunc{
		"wasi:http/types@0.2.0": types,
		"wasi:http/outgoing-handler@0.2.0": {
			"handle": cabi.Fn2(func(ctx context.Context, r *OutgoingRequest, o cabi.OptionValue) (cabi.Value, error) {
				var opts *RequestOptions
				if o.IsSome {
					opts, _ = o.Value.(*RequestOptions)
				}
				return outgoing(ctx, StateFrom(ctx), r, opts)
			}),
		},
	}
}

// defineOptionProperty adds the getter and setter of an option<…> property of a resource (the
// request's path, scheme and authority; the request-options timeouts): the getter answers
// none until the setter stored a value.
func defineOptionProperty[R any](funcs map[string]cabi.HostFunc, resource, prop string, field func(*R) *cabi.Value) {
	funcs["[method]"+resource+"."+prop] = cabi.Fn1(func(_ context.Context, self *R) (cabi.Value, error) {
		return optOrNone(*field(self)), nil
	})
	funcs["[method]"+resource+".set-"+prop] = cabi.Fn2(func(_ context.Context, self *R, v cabi.OptionValue) (cabi.Value, error) {
		*field(self) = v
		return ok(nil)
	})
}

func optOrNone(v cabi.Value) cabi.Value {
	if v == nil {
		return cabi.None()
	}
	return v
}

func (f *Fields) del(name string) {
	name = strings.ToLower(name)
	out := f.entries[:0]
	for _, e := range f.entries {
		if e.name != name {
			out = append(out, e)
		}
	}
	f.entries = out
}

func (o *ResponseOutparam) setResponse(res cabi.ResultValue) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.set {
		return &cabi.Trap{Msg: "response-outparam.set called twice"}
	}
	o.set = true
	if res.IsErr {
		o.errCode = res.Value
		return nil
	}
	resp, ok2 := res.Value.(*OutgoingResponse)
	if !ok2 {
		return &cabi.Trap{Msg: "response-outparam.set: not an outgoing-response"}
	}
	h := o.w.Header()
	for _, e := range resp.headers.entries {
		h.Add(e.name, string(e.value))
	}
	o.w.WriteHeader(int(resp.status))
	o.started = true
	if resp.body == nil {
		resp.bodyTaken = true
		resp.body = &OutgoingBody{w: &bufferedWriter{}}
	}
	o.body = resp.body
	return resp.body.w.attach(o.w)
}

// HostAllowed reports whether an outbound request to authority (host or host:port) is
// permitted by allow.
func HostAllowed(allow []string, authority string) bool {
	host := authority
	if h, _, err := net.SplitHostPort(authority); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	for _, a := range allow {
		a = strings.ToLower(a)
		switch {
		case a == "*":
			return true
		case a == strings.ToLower(authority) || a == host:
			return true
		case strings.HasPrefix(a, "*.") && strings.HasSuffix(host, a[1:]):
			return true
		}
	}
	return false
}

func outgoing(ctx context.Context, st *State, r *OutgoingRequest, opts *RequestOptions) (cabi.Value, error) {
	authority, hasAuth := optString(r.authority)
	if !hasAuth || authority == "" {
		return errv(errorCode(ecHTTPRequestURI, ""))
	}
	if !HostAllowed(st.AllowedHosts, authority) {
		return errv(errorCode(ecHTTPRequestDenied, ""))
	}
	method, valid := methodString(r.method)
	if !valid {
		return errv(errorCode(ecHTTPRequestURI, ""))
	}
	path, _ := optString(r.path)
	if path == "" {
		path = "/"
	}
	url := schemeString(r.scheme) + "://" + authority + path
	var body io.Reader
	if r.pr != nil {
		body = r.pr
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if opts != nil {
		if d, ok2 := opts.firstByte.(cabi.OptionValue); ok2 && d.IsSome {
			rctx, cancel = context.WithTimeout(rctx, time.Duration(d.Value.(uint64)))
		}
	}
	req, err := http.NewRequestWithContext(rctx, method, url, body)
	if err != nil {
		cancel()
		return errv(errorCode(ecHTTPRequestURI, ""))
	}
	req.Header = r.headers.Header()
	client := st.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	f := &FutureIncomingResponse{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(f.done)
		resp, err := client.Do(req)
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				f.errc = errorCode(ecConnectionTimeout, "")
			case strings.Contains(err.Error(), "connection refused"):
				f.errc = errorCode(ecConnectionRefused, "")
			case strings.Contains(err.Error(), "no such host"):
				f.errc = errorCode(ecDestinationNotFound, "")
			default:
				f.errc = errorCode(ecInternalError, fmt.Sprint(err))
			}
			return
		}
		f.resp = &IncomingResponse{status: uint16(resp.StatusCode), headers: NewFields(resp.Header, true), body: resp.Body}
	}()
	return ok(f)
}
