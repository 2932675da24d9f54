// Package providers holds the capability providers that run inside the host process (the
// wasmcloud+builtin:// references): an HTTP server that routes requests into components and an
// HTTP client that lets linked components make outbound requests. The host drives them through
// Builtin: it hands each one every link that names it, as links appear and disappear.
package providers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// Builtin names (the part after wasmcloud+builtin://).
const (
	HTTPServerName = "http-server"
	HTTPClientName = "http-client"
)

// Link is a link as a provider sees it: the link definition with its named config resolved to
// merged values (later names win), like upstream's InterfaceLinkDefinition.
type Link struct {
	SourceID     string
	Target       string
	Name         string
	WitNamespace string
	WitPackage   string
	Interfaces   []string
	SourceConfig map[string]string
	TargetConfig map[string]string
}

// Key identifies a link the way the provider SDK does: source, target, name, namespace, package.
func (l Link) Key() string {
	return strings.Join([]string{l.SourceID, l.Target, l.Name, l.WitNamespace, l.WitPackage}, "\x00")
}

// Is reports whether the link is on namespace:package and names the interface.
func (l Link) Is(namespace, pkg, iface string) bool {
	return l.WitNamespace == namespace && l.WitPackage == pkg && slices.Contains(l.Interfaces, iface)
}

// Builtin is a provider running in the host process. PutLink and DeleteLink receive every link
// whose source or target is the provider; a changed link arrives as DeleteLink then PutLink.
// An error from PutLink is logged by the host; it does not undo the link in the lattice.
type Builtin interface {
	PutLink(ctx context.Context, l Link) error
	DeleteLink(ctx context.Context, l Link) error
	// Stop releases everything (listeners are closed) within ctx.
	Stop(ctx context.Context) error
}

// HTTPInvoker serves one request with a component running on this host. It returns
// ErrComponentNotFound (wrapped) when no such component runs.
type HTTPInvoker interface {
	ServeComponentHTTP(ctx context.Context, componentID string, w http.ResponseWriter, r *http.Request) error
}

// Deps is what a builtin may use of the host.
type Deps struct {
	HTTP HTTPInvoker
	Log  *slog.Logger
}

// Known lists the builtin names this host can start.
func Known() []string {
	names := []string{HTTPServerName, HTTPClientName}
	sort.Strings(names)
	return names
}

// Start starts the builtin called name for provider id with its merged start config.
func Start(name, id string, config map[string]string, deps Deps) (Builtin, error) {
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	switch name {
	case HTTPServerName:
		return newHTTPServer(id, config, deps)
	case HTTPClientName:
		return &httpClient{}, nil
	}
	return nil, fmt.Errorf("unknown builtin name: %s (this host has %s)", name, strings.Join(Known(), ", "))
}

// httpClient is the wasmcloud+builtin://http-client provider. It keeps no state: the host
// lets a component make outbound wasi:http requests exactly when a link from that component
// to a running http-client provider on wasi:http/outgoing-handler exists.
type httpClient struct{}

func (*httpClient) PutLink(context.Context, Link) error    { return nil }
func (*httpClient) DeleteLink(context.Context, Link) error { return nil }
func (*httpClient) Stop(context.Context) error             { return nil }
