package wrpc

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/wrpc/internal/workers"
)

// Handler serves one invocation: args are decoded by the function's parameter types; the
// results it returns are encoded by the result types and sent. An error (or a panic) sends
// only the end of the results channel: all a wRPC peer can see of a failure.
type Handler func(ctx context.Context, args []Value) ([]Value, error)

// Export is one served function.
type Export struct {
	Instance string // "" for a world-root function
	Func     string
	Type     *FuncType
	Handler  Handler
}

// ServeOptions say where and how functions are served.
type ServeOptions struct {
	// Prefix is "<lattice>.<id>" in wasmCloud.
	Prefix string
	// Queue is the queue group, so instances on several hosts share calls ("<lattice>.<id>"
	// in wasmCloud); "" subscribes plainly.
	Queue string
	// Timeout bounds one invocation from its arrival to its last result byte (0: none).
	Timeout time.Duration
	// Context is the parent of every invocation's context (default Background).
	Context context.Context
	// Async returns without waiting for the NATS server to confirm the subscriptions. Messages
	// the caller publishes later on the same connection still reach the server after them;
	// a host uses it so a NATS reconnect cannot hold up a scale.
	Async bool
}

// Served is a set of served functions.
type Served struct {
	subs []*nats.Subscription
}

// Stop unsubscribes every function; invocations already accepted finish.
func (s *Served) Stop() {
	for _, sub := range s.subs {
		_ = sub.Unsubscribe()
	}
	s.subs = nil
}

type headerKey struct{}

// InvocationHeader is the header of the invocation a handler serves (nil when it had none).
func InvocationHeader(ctx context.Context) nats.Header {
	h, _ := ctx.Value(headerKey{}).(nats.Header)
	return h
}

// Serve subscribes every export on its invocation subject. It returns once the server has
// the subscriptions (a flush, unless opts.Async), so calls made afterwards reach them.
func (c *Conn) Serve(opts ServeOptions, exports ...Export) (*Served, error) {
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	s := &Served{}
	for _, ex := range exports {
		if ex.Type == nil || ex.Handler == nil {
			s.Stop()
			return nil, fmt.Errorf("wrpc: serving %s#%s: missing type or handler", ex.Instance, ex.Func)
		}
		if ex.Type.derived().paramsUnroutable {
			s.Stop()
			return nil, fmt.Errorf("wrpc: serving %s#%s: futures or streams inside list elements are not supported", ex.Instance, ex.Func)
		}
		sv := &served{c: c, opts: opts, subject: InvocationSubject(opts.Prefix, ex.Instance, ex.Func), ex: ex}
		cb := func(m *nats.Msg) { workers.Go(func() { sv.serveOne(m) }) }
		var sub *nats.Subscription
		var err error
		if opts.Queue != "" {
			sub, err = c.nc.QueueSubscribe(sv.subject, opts.Queue, cb)
		} else {
			sub, err = c.nc.Subscribe(sv.subject, cb)
		}
		if err != nil {
			s.Stop()
			return nil, fmt.Errorf("wrpc: subscribing to %s: %w", sv.subject, err)
		}
		_ = sub.SetPendingLimits(-1, -1)
		s.subs = append(s.subs, sub)
	}
	if opts.Async {
		return s, nil
	}
	if err := c.nc.Flush(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("wrpc: subscribing on %s: %w", c.nc.ConnectedUrlRedacted(), err)
	}
	return s, nil
}

// served is one function served on one subject.
type served struct {
	c       *Conn
	opts    ServeOptions
	subject string
	ex      Export
}

// serverCall is the server's side of one invocation: its params channels.
type serverCall struct {
	params invocationChannels
}

func (sc *serverCall) deliver(rest string, m *nats.Msg) { sc.params.deliver(rest, m) }
func (sc *serverCall) end(err error)                    { sc.params.end(err) }

// serveOne runs one invocation: handshake, params, handler, results, async results.
func (sv *served) serveOne(m *nats.Msg) {
	c, opts, subject, ex := sv.c, sv.opts, sv.subject, sv.ex
	log := c.opts.Log
	if m.Reply == "" {
		log.Warn("wrpc: dropping an invocation without a reply subject", "subject", subject)
		return
	}
	ctx := opts.Context
	if m.Header != nil {
		ctx = context.WithValue(ctx, headerKey{}, m.Header)
		ctx = c.opts.Propagator.Extract(ctx, HeaderCarrier(m.Header))
	}
	var cancel context.CancelFunc
	if opts.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()

	call := &serverCall{}
	keys := ex.Type.derived().paramKeys
	// a call marked for the wash short reply (fast.go) has all its params here: no handshake,
	// no params messages; it is accepted only if it runs long
	var short *acceptor
	if after, ok := fastReply(m.Reply); ok && !c.opts.StandardOnly {
		call.params.init(c, ".params", keys, make(chan struct{}, 1), nil)
		call.params.fill(nil, m.Subject)
		short = newAcceptor(c, m.Reply, after)
		defer short.stop()
	} else {
		token := c.newToken()
		call.params.init(c, ".params", keys, make(chan struct{}, 1), func() { c.unroute(token) })
		if err := c.route(token, call); err != nil {
			log.Warn("wrpc: cannot accept an invocation", "subject", subject, "err", err)
			return
		}
		if err := c.nc.PublishRequest(m.Reply, c.inbox+token, nil); err != nil {
			call.params.close()
			log.Warn("wrpc: sending the handshake failed", "subject", subject, "err", err)
			return
		}
	}
	defer call.params.close()
	results := &subjectWriter{c: c, subject: m.Reply + ".results"}
	failed := func(what string, err error) {
		log.Warn("wrpc: "+what, "subject", subject, "source_id", m.Header.Get("source-id"), "err", err)
		_ = results.Close()
	}
	d := decoder{r: &reader{buf: m.Data, pull: call.params.root.pull, ctx: ctx, budget: c.opts.MaxValueBytes}, async: &call.params}
	args, err := d.tuple(ex.Type.ParamTypes(), "param")
	if err != nil {
		failed("malformed invocation params", err)
		return
	}
	out, err := callHandler(ctx, ex.Handler, args)
	if err != nil {
		failed("invocation failed", err)
		return
	}
	buf := getBuffer()
	defer putBuffer(buf)
	// the encoding follows the short reply's kind byte, in case it goes that way
	enc, deferred, err := encodeTuple(append(buf.b[:0], fastResults), ex.Type.Results, out, "result")
	buf.b = enc
	if err != nil {
		failed("the handler returned values that do not fit the function type", err)
		return
	}
	if short != nil {
		if allComplete(deferred) && len(enc) <= c.maxPayload() {
			if err := short.answer(enc); err != nil {
				log.Warn("wrpc: sending results", "subject", subject, "err", err)
			}
			return
		}
		// streamed or large results go the standard way, after the acceptance
		if err := short.accept(); err != nil {
			failed("sending the acceptance", err)
			return
		}
	}
	enc = enc[1:]
	if err := results.Write(ctx, enc); err != nil {
		failed("sending results", err)
		return
	}
	_ = results.Close()
	if err := runDeferred(ctx, results, deferred); err != nil {
		log.Debug("wrpc: sending async results failed", "subject", subject, "err", err)
	}
}

func callHandler(ctx context.Context, h Handler, args []Value) (out []Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v\n%s", r, debug.Stack())
		}
	}()
	out, err = h(ctx, args)
	if err == nil && ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("invocation timed out: %w", ctx.Err())
	}
	return out, err
}
