// Package testnats starts NATS servers inside tests, always on a random loopback port and
// stopped when the test ends: the embedded server `wash up` runs (JetStream, a private store),
// or a plain nats-server with the options a test needs (auth, TLS, payload limits).
//
// It imports no wash package but lattice/natsd, so the tests of every lattice package (the
// host's and wrpc's own tests included) can use it; internal/testlattice adds hosts on top.
package testnats

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/natsd"
)

// Server is a NATS server started for one test.
type Server struct {
	// Embedded is the embedded server when it was started by Start or StartWith (nil after Run).
	Embedded *natsd.Server
	URL      string
	Host     string
	Port     int
}

// Start runs the embedded NATS server with JetStream in a private store.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, natsd.Options{})
}

// StartWith runs the embedded NATS server with o; an empty StoreDir is a private one, port 0 a
// random one. A test restarting the server on the same store and port passes both.
func StartWith(t testing.TB, o natsd.Options) *Server {
	t.Helper()
	if o.StoreDir == "" {
		o.StoreDir = t.TempDir()
	}
	srv, err := natsd.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	a := srv.Addr()
	return &Server{Embedded: srv, URL: srv.ClientURL(), Host: a.IP.String(), Port: a.Port}
}

// Run runs a nats-server with opts (auth, TLS, limits …) on 127.0.0.1, a random port unless
// opts.Port is set, without signal handlers or logs; JetStream gets a private store.
func Run(t testing.TB, opts *server.Options) *Server {
	t.Helper()
	opts.Host = "127.0.0.1"
	if opts.Port == 0 {
		opts.Port = server.RANDOM_PORT
	}
	if opts.JetStream && opts.StoreDir == "" {
		opts.StoreDir = t.TempDir()
	}
	opts.NoSigs = true
	opts.NoLog = true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	_, p, _ := net.SplitHostPort(ns.Addr().String())
	port, _ := strconv.Atoi(p)
	return &Server{URL: ns.ClientURL(), Host: "127.0.0.1", Port: port}
}

// Connect opens a client connection closed at the end of the test.
func (s *Server) Connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Connected is Start and Connect: the embedded server and one client connection.
func Connected(t testing.TB) (*Server, *nats.Conn) {
	t.Helper()
	s := Start(t)
	return s, s.Connect(t)
}
