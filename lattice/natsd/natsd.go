// Package natsd runs an embedded nats-server with JetStream for a local lattice, optionally as a
// leaf node of a remote NATS system.
package natsd

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Defaults as upstream wash.
const (
	DefaultHost          = "127.0.0.1"
	DefaultPort          = 4222
	DefaultWebsocketPort = 4223
)

// Options configures the embedded server.
type Options struct {
	Host string
	Port int // 0 picks a free port
	// StoreDir is the JetStream file store.
	StoreDir string
	// JetStreamDomain is optional.
	JetStreamDomain string
	// WebsocketPort opens a plain (no TLS) websocket listener when > 0.
	WebsocketPort int
	// RemoteURL makes this server a leaf node of that NATS (e.g. nats-leaf://host:7422).
	RemoteURL string
	// RemoteCredsFile authenticates the leaf-node connection.
	RemoteCredsFile string
	// ConfigFile is a nats-server config file; Host, Port and JetStream settings given here win.
	ConfigFile string
	// LogFile receives the server log when non-empty. With LogMaxBytes > 0 nats-server rotates
	// it at that size, keeping LogKeep old files (its naming: <file>.<timestamp>).
	LogFile     string
	LogMaxBytes int64
	LogKeep     int
	// ReadyTimeout bounds the wait for the server to accept clients (default 10 s).
	ReadyTimeout time.Duration
}

// Server is a running embedded nats-server.
type Server struct {
	ns   *server.Server
	opts Options
}

// ErrPortInUse means something already listens on the requested client port.
var ErrPortInUse = errors.New("port in use")

// Reasons a client port cannot be bound, besides ErrPortInUse.
var (
	ErrUnresolvable = errors.New("host name does not resolve")
	ErrNotLocal     = errors.New("not an address of this machine")
)

// PortFree reports whether host:port can be bound now.
func PortFree(host string, port int) bool { return BindError(host, port) == nil }

// BindError says why host:port cannot be bound now (nil when it can): ErrPortInUse,
// ErrUnresolvable, ErrNotLocal, or the system's error. A name that does not resolve or an
// address of another machine is not "port in use".
func BindError(host string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err == nil {
		_ = l.Close()
		return nil
	}
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		return fmt.Errorf("%s: %w", host, ErrUnresolvable)
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("%s:%d: %w", host, port, ErrPortInUse)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("%s: %w", host, ErrNotLocal)
	}
	return err
}

// Start launches the server and waits until it accepts clients.
func Start(o Options) (*Server, error) {
	if o.Host == "" {
		o.Host = DefaultHost
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 10 * time.Second
	}
	var sopts *server.Options
	if o.ConfigFile != "" {
		fo, err := server.ProcessConfigFile(o.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("reading NATS config file %s: %w", o.ConfigFile, err)
		}
		sopts = fo
	} else {
		sopts = &server.Options{}
	}
	sopts.Host = o.Host
	sopts.Port = o.Port
	if o.Port == 0 {
		sopts.Port = server.RANDOM_PORT
	} else if err := BindError(o.Host, o.Port); err != nil {
		return nil, fmt.Errorf("NATS client port: %w", err)
	}
	sopts.ServerName = "wash-" + strconv.Itoa(os.Getpid())
	sopts.JetStream = true
	if o.StoreDir != "" {
		sopts.StoreDir = o.StoreDir
	}
	if o.JetStreamDomain != "" {
		sopts.JetStreamDomain = o.JetStreamDomain
	}
	sopts.NoSigs = true
	sopts.NoLog = o.LogFile == ""
	if o.LogFile != "" {
		sopts.LogFile = o.LogFile
		sopts.LogSizeLimit = o.LogMaxBytes
		sopts.LogMaxFiles = int64(max(o.LogKeep, 1)) // nats-server: 0 keeps every rotated file
	}
	if o.WebsocketPort > 0 {
		if !PortFree(o.Host, o.WebsocketPort) {
			return nil, fmt.Errorf("NATS websocket port %s:%d: %w", o.Host, o.WebsocketPort, ErrPortInUse)
		}
		sopts.Websocket.Host = o.Host
		sopts.Websocket.Port = o.WebsocketPort
		sopts.Websocket.NoTLS = true
	}
	if o.RemoteURL != "" {
		u, err := url.Parse(o.RemoteURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("invalid --nats-remote-url %q: expected a URL such as nats-leaf://host:7422", o.RemoteURL)
		}
		sopts.LeafNode.Remotes = append(sopts.LeafNode.Remotes, &server.RemoteLeafOpts{
			URLs:        []*url.URL{u},
			Credentials: o.RemoteCredsFile,
		})
	}
	ns, err := server.NewServer(sopts)
	if err != nil {
		return nil, fmt.Errorf("configuring embedded NATS: %w", err)
	}
	if o.LogFile != "" {
		ns.ConfigureLogger()
	}
	go ns.Start()
	if !ns.ReadyForConnections(o.ReadyTimeout) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS did not become ready on %s:%d within %s", o.Host, o.Port, o.ReadyTimeout)
	}
	if !ns.JetStreamEnabled() {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS started without JetStream (store %s): check the directory is writable", o.StoreDir)
	}
	shareDisconnectAdvisories(ns)
	return &Server{ns: ns, opts: o}, nil
}

// DisconnectAdvisories is the subject of the server's client disconnect
// advisories, which clients of the embedded server may subscribe to.
const DisconnectAdvisories = "$SYS.ACCOUNT.*.DISCONNECT"

// shareDisconnectAdvisories lets clients of the global account (all clients
// when no accounts are configured) see the system account's disconnect
// advisories: a host process that dies sends no host_stopped, and wadm learns
// of it from its connection closing instead of waiting for heartbeats to
// expire. Servers with their own accounts are left as configured.
func shareDisconnectAdvisories(ns *server.Server) {
	sys := ns.SystemAccount()
	global, err := ns.LookupAccount(server.DEFAULT_GLOBAL_ACCOUNT)
	if sys == nil || err != nil || sys == global {
		return
	}
	if sys.AddStreamExport(DisconnectAdvisories, nil) == nil {
		_ = global.AddStreamImport(sys, DisconnectAdvisories, "")
	}
}

// ClientURL is nats://host:port of the running server.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Addr returns the client listener address.
func (s *Server) Addr() *net.TCPAddr {
	if a, ok := s.ns.Addr().(*net.TCPAddr); ok {
		return a
	}
	return nil
}

// Shutdown stops the server and waits for it.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// Running reports whether the server is up.
func (s *Server) Running() bool { return s.ns.Running() }
