// Package providers holds the capability providers that run inside the host process (the
// wasmcloud+builtin:// references) and the supervisor of native provider processes. Builtins:
// an HTTP server that routes requests into components, an HTTP client that lets linked
// components make outbound requests, key-value (in-memory, NATS, Redis), messaging over NATS
// and a filesystem blobstore. The host starts every builtin through Start and drives it
// through Builtin: it hands each one every link that names it, as links appear and disappear.
// Builtins that serve component imports (key-value, messaging, blobstore) also build host
// interfaces that resolve the calling component's link on each call.
package providers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/wrpc"
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
// An error from PutLink does not undo the link in the lattice: the host logs it and reports the
// provider unhealthy (health_check_failed) until every link it was given applies again.
type Builtin interface {
	PutLink(ctx context.Context, l Link) error
	DeleteLink(ctx context.Context, l Link) error
	// Stop releases everything (listeners are closed) within ctx.
	Stop(ctx context.Context) error
}

// configPerCall is embedded by builtins that read a link's config on each call (and keep
// clients per settings), so a link put or deleted needs no work.
type configPerCall struct{}

func (configPerCall) PutLink(context.Context, Link) error    { return nil }
func (configPerCall) DeleteLink(context.Context, Link) error { return nil }

// checkTargetConfig reports now (the host logs it) a link from a component on ns:pkg whose
// target config parse rejects; the component hears the same on each call.
func checkTargetConfig[T any](l Link, ns, pkg string, parse func(InterfaceLinkDefinition) (T, error)) error {
	if l.WitNamespace != ns || l.WitPackage != pkg || l.SourceID == "" {
		return nil
	}
	_, err := parse(InterfaceLinkDefinition{SourceID: l.SourceID, Target: l.Target, TargetConfig: l.TargetConfig})
	return err
}

// HTTPInvoker serves one request with a component: an instance on this host first, else one
// anywhere in the lattice over wRPC. It returns ErrComponentNotFound (wrapped) when no host
// runs the component and ErrComponentTimeout when it did not answer in time.
type HTTPInvoker interface {
	ServeComponentHTTP(ctx context.Context, componentID string, w http.ResponseWriter, r *http.Request) error
}

// Deps is what a builtin may use of the host.
type Deps struct {
	HTTP HTTPInvoker
	Log  *slog.Logger
	// NC is the host's lattice connection (keyvalue-nats without cluster_uri, messaging-nats).
	NC       *nats.Conn
	JSDomain string
	// HTTPClient is the host's client for outbound HTTP (the http-client serves through it).
	HTTPClient *http.Client
	// Deliver runs a component's wasmcloud:messaging/handler for a message the messaging
	// provider providerID received on one of its links' subscriptions.
	Deliver func(providerID, componentID string, msg BrokerMessage)
}

// builtins is the one registry of wasmcloud+builtin:// names.
var builtins = map[string]func(id string, config map[string]string, deps Deps) (Builtin, error){
	HTTPServerName: func(id string, config map[string]string, deps Deps) (Builtin, error) {
		return newHTTPServer(id, config, deps)
	},
	HTTPClientName: func(_ string, _ map[string]string, deps Deps) (Builtin, error) {
		c := &httpClient{}
		if deps.HTTPClient != nil {
			c.transport = deps.HTTPClient.Transport
		}
		return c, nil
	},
	KeyValueInMemory: func(_ string, _ map[string]string, deps Deps) (Builtin, error) {
		return NewKeyValueProvider(KeyValueInMemory, deps.NC, deps.JSDomain)
	},
	KeyValueNATS: func(_ string, _ map[string]string, deps Deps) (Builtin, error) {
		return NewKeyValueProvider(KeyValueNATS, deps.NC, deps.JSDomain)
	},
	KeyValueRedis: func(_ string, _ map[string]string, deps Deps) (Builtin, error) {
		return NewKeyValueProvider(KeyValueRedis, deps.NC, deps.JSDomain)
	},
	MessagingNATS: func(id string, _ map[string]string, deps Deps) (Builtin, error) {
		if deps.NC == nil {
			return nil, fmt.Errorf("%s needs the host's NATS connection", MessagingNATS)
		}
		return newMessagingProvider(id, deps.NC, deps.Deliver), nil
	},
	BlobstoreFS:   func(string, map[string]string, Deps) (Builtin, error) { return NewBlobstoreFS(), nil },
	KeyValueVault: func(string, map[string]string, Deps) (Builtin, error) { return newVaultKV(), nil },
	MessagingKafka: func(id string, _ map[string]string, deps Deps) (Builtin, error) {
		return newKafkaProvider(id, deps), nil
	},
	BlobstoreS3: func(string, map[string]string, Deps) (Builtin, error) { return newBlobstoreS3(), nil },
	SQLDBPostgres: func(id string, _ map[string]string, _ Deps) (Builtin, error) {
		return newPostgresProvider(id), nil
	},
}

// Known lists the builtin names this host can start, sorted.
func Known() []string {
	return slices.Sorted(maps.Keys(builtins))
}

// BuiltinTwin names the builtin that stands in for an upstream provider image:
// ghcr.io/wasmcloud/<name>:<tag> (or @digest, with or without oci://) whose <name> is a
// builtin here.
func BuiltinTwin(ref string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(ref, "oci://"), "ghcr.io/wasmcloud/")
	if !ok {
		return "", false
	}
	name := rest
	if i := strings.IndexAny(name, ":@"); i >= 0 {
		name = name[:i]
	}
	if _, ok := builtins[name]; !ok || name == KeyValueInMemory {
		return "", false
	}
	return name, true
}

// Start starts the builtin called name for provider id with its merged start config.
func Start(name, id string, config map[string]string, deps Deps) (Builtin, error) {
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	start, ok := builtins[name]
	if !ok {
		return nil, fmt.Errorf("unknown builtin name: %s (this host has %s)", name, strings.Join(Known(), ", "))
	}
	return start(id, config, deps)
}

// httpClient is the wasmcloud+builtin://http-client provider. It keeps no state: the host
// lets a component make outbound wasi:http requests exactly when a link from that component
// to a running http-client provider on wasi:http/outgoing-handler exists, and it serves
// wrpc:http/outgoing-handler to components elsewhere through transport.
type httpClient struct {
	configPerCall
	transport http.RoundTripper
}

func (*httpClient) Stop(context.Context) error { return nil }

// Exporter is a builtin that also serves interfaces over wRPC. The host serves its exports
// under "<lattice>.<provider-id>" in queue group "<lattice>.<provider-id>", as a native
// provider built with the SDK serves them, so components on any host (and real wasmCloud
// hosts) reach it. A handler finds the link an invocation came through with caller.
type Exporter interface {
	Exports(caller CallerLink) []wrpc.Export
}

// CallerLink resolves the link an invocation served by a provider came through: the link from
// the invocation's source-id, named by its link-name header ("default" when absent), to the
// provider on namespace:package, with its config resolved.
type CallerLink func(ctx context.Context, namespace, pkg string) (InterfaceLinkDefinition, error)

type sourceKey struct{}

// WithSourceID tells the host which provider is calling a component (the source-id header).
func WithSourceID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, sourceKey{}, id)
}

// SourceIDFrom returns what WithSourceID stored.
func SourceIDFrom(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}

// ErrComponentTimeout is wrapped when a component on another host did not answer in time.
var ErrComponentTimeout = errors.New("the component did not answer within the call timeout")
