// Package wasi implements the host side of WASI 0.2 for the component layer: wasi:cli,
// wasi:clocks, wasi:random, wasi:io, wasi:filesystem (no preopens), wasi:http (types,
// incoming-handler bridge, outgoing-handler with an allow-list), wasi:logging/logging and
// wasi:config/store. Per-instance state travels in the call context (WithState).
package wasi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sort"

	"github.com/wasmlattice/wash/runtime/cabi"
)

// State is what one component instance sees of the world.
type State struct {
	Args   []string
	Env    map[string]string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Config backs wasi:config/store (and the older wasi:config/runtime).
	Config map[string]string
	// Log receives wasi:logging/logging calls; nil logs through slog.Default.
	Log func(level, context, message string)
	// AllowedHosts lists the hosts outbound wasi:http may reach: "example.com",
	// "example.com:8080", "*.example.com", or "*" for any. Empty denies everything.
	AllowedHosts []string
	// HTTPClient makes outbound requests; nil means http.DefaultClient's transport.
	HTTPClient *http.Client
}

type stateKey struct{}

// WithState attaches per-instance WASI state to ctx.
func WithState(ctx context.Context, s *State) context.Context {
	return context.WithValue(ctx, stateKey{}, s)
}

var emptyState = &State{}

// StateFrom returns the state attached by WithState (an empty state if none).
func StateFrom(ctx context.Context) *State {
	if s, ok := ctx.Value(stateKey{}).(*State); ok {
		return s
	}
	return emptyState
}

func (s *State) stdout() io.Writer {
	if s.Stdout == nil {
		return io.Discard
	}
	return s.Stdout
}

func (s *State) stderr() io.Writer {
	if s.Stderr == nil {
		return io.Discard
	}
	return s.Stderr
}

func (s *State) log(level, ctxName, msg string) {
	if s.Log != nil {
		s.Log(level, ctxName, msg)
		return
	}
	l := slog.LevelInfo
	switch level {
	case "trace", "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error", "critical":
		l = slog.LevelError
	}
	slog.Default().Log(context.Background(), l, msg, "context", ctxName, "source", "component")
}

// Interfaces returns the host interfaces this package implements, under their 0.2.0 (or
// draft) names; the component registry serves any compatible 0.2.x import with them. The
// functions of declared interfaces carry their WIT types, checked against a guest's imports
// when it links.
func Interfaces() []*cabi.HostInterface {
	var out []*cabi.HostInterface
	for _, group := range []map[string]map[string]cabi.HostDecl{
		cliFuncs(), clockFuncs(), randomFuncs(), ioFuncs(), filesystemFuncs(), miscFuncs(), declareHTTP(httpFuncs()),
	} {
		for _, n := range sortedKeys(group) {
			out = append(out, cabi.DeclaredInterface(n, group[n]))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ---- small helpers for host functions ----

func ok(v cabi.Value) (cabi.Value, error)   { return cabi.Ok(v), nil }
func errv(v cabi.Value) (cabi.Value, error) { return cabi.Err(v), nil }
func none() (cabi.Value, error)             { return cabi.None(), nil }
func noResult() (cabi.Value, error)         { return nil, nil }
