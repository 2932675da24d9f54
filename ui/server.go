// Package ui is `wash ui`: a browser dashboard of one lattice served by the wash binary itself.
// The page (embedded HTML, CSS and plain JavaScript; nothing is fetched at run time) renders a
// snapshot — hosts with labels, components and providers per host, apps with per-scaler status,
// links, config names — and a live event feed. The server keeps the snapshot fresh from lattice
// events, wadm statuses and a periodic refresh, and pushes every change over server-sent events.
// It is read-only: the page changes nothing in the lattice.
package ui

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

//go:embed assets
var assets embed.FS

// Options configure a Server.
type Options struct {
	Conn        *nats.Conn
	Lattice     string
	TopicPrefix string // default wasmbus.ctl
	WadmPrefix  string // default wadm.api
	JSDomain    string
	Timeout     time.Duration // per control request (default 2 s)
	// ServerURL is shown in the page header.
	ServerURL string
	// Refresh is the period of the full refresh (default 5 s); events refresh sooner.
	Refresh time.Duration
}

// feedSize is how many recent events a newly opened page gets.
const feedSize = 200

// Server serves the dashboard for one lattice.
type Server struct {
	o     Options
	fetch *fetcher

	mu      sync.Mutex
	snap    Snapshot
	snapRaw []byte
	feed    []FeedItem
	seq     int
	clients map[*client]struct{}

	refreshCh chan struct{}
	subs      []*nats.Subscription
	stop      chan struct{}
	done      chan struct{}
}

type client struct {
	ch chan sseMsg // buffered; a slow page gets the latest snapshot, events may drop
}

type sseMsg struct {
	event string
	data  []byte
}

// New subscribes to the lattice and takes the first snapshot.
func New(ctx context.Context, o Options) (*Server, error) {
	if o.Conn == nil {
		return nil, errors.New("wash ui needs a NATS connection")
	}
	if o.Lattice == "" {
		o.Lattice = ctl.DefaultLattice
	}
	if o.Timeout <= 0 {
		o.Timeout = ctl.DefaultTimeout
	}
	if o.Refresh <= 0 {
		o.Refresh = 5 * time.Second
	}
	if o.ServerURL == "" {
		o.ServerURL = o.Conn.ConnectedUrlRedacted()
	}
	s := &Server{o: o, clients: map[*client]struct{}{}, refreshCh: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
		fetch: &fetcher{nc: o.Conn, lattice: o.Lattice, jsDomain: o.JSDomain, timeout: o.Timeout,
			ctl:  ctl.NewClient(o.Conn, ctl.ClientOptions{Lattice: o.Lattice, TopicPrefix: o.TopicPrefix, Timeout: o.Timeout}),
			wadm: wadmclient.New(o.Conn, wadmclient.Options{Lattice: o.Lattice, Prefix: o.WadmPrefix, Timeout: o.Timeout})}}
	if err := s.subscribe(); err != nil {
		s.unsubscribe()
		return nil, err
	}
	s.setSnapshot(s.fetch.fetch(ctx))
	go s.loop()
	return s, nil
}

func (s *Server) subscribe() error {
	sub, err := events.Subscribe(s.o.Conn, s.o.Lattice, func(e events.Event) {
		s.addFeed(e)
		if e.Name() != events.HostHeartbeat {
			s.requestRefresh()
		}
	})
	if err != nil {
		return fmt.Errorf("subscribing to lattice %s events: %w", s.o.Lattice, err)
	}
	s.subs = append(s.subs, sub)
	// wadm publishes every app status change; applying it at once is what makes Deployed show
	// without waiting for a refresh.
	statusPrefix := model.StatusSubjectPrefix + "." + s.o.Lattice + "."
	sub, err = s.o.Conn.Subscribe(statusPrefix+"*", func(m *nats.Msg) {
		var st model.Status
		if json.Unmarshal(m.Data, &st) != nil {
			return
		}
		s.applyStatus(strings.TrimPrefix(m.Subject, statusPrefix), st)
	})
	if err != nil {
		return err
	}
	s.subs = append(s.subs, sub)
	sub, err = s.o.Conn.Subscribe(model.EventSubjectPrefix+"."+s.o.Lattice+".>", func(m *nats.Msg) {
		if e, err := events.Parse(m.Data); err == nil {
			s.addFeed(e)
		}
		s.requestRefresh()
	})
	if err != nil {
		return err
	}
	s.subs = append(s.subs, sub)
	// wadm announces deploys and undeploys but not puts or deletes; seeing the API requests go
	// by (the replies go to the caller alone) keeps the app list current without polling.
	prefix := s.o.WadmPrefix
	if prefix == "" {
		prefix = model.DefaultAPIPrefix
	}
	if sub, err = s.o.Conn.Subscribe(prefix+"."+s.o.Lattice+".model.>", func(*nats.Msg) { s.requestRefresh() }); err == nil {
		s.subs = append(s.subs, sub)
	}
	return s.o.Conn.Flush()
}

func (s *Server) unsubscribe() {
	for _, sub := range s.subs {
		_ = sub.Unsubscribe()
	}
	s.subs = nil
}

// Close stops the refresh loop and the subscriptions, and ends the open event streams.
func (s *Server) Close() {
	select {
	case <-s.stop:
		return
	default:
	}
	close(s.stop)
	<-s.done
	s.unsubscribe()
}

func (s *Server) requestRefresh() {
	select {
	case s.refreshCh <- struct{}{}:
	default:
	}
}

// loop refreshes periodically and shortly after events, coalescing bursts.
func (s *Server) loop() {
	defer close(s.done)
	t := time.NewTicker(s.o.Refresh)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.refreshCh:
			// let a burst of events land before asking the lattice
			select {
			case <-time.After(100 * time.Millisecond):
			case <-s.stop:
				return
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-s.stop:
			case <-ctx.Done():
			}
			cancel()
		}()
		sn := s.fetch.fetch(ctx)
		cancel()
		s.setSnapshot(sn)
	}
}

func (s *Server) setSnapshot(sn Snapshot) {
	sn.ServerURL = s.o.ServerURL
	b, err := json.Marshal(sn)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap, s.snapRaw = sn, b
	s.broadcastLocked(sseMsg{"snapshot", b}, true)
}

// applyStatus puts a published app status into the snapshot and pushes it.
func (s *Server) applyStatus(app string, st model.Status) {
	s.mu.Lock()
	found := false
	sn := s.snap
	sn.Apps = append([]App(nil), sn.Apps...)
	for i := range sn.Apps {
		if sn.Apps[i].Name == app {
			sn.Apps[i].setStatus(st)
			found = true
		}
	}
	s.mu.Unlock()
	if !found {
		s.requestRefresh() // an app we have not listed yet
		return
	}
	sn.Updated = time.Now()
	s.setSnapshot(sn)
}

func (s *Server) addFeed(e events.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	item := feedItem(e, s.seq)
	if len(s.feed) >= feedSize {
		s.feed = append(s.feed[:0], s.feed[len(s.feed)-feedSize+1:]...)
	}
	s.feed = append(s.feed, item)
	b, err := json.Marshal(item)
	if err == nil {
		s.broadcastLocked(sseMsg{"event", b}, false)
	}
}

// broadcastLocked queues m for every page; a page whose queue is full misses an event, or gets
// its oldest message replaced by a snapshot (snapshots are whole, so the newest is enough).
func (s *Server) broadcastLocked(m sseMsg, snapshot bool) {
	for c := range s.clients {
		select {
		case c.ch <- m:
		default:
			if snapshot {
				select {
				case <-c.ch:
				default:
				}
				select {
				case c.ch <- m:
				default:
				}
			}
		}
	}
}

// Handler serves the page, its assets, /api/snapshot and the /api/stream event stream.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	files := http.FileServerFS(static)
	mux.Handle("GET /", noCache(files))
	mux.HandleFunc("GET /api/snapshot", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		b := s.snapRaw
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("GET /api/stream", s.stream)
	return securityHeaders(mux)
}

func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// securityHeaders keeps other sites from reading the page: no framing, no sniffing, a strict
// content policy (everything is same-origin), and — since a loopback server can be reached
// through DNS rebinding — only Host names that mean this machine or the address it listens on.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			host = hh
		}
		if !allowedHost(host, r.Context()) {
			http.Error(w, "forbidden host "+r.Host, http.StatusForbidden)
			return
		}
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		h.ServeHTTP(w, r)
	})
}

func allowedHost(host string, ctx context.Context) bool {
	host = strings.Trim(host, "[]")
	if host == "localhost" || net.ParseIP(host) != nil {
		return true
	}
	// a name is allowed only when the server listens on a non-loopback address on purpose
	if la, ok := ctx.Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ta, ok := la.(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
			return true
		}
	}
	return false
}

// stream is the server-sent event stream: a snapshot and the recent feed at once, then every
// change.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Connection", "keep-alive")
	c := &client{ch: make(chan sseMsg, 64)}
	s.mu.Lock()
	snap := s.snapRaw
	feed, _ := json.Marshal(s.feed)
	s.clients[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.clients, c)
		s.mu.Unlock()
	}()
	_, _ = fmt.Fprint(w, "retry: 1000\n\n")
	writeSSE(w, "feed", feed)
	writeSSE(w, "snapshot", snap)
	fl.Flush()
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.stop:
			return
		case <-ping.C:
			_, _ = fmt.Fprint(w, ": ping\n\n")
		case m := <-c.ch:
			writeSSE(w, m.event, m.data)
		}
		fl.Flush()
	}
}

func writeSSE(w http.ResponseWriter, event string, data []byte) {
	_, _ = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data)
}
