package wrpc

import (
	"context"
	"errors"
	"fmt"
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
	params, deferred, err := encodeTuple(nil, ft.ParamTypes(), args, "param")
	if err != nil {
		return fail(err)
	}
	rc := c.newInbox()
	hs := newHandshakeChannel()
	if err := c.route(rc, hs); err != nil {
		return fail(err)
	}
	ic, root, err := c.openChannels(rc+".results", ft.derived().resultPaths)
	if err != nil {
		c.unroute(rc)
		return fail(err)
	}
	release := func() {
		c.unroute(rc)
		ic.close()
	}
	callCtx := ctx
	if inv.Timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, inv.Timeout)
		defer cancel()
	}
	timeoutErr := func(err error) error {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return fmt.Errorf("%w (%s)", ErrTimeout, inv.Timeout)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w: %w", ErrTimeout, err)
		}
		return err
	}

	hdr := nats.Header{}
	for k, vs := range inv.Header {
		hdr[k] = append([]string(nil), vs...)
	}
	c.opts.Propagator.Inject(ctx, HeaderCarrier(hdr))
	if len(hdr) == 0 {
		hdr = nil
	}
	first := min(len(params), c.firstPayload(rc, hdr))
	msg := &nats.Msg{Subject: subject, Reply: rc, Header: hdr, Data: params[:first]}
	if err := c.nc.PublishMsg(msg); err != nil {
		release()
		return fail(fmt.Errorf("publishing the invocation: %w", err))
	}
	hsWait := inv.HandshakeTimeout
	if hsWait <= 0 {
		hsWait = DefaultHandshakeTimeout
	}
	if inv.Timeout > 0 && inv.Timeout < hsWait {
		hsWait = inv.Timeout
	}
	hsCtx, hsCancel := context.WithTimeout(callCtx, hsWait)
	hm, err := hs.handshake(hsCtx)
	hsCancel()
	c.unroute(rc)
	if err != nil {
		ic.close()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return fail(fmt.Errorf("%w: the server did not accept the call within %s (it may have just gone away)", ErrTimeout, hsWait))
		}
		return fail(timeoutErr(err))
	}
	if err := handshakeStatus(hm); err != nil {
		ic.close()
		return fail(err)
	}
	pw := &subjectWriter{c: c, subject: hm.Reply + ".params"}
	if err := pw.Write(callCtx, params[first:]); err != nil {
		ic.close()
		return fail(err)
	}
	if err := pw.Close(); err != nil {
		ic.close()
		return fail(err)
	}
	if len(deferred) > 0 {
		go func() {
			if err := runDeferred(ctx, pw, deferred); err != nil {
				c.opts.Log.Debug("wrpc: sending async params failed", "subject", subject, "err", err)
			}
		}()
	}

	d := decoder{r: &reader{pull: root.pull, ctx: callCtx, budget: c.opts.MaxValueBytes}, async: ic}
	results, err := d.tuple(ft.Results, "result")
	if err == nil && len(ft.Results) == 0 {
		// nothing to decode: the end of the results channel says the function returned
		_, err = d.r.atEOF()
	}
	if err != nil {
		ic.close()
		if errors.Is(err, ErrIncomplete) {
			return fail(fmt.Errorf("%w: %w", ErrRemoteFailed, err))
		}
		return fail(timeoutErr(err))
	}
	ic.expect(d.pending)
	if d.pending > 0 {
		go func() {
			select {
			case <-ctx.Done():
				ic.close()
			case <-ic.done:
			}
		}()
	}
	return results, nil
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
