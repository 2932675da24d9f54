package wrpc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Invocation names a function served somewhere in the lattice and how to call it.
type Invocation struct {
	// Prefix is "<lattice>.<target-id>" in wasmCloud (a component or provider id).
	Prefix string
	// Instance is the exported interface with its version ("wrpc:keyvalue/store@0.2.0-draft"),
	// "" for a world-root function.
	Instance string
	// Func is the function name; resource functions drop their [method]/[static]/[constructor]
	// prefix ("bucket.get").
	Func string
	// Header goes on the invocation message: source-id and link-name from a host, source-id
	// and target-id from a provider. Trace context is added by the Conn's Propagator.
	Header nats.Header
	// Timeout bounds the wait for the handshake and the results (not the async values read
	// later). 0: only ctx bounds it.
	Timeout time.Duration
	// HandshakeTimeout bounds the wait for the server's handshake alone (0:
	// DefaultHandshakeTimeout, never more than Timeout). A live server answers it at once,
	// before it waits for a free instance, so a missing handshake means the invocation was
	// lost (a host that died with its subscription still registered) and waiting the whole
	// Timeout would gain nothing.
	HandshakeTimeout time.Duration
}

// DefaultHandshakeTimeout is how long a call waits for the server to accept it.
const DefaultHandshakeTimeout = 3 * time.Second

// Subject is the invocation subject.
func (inv Invocation) Subject() string { return InvocationSubject(inv.Prefix, inv.Instance, inv.Func) }

// Call errors, matched with errors.Is on a *CallError.
var (
	// ErrNoResponders: nothing serves the function (NATS answered 503 no responders). wasmCloud
	// calls this "not found".
	ErrNoResponders = errors.New("nothing serves this function (NATS 503 no responders)")
	// ErrTimeout: no handshake or no complete results within the call timeout.
	ErrTimeout = errors.New("no answer within the call timeout")
	// ErrRemoteFailed: the server ended the results before a complete value: the function
	// failed, trapped, was denied or could not decode the params. wRPC carries no reason.
	ErrRemoteFailed = errors.New("the server ended the call without results (the function failed or rejected its arguments)")
)

// CallError is a failed invocation.
type CallError struct {
	Subject string
	Err     error
}

func (e *CallError) Error() string { return "calling " + e.Subject + ": " + e.Err.Error() }
func (e *CallError) Unwrap() error { return e.Err }

// Invoke calls inv with args (typed by ft.Params) and returns the results (typed by
// ft.Results). Async results (futures, streams) are read after Invoke returns; their channels
// stay open until they are read to the end or ctx ends.
func (c *Conn) Invoke(ctx context.Context, inv Invocation, ft *FuncType, args []Value) ([]Value, error) {
	subject := inv.Subject()
	fail := func(err error) ([]Value, error) { return nil, &CallError{Subject: subject, Err: err} }
	d := ft.derived()
	if d.resultsUnroutable {
		return fail(errors.New("futures or streams inside list or stream elements are not supported"))
	}
	buf := getBuffer()
	defer putBuffer(buf)
	params, deferred, err := encodeTuple(buf.b[:0], d.paramTypes, args, "param")
	buf.b = params
	if err != nil {
		return fail(err)
	}

	hsWait := inv.HandshakeTimeout
	if hsWait <= 0 {
		hsWait = DefaultHandshakeTimeout
	}
	if inv.Timeout > 0 && inv.Timeout < hsWait {
		hsWait = inv.Timeout
	}
	token := c.newToken()
	call := &clientCall{c: c, notify: make(chan struct{}, 1)}
	hdr := outgoingHeader(ctx, inv.Header, c.opts.Propagator)
	// the usual call has all its params in the invocation, and its async params (an empty
	// request body) complete: the dispatcher sends them and ends the params as soon as the
	// handshake arrives, and this goroutine only wakes for the results. Such a call also asks
	// a wash server for the short reply (fast.go).
	if allComplete(deferred) {
		if !c.opts.StandardOnly {
			if ft := fastToken(token, hsWait); len(params) <= c.firstPayload(c.inbox+ft, hdr) {
				token, call.fast = ft, true
			}
		}
		if call.fast || len(params) <= c.firstPayload(c.inbox+token, hdr) {
			call.endParams, call.deferred = true, deferred
		}
	}
	rc := c.inbox + token
	first := min(len(params), c.firstPayload(rc, hdr))
	call.results.init(c, ".results", d.resultKeys, call.notify, func() { c.unroute(token) })
	if err := c.route(token, call); err != nil {
		return fail(err)
	}
	w := newCallWait(ctx, call, inv.Timeout, hsWait)
	defer w.stop()

	msg := &nats.Msg{Subject: subject, Reply: rc, Header: hdr, Data: params[:first]}
	if err := c.nc.PublishMsg(msg); err != nil {
		call.results.close()
		return fail(fmt.Errorf("publishing the invocation: %w", err))
	}
	if !call.endParams {
		hm, err := w.handshake()
		if err != nil {
			call.results.close()
			return fail(err)
		}
		pw := &subjectWriter{c: c, subject: hm.Reply + ".params"}
		if err := pw.Write(ctx, params[first:]); err != nil {
			call.results.close()
			return fail(err)
		}
		if err := pw.Close(); err != nil {
			call.results.close()
			return fail(err)
		}
		if len(deferred) > 0 {
			go func() {
				if err := runDeferred(ctx, pw, deferred); err != nil {
					c.opts.Log.Debug("wrpc: sending async params failed", "subject", subject, "err", err)
				}
			}()
		}
	}

	dec := decoder{r: &reader{pull: w.pull, ctx: ctx, budget: c.opts.MaxValueBytes}, async: &call.results}
	results, err := dec.tuple(ft.Results, "result")
	if err == nil && len(ft.Results) == 0 {
		// nothing to decode: the end of the results channel says the function returned
		_, err = dec.r.atEOF()
	}
	if err != nil {
		call.results.close()
		if w.err != nil { // the wait failed, not the decoding: say why without decoder context
			return fail(w.err)
		}
		if errors.Is(err, ErrIncomplete) {
			return fail(fmt.Errorf("%w: %w", ErrRemoteFailed, err))
		}
		return fail(err)
	}
	call.results.expect(dec.pending)
	if dec.pending > 0 {
		go func() {
			select {
			case <-ctx.Done():
				call.results.close()
			case <-call.results.done:
			}
		}()
	}
	return results, nil
}

// outgoingHeader is the invocation's header with the propagator's trace context. The
// caller's header is sent as it is unless the propagator adds to it (copied then), so a call
// without trace context copies nothing.
func outgoingHeader(ctx context.Context, h nats.Header, p Propagator) nats.Header {
	carrier := &copyOnSetHeader{h: h}
	p.Inject(ctx, carrier)
	if len(carrier.h) == 0 {
		return nil
	}
	return carrier.h
}

// copyOnSetHeader is a Carrier over a header it copies before the first change.
type copyOnSetHeader struct {
	h      nats.Header
	copied bool
}

func (c *copyOnSetHeader) Get(key string) string { return HeaderCarrier(c.h).Get(key) }
func (c *copyOnSetHeader) Keys() []string        { return HeaderCarrier(c.h).Keys() }
func (c *copyOnSetHeader) Set(key, value string) {
	if !c.copied {
		h := make(nats.Header, len(c.h)+2)
		for k, vs := range c.h {
			h[k] = append([]string(nil), vs...)
		}
		c.h, c.copied = h, true
	}
	c.h[key] = []string{value}
}

// clientCall is the caller's side of one invocation: its handshake and results channels.
type clientCall struct {
	c       *Conn
	notify  chan struct{} // the invoking goroutine waits on it
	results invocationChannels
	// endParams: the dispatcher sends the end of the params, and the complete async params
	// (deferred), when the handshake arrives
	endParams bool
	deferred  []deferredWrite
	fast      bool // the call asked for the wash short reply

	mu     sync.Mutex
	hs     *nats.Msg // the first handshake
	hsErr  error     // its status, or the failure to end the params
	hsSeen bool
}

func (cc *clientCall) deliver(rest string, m *nats.Msg) {
	if rest != "" {
		cc.results.deliver(rest, m)
		return
	}
	if cc.fast && isFastReply(m.Data, m.Reply) {
		cc.shortReply(m)
		return
	}
	if !firstToSet(&cc.mu, &cc.hsSeen) {
		return
	}
	err := handshakeStatus(m)
	if err == nil && cc.endParams {
		pw := &subjectWriter{c: cc.c, subject: m.Reply + ".params"}
		if perr := pw.Close(); perr != nil {
			err = fmt.Errorf("publishing to %s: %w", pw.subject, perr)
		} else if perr := runDeferred(context.Background(), pw, cc.deferred); perr != nil {
			err = fmt.Errorf("sending async params: %w", perr)
		}
	}
	cc.mu.Lock()
	cc.hs, cc.hsErr = m, err
	cc.mu.Unlock()
	if err != nil || !cc.endParams {
		signal(cc.notify) // the invoking goroutine needs it; otherwise it waits for results
	}
}

// shortReply takes a wash server's acceptance or complete results: either stands for the
// handshake (the server needs no params messages).
func (cc *clientCall) shortReply(m *nats.Msg) {
	var err error
	switch m.Data[0] {
	case fastAccepted:
	case fastResults:
		cc.results.fill(m.Data[1:], m.Subject)
	default:
		err = fmt.Errorf("unknown short reply kind %d", m.Data[0])
	}
	cc.mu.Lock()
	cc.hsSeen = true
	if cc.hs == nil && cc.hsErr == nil {
		cc.hs, cc.hsErr = m, err
	}
	cc.mu.Unlock()
	if err != nil {
		signal(cc.notify)
	}
}

func (cc *clientCall) end(err error) { cc.results.end(err) }

// handshakeState is what the dispatcher has seen of the handshake.
func (cc *clientCall) handshakeState() (*nats.Msg, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.hs, cc.hsErr
}

// callWait is how the invoking goroutine waits: for the handshake (at most hsWait), then for
// the results (until timeout after the start, if set), and always for ctx. One pooled timer
// serves both deadlines.
type callWait struct {
	ctx      context.Context
	call     *clientCall
	timer    *time.Timer
	start    time.Time
	timeout  time.Duration
	hsWait   time.Duration
	accepted bool  // the handshake arrived; the timer is at the call's deadline
	err      error // why the wait ended the call
}

func newCallWait(ctx context.Context, call *clientCall, timeout, hsWait time.Duration) *callWait {
	w := &callWait{ctx: ctx, call: call, start: time.Now(), timeout: timeout, hsWait: hsWait}
	w.timer = getTimer(hsWait)
	return w
}

func (w *callWait) stop() { putTimer(w.timer) }

// check reports the handshake's failure, and moves the timer to the call's deadline once the
// handshake has come.
func (w *callWait) check() (*nats.Msg, error) {
	hm, err := w.call.handshakeState()
	if err != nil {
		return nil, err
	}
	if hm != nil && !w.accepted {
		w.accepted = true
		if w.timeout > 0 {
			w.timer.Reset(max(w.timeout-time.Since(w.start), 0))
		} else {
			w.timer.Stop()
		}
	}
	return hm, nil
}

// wake waits for the next event; the error ends the call.
func (w *callWait) wake() error {
	w.err = w.waitEvent()
	return w.err
}

func (w *callWait) waitEvent() error {
	select {
	case <-w.call.notify:
		return nil
	case <-w.ctx.Done():
		err := w.ctx.Err()
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w: %w", ErrTimeout, err)
		}
		return err
	case <-w.timer.C:
		if _, err := w.check(); err != nil {
			return err
		}
		if !w.accepted {
			return fmt.Errorf("%w: the server did not accept the call within %s (it may have just gone away)", ErrTimeout, w.hsWait)
		}
		if time.Since(w.start) >= w.timeout {
			return fmt.Errorf("%w (%s)", ErrTimeout, w.timeout)
		}
		return nil
	}
}

// handshake waits for the server's handshake.
func (w *callWait) handshake() (*nats.Msg, error) {
	for {
		hm, err := w.check()
		if err != nil || hm != nil {
			return hm, err
		}
		if err := w.wake(); err != nil {
			return nil, err
		}
	}
}

// pull reads the root results channel for the decoder.
func (w *callWait) pull(context.Context) ([]byte, error) {
	for {
		if _, err := w.check(); err != nil {
			w.err = err
			return nil, err
		}
		b, ok, err := w.call.results.root.next()
		if ok || err != nil {
			return b, err
		}
		if err := w.wake(); err != nil {
			return nil, err
		}
	}
}

var timers sync.Pool

func getTimer(d time.Duration) *time.Timer {
	if t, ok := timers.Get().(*time.Timer); ok {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

// putTimer stops t and keeps it for another call (since Go 1.23 a stopped timer's channel
// holds no stale value).
func putTimer(t *time.Timer) {
	t.Stop()
	timers.Put(t)
}

// buffer is a pooled encoding buffer: NATS copies what is published, so the bytes of a sent
// invocation or result can be reused at once.
type buffer struct{ b []byte }

var buffers = sync.Pool{New: func() any { return &buffer{b: make([]byte, 0, 512)} }}

func getBuffer() *buffer { return buffers.Get().(*buffer) }

func putBuffer(b *buffer) {
	if cap(b.b) > 64<<10 {
		return // keep large encodings from pinning memory
	}
	b.b = b.b[:0]
	buffers.Put(b)
}

// firstPayload is how much of the params the invocation message itself may carry: the
// server's max_payload less the reply subject and the header block (as the Rust client counts).
func (c *Conn) firstPayload(reply string, hdr nats.Header) int {
	n := c.maxPayload() - len(reply)
	if len(hdr) > 0 {
		n -= len("NATS/1.0\r\n") + len("\r\n")
		for k, vs := range hdr {
			for _, v := range vs {
				n -= len(k) + 2 + len(v) + 2
			}
		}
	}
	return max(n, 0)
}

// handshakeStatus interprets the first message on the reply inbox.
func handshakeStatus(m *nats.Msg) error {
	if st := m.Header.Get("Status"); st != "" {
		switch st {
		case "503":
			return ErrNoResponders
		case "408":
			return ErrTimeout
		}
		if d := m.Header.Get("Description"); d != "" {
			return fmt.Errorf("NATS answered with status %s (%s)", st, d)
		}
		return fmt.Errorf("NATS answered with status %s", st)
	}
	if m.Reply == "" {
		return errors.New("the server's handshake has no reply subject")
	}
	return nil
}
