package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// TapOptions configure a Tap.
type TapOptions struct {
	// History is how many recent records the host keeps for history requests (0: 1000;
	// negative: none).
	History int
	// Now is the clock (tests).
	Now func() time.Time
}

// DefaultHistory is the number of recent records a host keeps.
const DefaultHistory = 1000

// maxWireMessage bounds one record's message on the wire; longer lines are cut.
const maxWireMessage = 16 << 10

// Tap is a host's log handler: each record goes to the next handler (the log file or stderr),
// into a bounded buffer of recent records, and — only while a client watches — onto the lattice
// as JSON. With nobody watching, the lattice costs one atomic load per record.
type Tap struct {
	core  *tapCore
	next  slog.Handler
	attrs []slog.Attr // attached with WithAttrs, group-qualified
	group string      // dotted group prefix from WithGroup
}

type watcher struct {
	filter  Filter
	expires time.Time
}

type tapCore struct {
	now      func() time.Time
	watching atomic.Bool

	mu       sync.Mutex
	seq      uint64
	ring     []Record // grows to history records as they come, then wraps
	history  int
	ringNext int
	ringFull bool
	dropped  bool // records have left the ring
	watchers map[string]watcher

	// set by Serve
	nc      *nats.Conn
	lattice string
	hostID  string
	name    string
	subs    []*nats.Subscription
}

// NewTap wraps next.
func NewTap(next slog.Handler, o TapOptions) *Tap {
	if o.Now == nil {
		o.Now = time.Now
	}
	n := o.History
	if n == 0 {
		n = DefaultHistory
	}
	c := &tapCore{now: o.Now, watchers: map[string]watcher{}}
	if n > 0 {
		// not allocated up front: an idle host logs a few dozen records, not a thousand
		c.ring, c.history = make([]Record, 0, min(n, 16)), n
	}
	return &Tap{core: c, next: next}
}

// Enabled follows the next handler: the tap sees what the log file sees.
func (t *Tap) Enabled(ctx context.Context, l slog.Level) bool { return t.next.Enabled(ctx, l) }

// WithAttrs returns a tap that adds attrs to every record.
func (t *Tap) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *t
	c.next = t.next.WithAttrs(attrs)
	c.attrs = append(append([]slog.Attr(nil), t.attrs...), qualify(t.group, attrs)...)
	return &c
}

// WithGroup returns a tap that qualifies later keys with name.
func (t *Tap) WithGroup(name string) slog.Handler {
	if name == "" {
		return t
	}
	c := *t
	c.next = t.next.WithGroup(name)
	c.group = joinKey(t.group, name)
	return &c
}

func joinKey(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func qualify(group string, attrs []slog.Attr) []slog.Attr {
	if group == "" {
		return attrs
	}
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = slog.Attr{Key: joinKey(group, a.Key), Value: a.Value}
	}
	return out
}

// Handle writes the record to the next handler, keeps it and publishes it when watched.
func (t *Tap) Handle(ctx context.Context, r slog.Record) error {
	err := t.next.Handle(ctx, r)
	c := t.core
	if c.ring == nil && !c.watching.Load() {
		return err
	}
	rec := t.record(r)
	c.mu.Lock()
	c.seq++
	rec.Seq = c.seq
	rec.HostID = c.hostID
	if c.ring != nil {
		if len(c.ring) < c.history {
			c.ring = append(c.ring, rec)
		} else {
			c.ring[c.ringNext] = rec
		}
		c.ringNext++
		if c.ringNext == c.history {
			c.ringNext, c.ringFull = 0, true
		}
		if c.ringFull {
			c.dropped = true
		}
	}
	publish := c.watching.Load() && c.nc != nil && c.matchLocked(rec)
	nc, subject := c.nc, ""
	if publish {
		subject = LinesSubject(c.lattice, c.hostID)
	}
	c.mu.Unlock()
	if publish {
		if len(rec.Message) > maxWireMessage {
			rec.Message = rec.Message[:maxWireMessage] + "…"
		}
		if b, merr := json.Marshal(rec); merr == nil {
			_ = nc.Publish(subject, b)
		}
	}
	return err
}

// record converts a slog record with the tap's attached attributes.
func (t *Tap) record(r slog.Record) Record {
	rec := Record{Time: r.Time, Level: levelName(r.Level), Message: r.Message}
	for _, a := range t.attrs {
		addAttr(&rec, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		addAttr(&rec, t.group, a)
		return true
	})
	return rec
}

func addAttr(rec *Record, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := joinKey(prefix, a.Key)
		if a.Key == "" {
			p = prefix
		}
		for _, g := range v.Group() {
			addAttr(rec, p, g)
		}
		return
	}
	if a.Key == "" {
		return
	}
	rec.setAttr(joinKey(prefix, a.Key), v.String())
}

func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return LevelError
	case l >= slog.LevelWarn:
		return LevelWarn
	case l >= slog.LevelInfo:
		return LevelInfo
	}
	return LevelDebug
}

// matchLocked drops expired watchers and reports whether any watcher wants rec.
func (c *tapCore) matchLocked(rec Record) bool {
	now := c.now()
	match := false
	for id, w := range c.watchers {
		if now.After(w.expires) {
			delete(c.watchers, id)
			continue
		}
		if w.filter.Match(rec) {
			match = true
		}
	}
	if len(c.watchers) == 0 {
		c.watching.Store(false)
	}
	return match
}

// Serve answers watch and history requests for the host on nc until Close. Records logged
// before Serve carry the host id from then on. It returns once the server has the
// subscriptions.
func (t *Tap) Serve(nc *nats.Conn, lattice, hostID, friendlyName string) error {
	c := t.core
	c.mu.Lock()
	c.nc, c.lattice, c.hostID, c.name = nc, lattice, hostID, friendlyName
	for i := range c.ring {
		if c.ring[i].Seq != 0 {
			c.ring[i].HostID = hostID
		}
	}
	c.mu.Unlock()
	watch, err := nc.Subscribe(WatchSubject(lattice), c.handleWatch)
	if err != nil {
		return err
	}
	hist, err := nc.Subscribe(HistorySubject(lattice, hostID), c.handleHistory)
	if err != nil {
		_ = watch.Unsubscribe()
		return err
	}
	c.mu.Lock()
	c.subs = []*nats.Subscription{watch, hist}
	c.mu.Unlock()
	// Ready means the server has the subscriptions: a history request sent right after
	// Serve returned got "no responders" while they were still on their way.
	if err := nc.Flush(); err != nil {
		return fmt.Errorf("serving logs on %s: %w", nc.ConnectedUrlRedacted(), err)
	}
	return nil
}

// Close stops serving requests and publishing lines.
func (t *Tap) Close() {
	c := t.core
	c.mu.Lock()
	subs := c.subs
	c.subs = nil
	c.watchers = map[string]watcher{}
	c.watching.Store(false)
	c.nc = nil
	c.mu.Unlock()
	for _, s := range subs {
		_ = s.Unsubscribe()
	}
}

// Watching reports whether some client currently watches (tests).
func (t *Tap) Watching() bool { return t.core.watching.Load() }

func (c *tapCore) handleWatch(m *nats.Msg) {
	var req WatchRequest
	if decodeRequest(m.Data, &req) != nil || req.ID == "" {
		return
	}
	c.mu.Lock()
	if len(req.Hosts) > 0 && !containsHost(req.Hosts, c.hostID) {
		c.mu.Unlock()
		return
	}
	lease := clampLease(req.LeaseMS)
	if req.Stop {
		delete(c.watchers, req.ID)
	} else {
		c.watchers[req.ID] = watcher{filter: req.Filter, expires: c.now().Add(lease)}
	}
	c.watching.Store(len(c.watchers) > 0)
	reply := WatchReply{HostID: c.hostID, FriendlyName: c.name, LeaseMS: lease.Milliseconds()}
	c.mu.Unlock()
	if m.Reply != "" && !req.Stop {
		b, _ := json.Marshal(reply)
		_ = m.Respond(b)
	}
}

func containsHost(hosts []string, id string) bool {
	for _, h := range hosts {
		if h == id {
			return true
		}
	}
	return false
}

// chunkBytes keeps history replies well under NATS's default 1 MiB payload limit.
const chunkBytes = 256 << 10

func (c *tapCore) handleHistory(m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	var req HistoryRequest
	if len(m.Data) > 0 && decodeRequest(m.Data, &req) != nil {
		return
	}
	c.mu.Lock()
	var recs []Record
	if c.ring != nil {
		start := 0
		if c.ringFull {
			start = c.ringNext
		}
		for i := range len(c.ring) {
			r := c.ring[(start+i)%len(c.ring)]
			if r.Seq != 0 && req.Filter.Match(r) {
				recs = append(recs, r)
			}
		}
	}
	truncated := c.dropped
	nc, host, name := c.nc, c.hostID, c.name
	c.mu.Unlock()
	if nc == nil {
		return
	}
	if req.Limit > 0 && len(recs) > req.Limit {
		recs = recs[len(recs)-req.Limit:]
	}
	chunk := HistoryChunk{HostID: host, FriendlyName: name}
	size := 0
	send := func(done bool) {
		chunk.Done, chunk.Truncated = done, done && truncated
		b, err := json.Marshal(chunk)
		if err == nil {
			_ = nc.Publish(m.Reply, b)
		}
		chunk.Records, size = nil, 0
	}
	for _, r := range recs {
		if len(r.Message) > maxWireMessage {
			r.Message = r.Message[:maxWireMessage] + "…"
		}
		n := len(r.Message) + 128
		for k, v := range r.Attrs {
			n += len(k) + len(v) + 6
		}
		if size+n > chunkBytes && len(chunk.Records) > 0 {
			send(false)
		}
		chunk.Records = append(chunk.Records, r)
		size += n
	}
	send(true)
}
