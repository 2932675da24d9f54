package wrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// Protocol is the wRPC NATS protocol token in every invocation subject.
const Protocol = "wrpc.0.0.1"

// InvocationSubject is where an invocation of instance#fn served under prefix goes:
// "<prefix>.wrpc.0.0.1.<instance>.<fn>", leaving out an empty prefix or instance.
func InvocationSubject(prefix, instance, fn string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(Protocol) + len(instance) + len(fn) + 3)
	if prefix != "" {
		b.WriteString(prefix)
		b.WriteByte('.')
	}
	b.WriteString(Protocol)
	b.WriteByte('.')
	if instance != "" {
		b.WriteString(instance)
		b.WriteByte('.')
	}
	b.WriteString(fn)
	return b.String()
}

// IndexSubject appends an index path to a channel subject ("R.params" + [0 1] ->
// "R.params.0.1").
func IndexSubject(base string, path []int) string {
	var b strings.Builder
	b.WriteString(base)
	for _, p := range path {
		b.WriteByte('.')
		if p == Wildcard {
			b.WriteByte('*')
		} else {
			b.WriteString(strconv.Itoa(p))
		}
	}
	return b.String()
}

// Options tune a Conn.
type Options struct {
	// Propagator carries trace context on invocation headers (default: W3CPassthrough).
	Propagator Propagator
	// MaxValueBytes bounds one decode (default DefaultMaxValueBytes).
	MaxValueBytes int64
	// Log receives served invocations that failed (default: discarded).
	Log *slog.Logger
}

// Conn is wRPC over one NATS connection: it invokes functions served anywhere in the
// lattice and serves functions. Like the Rust transport it subscribes once to its own inbox
// ("_INBOX.<nuid>.>") and routes every handshake, params and results message by exact subject;
// a message for a subject nobody waits for is dropped. Safe for concurrent use.
type Conn struct {
	nc    *nats.Conn
	inbox string // "_INBOX.<nuid>." (ends with a dot)
	sub   *nats.Subscription
	opts  Options

	mu     sync.RWMutex
	routes map[string]*inChannel
	closed bool
}

// NewConn starts wRPC on nc.
func NewConn(nc *nats.Conn, opts Options) (*Conn, error) {
	if opts.Propagator == nil {
		opts.Propagator = W3CPassthrough{}
	}
	if opts.MaxValueBytes <= 0 {
		opts.MaxValueBytes = DefaultMaxValueBytes
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	c := &Conn{nc: nc, inbox: nc.NewRespInbox() + ".", opts: opts, routes: map[string]*inChannel{}}
	sub, err := nc.Subscribe(c.inbox+">", c.dispatch)
	if err != nil {
		return nil, fmt.Errorf("wrpc: subscribing to %s> on %s: %w", c.inbox, nc.ConnectedUrlRedacted(), err)
	}
	// the dispatcher never blocks, so nats.go's own pending limits are never the bottleneck
	_ = sub.SetPendingLimits(-1, -1)
	c.sub = sub
	return c, nil
}

// NATS is the underlying connection.
func (c *Conn) NATS() *nats.Conn { return c.nc }

// Close stops routing inbox messages; invocations in flight fail.
func (c *Conn) Close() error {
	c.mu.Lock()
	c.closed = true
	routes := c.routes
	c.routes = map[string]*inChannel{}
	c.mu.Unlock()
	for _, ch := range routes {
		ch.end(errConnClosed)
	}
	return c.sub.Unsubscribe()
}

var errConnClosed = errors.New("wrpc connection closed")

func (c *Conn) newInbox() string { return c.inbox + nuid.Next() }

func (c *Conn) dispatch(m *nats.Msg) {
	c.mu.RLock()
	ch := c.routes[m.Subject]
	c.mu.RUnlock()
	if ch != nil {
		ch.push(m)
	}
}

// route registers ch for subject; it must happen before anything can trigger the peer to send.
func (c *Conn) route(subject string, ch *inChannel) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errConnClosed
	}
	c.routes[subject] = ch
	return nil
}

func (c *Conn) unroute(subjects ...string) {
	c.mu.Lock()
	for _, s := range subjects {
		delete(c.routes, s)
	}
	c.mu.Unlock()
}

// maxPayload is what one message may carry.
func (c *Conn) maxPayload() int {
	n := int(c.nc.MaxPayload())
	if n <= 0 {
		n = 1 << 20
	}
	return n
}

// inChannel is one incoming channel: a queue of message payloads ended by an empty message.
// The dispatcher never blocks on it; the queue is bounded in bytes.
type inChannel struct {
	mu      sync.Mutex
	queue   [][]byte
	bytes   int64
	limit   int64
	eof     bool
	err     error
	notify  chan struct{}
	first   *nats.Msg // handshake channels keep the whole message (reply, status)
	keepMsg bool
}

func newInChannel(limit int64) *inChannel {
	return &inChannel{notify: make(chan struct{}, 1), limit: limit}
}

func newHandshakeChannel() *inChannel {
	return &inChannel{notify: make(chan struct{}, 1), keepMsg: true}
}

func (ch *inChannel) signal() {
	select {
	case ch.notify <- struct{}{}:
	default:
	}
}

func (ch *inChannel) push(m *nats.Msg) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.keepMsg {
		if ch.first == nil {
			ch.first = m
			ch.signal()
		}
		return
	}
	if ch.eof || ch.err != nil {
		return
	}
	if len(m.Data) == 0 {
		ch.eof = true
		ch.signal()
		return
	}
	ch.bytes += int64(len(m.Data))
	if ch.limit > 0 && ch.bytes > ch.limit {
		ch.err = fmt.Errorf("%w: more than %d bytes queued on %s", ErrTooLarge, ch.limit, m.Subject)
		ch.queue = nil
		ch.signal()
		return
	}
	ch.queue = append(ch.queue, m.Data)
	ch.signal()
}

// end fails every later read (the invocation ended or the connection closed).
func (ch *inChannel) end(err error) {
	ch.mu.Lock()
	if ch.err == nil {
		ch.err = err
	}
	ch.mu.Unlock()
	ch.signal()
}

// pull returns the next payload, io.EOF at the end of the channel.
func (ch *inChannel) pull(ctx context.Context) ([]byte, error) {
	for {
		ch.mu.Lock()
		if len(ch.queue) > 0 {
			b := ch.queue[0]
			ch.queue[0] = nil
			ch.queue = ch.queue[1:]
			ch.bytes -= int64(len(b))
			ch.mu.Unlock()
			return b, nil
		}
		eof, err := ch.eof, ch.err
		ch.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if eof {
			return nil, io.EOF
		}
		select {
		case <-ch.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// handshake waits for the handshake message.
func (ch *inChannel) handshake(ctx context.Context) (*nats.Msg, error) {
	for {
		ch.mu.Lock()
		m, err := ch.first, ch.err
		ch.mu.Unlock()
		if m != nil {
			return m, nil
		}
		if err != nil {
			return nil, err
		}
		select {
		case <-ch.notify:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// subjectWriter writes one outgoing channel, cutting writes at the server's max_payload.
type subjectWriter struct {
	c       *Conn
	subject string
	mu      sync.Mutex
	closed  bool
}

func (w *subjectWriter) Write(ctx context.Context, p []byte) error {
	max := w.c.maxPayload()
	for len(p) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(p), max)
		if err := w.c.nc.Publish(w.subject, p[:n]); err != nil {
			return fmt.Errorf("publishing to %s: %w", w.subject, err)
		}
		p = p[n:]
	}
	return nil
}

func (w *subjectWriter) Index(path []int) channelWriter {
	return &subjectWriter{c: w.c, subject: IndexSubject(w.subject, path)}
}

// Close sends the end-of-channel message (once).
func (w *subjectWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	return w.c.nc.Publish(w.subject, nil)
}

// invocationChannels is the set of incoming channels of one invocation side, keyed by index
// path, and the async source the decoder reads them through.
type invocationChannels struct {
	c        *Conn
	base     string // "R.params" or "R.results"
	subjects []string
	readers  map[string]*reader
	chans    map[string]*inChannel
	root     *inChannel

	mu      sync.Mutex
	pending int
	counted bool // expect was called: the channels close when pending reaches zero
	done    chan struct{}
	once    sync.Once
}

func pathKey(path []int) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(p))
	}
	return b.String()
}

// openChannels registers the root channel and every async path; nothing may trigger the peer
// before this returns.
func (c *Conn) openChannels(base string, paths [][]int) (*invocationChannels, *inChannel, error) {
	ic := &invocationChannels{c: c, base: base}
	root := newInChannel(c.opts.MaxValueBytes)
	ic.root = root
	if err := c.route(base, root); err != nil {
		return nil, nil, err
	}
	if len(paths) > 0 {
		ic.readers, ic.chans, ic.done = map[string]*reader{}, map[string]*inChannel{}, make(chan struct{})
	}
	for _, p := range paths {
		for _, x := range p {
			if x == Wildcard {
				ic.close()
				return nil, nil, errors.New("futures or streams inside list or stream elements are not supported")
			}
		}
		ch := newInChannel(c.opts.MaxValueBytes)
		s := IndexSubject(base, p)
		if err := c.route(s, ch); err != nil {
			ic.close()
			return nil, nil, err
		}
		ic.subjects = append(ic.subjects, s)
		ic.chans[pathKey(p)] = ch
	}
	return ic, root, nil
}

func (ic *invocationChannels) channel(path []int) (*reader, error) {
	k := pathKey(path)
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if r, ok := ic.readers[k]; ok {
		return r, nil
	}
	ch, ok := ic.chans[k]
	if !ok {
		return nil, fmt.Errorf("no channel was set up for path %v", path)
	}
	r := &reader{pull: ch.pull, budget: ic.c.opts.MaxValueBytes}
	ic.readers[k] = r
	return r, nil
}

// expect records how many pending async values the decode produced; the channels close when
// all of them finished.
func (ic *invocationChannels) expect(n int) {
	ic.mu.Lock()
	ic.pending += n
	ic.counted = true
	zero := ic.pending <= 0
	ic.mu.Unlock()
	if zero {
		ic.close()
	}
}

func (ic *invocationChannels) finished([]int) {
	ic.mu.Lock()
	ic.pending--
	zero := ic.counted && ic.pending <= 0
	ic.mu.Unlock()
	if zero {
		ic.close()
	}
}

// close unregisters every channel of the invocation and fails their later reads.
func (ic *invocationChannels) close() {
	ic.once.Do(func() {
		ic.c.unroute(ic.base)
		ic.c.unroute(ic.subjects...)
		ic.root.end(errInvocationDone)
		for _, ch := range ic.chans {
			ch.end(errInvocationDone)
		}
		if ic.done != nil {
			close(ic.done)
		}
	})
}

var errInvocationDone = errors.New("the invocation has ended")
