package wrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
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
	// StandardOnly turns the wash short reply off both ways: calls do not ask for it and
	// served functions ignore it, as any upstream wRPC peer does (see fast.go).
	StandardOnly bool
}

// Conn is wRPC over one NATS connection: it invokes functions served anywhere in the
// lattice and serves functions. Like the Rust transport it subscribes once to its own inbox
// ("_INBOX.<nuid>.>"); every invocation side gets "<inbox><token>" (R_c or R_s) and the
// handshake, params and results messages are routed by that token, then by the rest of the
// subject (exactly: ".results", ".results.0.1", …). A message nobody waits for is dropped.
// Safe for concurrent use.
type Conn struct {
	nc    *nats.Conn
	inbox string // "_INBOX.<nuid>." (ends with a dot)
	sub   *nats.Subscription
	opts  Options

	mu     sync.RWMutex
	routes map[string]inboxRoute // by token
	closed bool
}

// inboxRoute receives the inbox messages of one invocation side.
type inboxRoute interface {
	// deliver takes a message for "<inbox><token><rest>": rest is "" for the handshake,
	// ".results" or ".params" for the root channel, ".results.0.1" for a child channel.
	deliver(rest string, m *nats.Msg)
	// end fails every later read (the connection closed).
	end(err error)
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
	c := &Conn{nc: nc, inbox: nc.NewRespInbox() + ".", opts: opts, routes: map[string]inboxRoute{}}
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
	c.routes = map[string]inboxRoute{}
	c.mu.Unlock()
	for _, r := range routes {
		r.end(errConnClosed)
	}
	return c.sub.Unsubscribe()
}

var errConnClosed = errors.New("wrpc connection closed")

// newToken names a new invocation side: its inbox is c.inbox + token.
func (c *Conn) newToken() string { return nuid.Next() }

func (c *Conn) dispatch(m *nats.Msg) {
	s, ok := strings.CutPrefix(m.Subject, c.inbox)
	if !ok {
		return
	}
	token, rest := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		token, rest = s[:i], s[i:]
	}
	c.mu.RLock()
	r := c.routes[token]
	c.mu.RUnlock()
	if r != nil {
		r.deliver(rest, m)
	}
}

// route registers r for token; it must happen before anything can trigger the peer to send.
func (c *Conn) route(token string, r inboxRoute) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errConnClosed
	}
	c.routes[token] = r
	return nil
}

func (c *Conn) unroute(token string) {
	c.mu.Lock()
	delete(c.routes, token)
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
// The dispatcher never blocks on it; the queue is bounded in bytes. notify may be shared by
// the channels one goroutine waits on.
type inChannel struct {
	mu     sync.Mutex
	queue  [][]byte
	bytes  int64
	limit  int64
	eof    bool
	err    error
	notify chan struct{}
}

func (ch *inChannel) init(limit int64, notify chan struct{}) {
	ch.limit, ch.notify = limit, notify
}

func signal(notify chan struct{}) {
	select {
	case notify <- struct{}{}:
	default:
	}
}

func (ch *inChannel) push(m *nats.Msg) { ch.add(m.Data, m.Subject) }

// add queues one message's payload (subject names it in errors); an empty one ends the channel.
func (ch *inChannel) add(data []byte, subject string) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.eof || ch.err != nil {
		return
	}
	if len(data) == 0 {
		ch.eof = true
		signal(ch.notify)
		return
	}
	ch.bytes += int64(len(data))
	if ch.limit > 0 && ch.bytes > ch.limit {
		ch.err = fmt.Errorf("%w: more than %d bytes queued on %s", ErrTooLarge, ch.limit, subject)
		ch.queue = nil
		signal(ch.notify)
		return
	}
	ch.queue = append(ch.queue, data)
	signal(ch.notify)
}

// end fails every later read (the invocation ended or the connection closed).
func (ch *inChannel) end(err error) {
	ch.mu.Lock()
	if ch.err == nil {
		ch.err = err
	}
	ch.mu.Unlock()
	signal(ch.notify)
}

// next returns the next payload without waiting: ok is false when there is none yet;
// io.EOF at the end of the channel.
func (ch *inChannel) next() (b []byte, ok bool, err error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if len(ch.queue) > 0 {
		b = ch.queue[0]
		ch.queue[0] = nil
		ch.queue = ch.queue[1:]
		ch.bytes -= int64(len(b))
		return b, true, nil
	}
	if ch.err != nil {
		return nil, false, ch.err
	}
	if ch.eof {
		return nil, false, io.EOF
	}
	return nil, false, nil
}

// pull returns the next payload, io.EOF at the end of the channel.
func (ch *inChannel) pull(ctx context.Context) ([]byte, error) {
	for {
		b, ok, err := ch.next()
		if ok || err != nil {
			return b, err
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

// invocationChannels is the set of incoming channels of one invocation side (the client's
// results or the server's params), keyed by index path, and the async source the decoder reads
// them through. The root channel is always there; the channels of async values are made when
// their first message arrives or their value is read, whichever comes first.
type invocationChannels struct {
	c    *Conn
	base string   // ".results" or ".params"
	keys []string // the async paths the function type has ("0.1")
	root inChannel

	mu      sync.Mutex
	chans   map[string]*inChannel
	readers map[string]*reader
	pending int
	counted bool // expect was called: the channels close when pending reaches zero
	done    chan struct{}
	closed  bool
	onClose func()
	// emptyStreams: every async value is an empty byte stream (a short reply, fast.go)
	emptyStreams bool
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

// init prepares the channels of one side; onClose runs once when they close (it unroutes).
func (ic *invocationChannels) init(c *Conn, base string, keys []string, notify chan struct{}, onClose func()) {
	ic.c, ic.base, ic.keys, ic.onClose = c, base, keys, onClose
	ic.root.init(c.opts.MaxValueBytes, notify)
	if len(keys) > 0 {
		ic.done = make(chan struct{})
	}
}

// deliver routes a message whose subject ends in rest (".results", ".results.0.1").
func (ic *invocationChannels) deliver(rest string, m *nats.Msg) {
	after, ok := strings.CutPrefix(rest, ic.base)
	if !ok {
		return
	}
	if after == "" {
		ic.root.push(m)
		return
	}
	if len(ic.keys) == 0 || after[0] != '.' {
		return
	}
	if ch := ic.child(after[1:]); ch != nil {
		ch.push(m)
	}
}

// child is the channel of an async path key, nil for a path the function does not have or
// after the channels closed.
func (ic *invocationChannels) child(key string) *inChannel {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if ic.closed {
		return nil
	}
	if ch := ic.chans[key]; ch != nil {
		return ch
	}
	i := slices.Index(ic.keys, key)
	if i < 0 {
		return nil
	}
	if ic.chans == nil {
		ic.chans = map[string]*inChannel{}
	}
	ch := &inChannel{}
	ch.init(ic.c.opts.MaxValueBytes, make(chan struct{}, 1))
	if ic.emptyStreams {
		ch.queue, ch.bytes, ch.eof = [][]byte{endChunk}, 1, true
	}
	ic.chans[ic.keys[i]] = ch
	return ch
}

func (ic *invocationChannels) channel(path []int) (*reader, error) {
	k := pathKey(path)
	ch := ic.child(k)
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if r, ok := ic.readers[k]; ok {
		return r, nil
	}
	if ch == nil {
		if ic.closed {
			return nil, errInvocationDone
		}
		return nil, fmt.Errorf("no channel was set up for path %v", path)
	}
	r := &reader{pull: ch.pull, budget: ic.c.opts.MaxValueBytes}
	if ic.readers == nil {
		ic.readers = map[string]*reader{}
	}
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

// end fails every later read of the side's channels (the connection closed).
func (ic *invocationChannels) end(err error) {
	ic.root.end(err)
	ic.mu.Lock()
	chans := maps.Clone(ic.chans)
	ic.mu.Unlock()
	for _, ch := range chans {
		ch.end(err)
	}
}

// close unregisters the invocation side and fails later reads of its channels.
func (ic *invocationChannels) close() {
	if !firstToSet(&ic.mu, &ic.closed) {
		return
	}
	if ic.onClose != nil {
		ic.onClose()
	}
	ic.end(errInvocationDone)
	if ic.done != nil {
		close(ic.done)
	}
}

var errInvocationDone = errors.New("the invocation has ended")

// firstToSet sets *flag under mu and reports whether this caller was the one that set it:
// what only the first of several racing callers does (a handshake, a close).
func firstToSet(mu *sync.Mutex, flag *bool) bool {
	mu.Lock()
	defer mu.Unlock()
	if *flag {
		return false
	}
	*flag = true
	return true
}
