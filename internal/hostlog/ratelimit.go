// Package hostlog keeps a host's log readable and bounded: repeated lines are rate-limited
// with a count of what was dropped, and log files rotate by size.
package hostlog

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Defaults of the rate limiter: a line may repeat Burst times per Window; beyond that it is
// counted, and one summary line per Window says how many were dropped.
const (
	DefaultBurst  = 10
	DefaultWindow = 10 * time.Second
	// maxKeys bounds the limiter's memory; past it the oldest window starts over.
	maxKeys = 4096
)

// RateLimit wraps h so that a record repeating the same level, message and logger attributes
// (a component's id, a provider's) passes at most burst times per window. The rest are
// counted, and when the window ends one record says how many were suppressed:
//
//	level=WARN msg="repeated log line suppressed" component_id=z message="component failed to handle a request" suppressed=48211 window=10s
//
// Distinct messages are never suppressed, so a flood of one error cannot hide another.
func RateLimit(h slog.Handler, burst int, window time.Duration) slog.Handler {
	if burst <= 0 {
		burst = DefaultBurst
	}
	if window <= 0 {
		window = DefaultWindow
	}
	return &limited{inner: h, lim: &limiter{burst: burst, window: window, keys: map[string]*repeat{}, now: time.Now}}
}

type limiter struct {
	burst  int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	keys    map[string]*repeat
	sweepAt time.Time // a sweep is scheduled for then (zero: none)
}

// repeat is one key's current window.
type repeat struct {
	start      time.Time
	seen       int
	suppressed int
	level      slog.Level
	msg        string
	handler    slog.Handler // where the summary goes (carries the logger's attributes)
}

type limited struct {
	inner slog.Handler
	lim   *limiter
	attrs string // the logger's attributes, part of each key
}

func (l *limited) Enabled(ctx context.Context, lv slog.Level) bool { return l.inner.Enabled(ctx, lv) }

func (l *limited) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(l.attrs)
	for _, a := range as {
		b.WriteString(a.String())
		b.WriteByte(0)
	}
	return &limited{inner: l.inner.WithAttrs(as), lim: l.lim, attrs: b.String()}
}

func (l *limited) WithGroup(name string) slog.Handler {
	return &limited{inner: l.inner.WithGroup(name), lim: l.lim, attrs: l.attrs + "\x01" + name}
}

func (l *limited) Handle(ctx context.Context, r slog.Record) error {
	key := r.Level.String() + "\x00" + r.Message + "\x00" + l.attrs
	if !l.lim.admit(key, r, l.inner) {
		return nil
	}
	return l.inner.Handle(ctx, r)
}

// admit counts a record and reports whether it may be written.
func (m *limiter) admit(key string, r slog.Record, h slog.Handler) bool {
	now := m.now()
	m.mu.Lock()
	rp := m.keys[key]
	var summary *repeat
	if rp != nil && now.Sub(rp.start) >= m.window {
		if rp.suppressed > 0 {
			s := *rp
			summary = &s
		}
		rp = nil
	}
	if rp == nil {
		if len(m.keys) >= maxKeys {
			m.keys = map[string]*repeat{}
		}
		rp = &repeat{start: now, level: r.Level, msg: r.Message, handler: h}
		m.keys[key] = rp
	}
	rp.seen++
	ok := rp.seen <= m.burst
	if !ok {
		rp.suppressed++
		m.scheduleLocked(rp.start.Add(m.window))
	}
	m.mu.Unlock()
	if summary != nil {
		m.emit(summary, now)
	}
	return ok
}

// scheduleLocked makes sure a sweep runs at or after t, so the summary of a flood that
// stopped is written even if the line never comes again.
func (m *limiter) scheduleLocked(t time.Time) {
	if !m.sweepAt.IsZero() && !m.sweepAt.After(t) {
		return
	}
	m.sweepAt = t
	time.AfterFunc(time.Until(t)+time.Millisecond, m.sweep)
}

// sweep writes the summaries of ended windows and forgets those keys.
func (m *limiter) sweep() {
	now := m.now()
	var out []*repeat
	m.mu.Lock()
	m.sweepAt = time.Time{}
	var next time.Time
	for k, rp := range m.keys {
		end := rp.start.Add(m.window)
		if now.Before(end) {
			if rp.suppressed > 0 && (next.IsZero() || end.Before(next)) {
				next = end
			}
			continue
		}
		if rp.suppressed > 0 {
			out = append(out, rp)
		}
		delete(m.keys, k)
	}
	if !next.IsZero() {
		m.scheduleLocked(next)
	}
	m.mu.Unlock()
	for _, rp := range out {
		m.emit(rp, now)
	}
}

// Flush writes the summaries of every window with suppressed lines now (at shutdown).
func Flush(h slog.Handler) {
	if l, ok := h.(*limited); ok {
		l.lim.mu.Lock()
		var out []*repeat
		for k, rp := range l.lim.keys {
			if rp.suppressed > 0 {
				out = append(out, rp)
			}
			delete(l.lim.keys, k)
		}
		l.lim.mu.Unlock()
		for _, rp := range out {
			l.lim.emit(rp, l.lim.now())
		}
	}
}

func (m *limiter) emit(rp *repeat, now time.Time) {
	lv := max(rp.level, slog.LevelWarn)
	r := slog.NewRecord(now, lv, "repeated log line suppressed", 0)
	r.AddAttrs(slog.String("message", rp.msg), slog.Int("suppressed", rp.suppressed), slog.Duration("window", m.window))
	_ = rp.handler.Handle(context.Background(), r)
}
