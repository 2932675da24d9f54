package providers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wasmlattice/wash/runtime"
)

// DefaultHTTPAddress is where the http-server listens when neither the link nor the provider
// config names an address. Upstream uses 0.0.0.0:8000; wash is a development host, so it
// serves only this machine unless a manifest asks for more (address: 0.0.0.0:8000).
const DefaultHTTPAddress = "127.0.0.1:8000"

// Routing modes of the http-server (provider config key routing_mode).
const (
	RouteByAddress = "address"
	RouteByPath    = "path"
	RouteByHost    = "host"
)

// ErrComponentNotFound is wrapped by HTTPInvoker when the link's target does not run here.
var ErrComponentNotFound = errors.New("component is not running on this host")

// httpServer is wasmcloud+builtin://http-server. In address mode (the default) every link
// from the provider to a component on wasi:http/incoming-handler opens a listener on the
// link's source config "address" (default_address when absent); in path and host mode one
// listener on default_address routes by the link's "path" (longest prefix at a '/' boundary)
// or "host" (the Host header, or the header named by the provider config "header").
type httpServer struct {
	id          string
	mode        string
	defaultAddr string
	header      string
	deps        Deps

	mu        sync.Mutex
	links     map[string]Link      // link key -> link (only links that route somewhere)
	listeners map[string]*listener // address -> listener
	shared    *listener            // path and host modes
	routes    map[string]string    // path or host -> component id (path and host modes)
	stopped   bool
}

type listener struct {
	addr   string
	srv    *http.Server
	target string // address mode
	refs   int
}

func newHTTPServer(id string, config map[string]string, deps Deps) (*httpServer, error) {
	s := &httpServer{
		id: id, mode: RouteByAddress, defaultAddr: DefaultHTTPAddress, header: "host", deps: deps,
		links: map[string]Link{}, listeners: map[string]*listener{}, routes: map[string]string{},
	}
	if m := strings.TrimSpace(config["routing_mode"]); m != "" {
		s.mode = strings.ToLower(m)
	}
	if a := strings.TrimSpace(config["default_address"]); a != "" {
		s.defaultAddr = a
	}
	if h := strings.TrimSpace(config["header"]); h != "" {
		s.header = strings.ToLower(h)
	}
	switch s.mode {
	case RouteByAddress:
	case RouteByPath, RouteByHost:
		l, err := s.listen(s.defaultAddr, http.HandlerFunc(s.routeShared))
		if err != nil {
			return nil, err
		}
		s.shared = l
	default:
		return nil, fmt.Errorf("invalid routing_mode %q: use address, path or host", s.mode)
	}
	return s, nil
}

func (s *httpServer) listen(addr string, h http.Handler) (*listener, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("invalid address %q: expected host:port, e.g. 127.0.0.1:8080", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http-server cannot listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	s.deps.Log.Info("http-server listening", "provider_id", s.id, "address", ln.Addr().String())
	return &listener{addr: addr, srv: srv}, nil
}

// routes reports whether the link is one this server serves: from the provider to a component
// on wasi:http/incoming-handler.
func (s *httpServer) servesLink(l Link) bool {
	return l.SourceID == s.id && l.Is("wasi", "http", "incoming-handler")
}

// linkAddress is where a link listens in address mode: its source config's address, else the
// provider's default address.
func (s *httpServer) linkAddress(l Link) string {
	if addr := strings.TrimSpace(l.SourceConfig["address"]); addr != "" {
		return addr
	}
	return s.defaultAddr
}

func (s *httpServer) PutLink(_ context.Context, l Link) error {
	if !s.servesLink(l) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("http-server is stopped")
	}
	if _, ok := s.links[l.Key()]; ok {
		return nil // already routed; a changed link arrives as delete + put
	}
	switch s.mode {
	case RouteByAddress:
		addr := s.linkAddress(l)
		if ln, ok := s.listeners[addr]; ok {
			if ln.target != l.Target {
				return fmt.Errorf("address %s is already routed to component %s; link %s to another address", addr, ln.target, l.Target)
			}
			ln.refs++
		} else {
			target := l.Target
			ln, err := s.listen(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s.invoke(target, w, r)
			}))
			if err != nil {
				return err
			}
			ln.target, ln.refs = target, 1
			s.listeners[addr] = ln
		}
	case RouteByPath:
		p := strings.TrimSpace(l.SourceConfig["path"])
		if p == "" {
			return fmt.Errorf("link to %s has no path in its source config (routing_mode path)", l.Target)
		}
		p = "/" + strings.Trim(p, "/")
		if t, ok := s.routes[p]; ok && t != l.Target {
			return fmt.Errorf("path %s is already routed to component %s", p, t)
		}
		s.routes[p] = l.Target
	case RouteByHost:
		h := strings.ToLower(strings.TrimSpace(l.SourceConfig["host"]))
		if h == "" {
			return fmt.Errorf("link to %s has no host in its source config (routing_mode host)", l.Target)
		}
		if t, ok := s.routes[h]; ok && t != l.Target {
			return fmt.Errorf("host %s is already routed to component %s", h, t)
		}
		s.routes[h] = l.Target
	}
	s.links[l.Key()] = l
	return nil
}

func (s *httpServer) DeleteLink(ctx context.Context, l Link) error {
	s.mu.Lock()
	old, ok := s.links[l.Key()]
	if !ok {
		s.mu.Unlock()
		return nil
	}
	delete(s.links, l.Key())
	var closing *listener
	switch s.mode {
	case RouteByAddress:
		addr := s.linkAddress(old)
		if ln, ok := s.listeners[addr]; ok {
			ln.refs--
			if ln.refs <= 0 {
				delete(s.listeners, addr)
				closing = ln
			}
		}
	case RouteByPath:
		delete(s.routes, "/"+strings.Trim(strings.TrimSpace(old.SourceConfig["path"]), "/"))
	case RouteByHost:
		delete(s.routes, strings.ToLower(strings.TrimSpace(old.SourceConfig["host"])))
	}
	s.mu.Unlock()
	if closing != nil {
		s.close(ctx, closing)
	}
	return nil
}

func (s *httpServer) close(ctx context.Context, ln *listener) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := ln.srv.Shutdown(ctx); err != nil {
		_ = ln.srv.Close()
	}
	s.deps.Log.Info("http-server stopped listening", "provider_id", s.id, "address", ln.addr)
}

func (s *httpServer) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopped = true
	all := make([]*listener, 0, len(s.listeners)+1)
	for _, ln := range s.listeners {
		all = append(all, ln)
	}
	if s.shared != nil {
		all = append(all, s.shared)
	}
	s.listeners, s.shared, s.links, s.routes = map[string]*listener{}, nil, map[string]Link{}, map[string]string{}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, ln := range all {
		wg.Add(1)
		go func() { defer wg.Done(); s.close(ctx, ln) }()
	}
	wg.Wait()
	return nil
}

// routeShared picks the component in path and host modes.
func (s *httpServer) routeShared(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var target string
	if s.mode == RouteByPath {
		best := -1
		for p, t := range s.routes {
			if pathMatches(p, r.URL.Path) && len(p) > best {
				best, target = len(p), t
			}
		}
	} else {
		h := r.Host
		if s.header != "host" {
			h = r.Header.Get(s.header)
		}
		if hn, _, err := net.SplitHostPort(h); err == nil {
			h = hn
		}
		target = s.routes[strings.ToLower(h)]
	}
	s.mu.Unlock()
	if target == "" {
		http.Error(w, "no component is linked for this request", http.StatusNotFound)
		return
	}
	s.invoke(target, w, r)
}

func pathMatches(prefix, path string) bool {
	if prefix == "/" {
		return true
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

func (s *httpServer) invoke(target string, w http.ResponseWriter, r *http.Request) {
	err := s.deps.HTTP.ServeComponentHTTP(WithSourceID(r.Context(), s.id), target, w, r)
	if err == nil {
		return
	}
	s.deps.Log.Warn("component failed to handle a request", "provider_id", s.id, "component_id", target,
		"method", r.Method, "path", r.URL.Path, "err", err)
	switch {
	case errors.Is(err, runtime.ErrResponseStarted):
		// the status line is out; the client sees a truncated body
	case errors.Is(err, ErrComponentNotFound):
		http.Error(w, "component "+target+" is not running", http.StatusServiceUnavailable)
	case errors.Is(err, ErrComponentTimeout):
		http.Error(w, "component "+target+" did not answer in time", http.StatusGatewayTimeout)
	case errors.Is(err, runtime.ErrHostMemoryLimit):
		w.Header().Set("Retry-After", "1")
		http.Error(w, "the host's memory limit for components is reached; retry later", http.StatusServiceUnavailable)
	case r.Context().Err() != nil:
		// the client went away
	default:
		// as upstream's http-server does, the failure's text goes with the 500 (one line)
		msg := err.Error()
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		http.Error(w, "component "+target+" failed to handle the request: "+msg, http.StatusInternalServerError)
	}
}
