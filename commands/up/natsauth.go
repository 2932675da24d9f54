package up

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/pflag"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
)

// NATSAuth are the connection settings of the host's two NATS connections, named as upstream
// `wash up` names them (crates/wash/src/cli/cmd/up.rs:177-243): the control interface (ctl)
// and the rpc connection providers and components use. Each host and port default to
// --nats-host/--nats-port; user:password@ in a host is used as user and password.
type NATSAuth struct {
	Ctl, RPC     connFlags
	RPCTimeoutMs int
}

// connFlags are one connection's flags.
type connFlags struct {
	Host      string
	Port      int
	JWT       string
	Seed      string
	CredsFile string
	TLS       bool
	TLSFirst  bool
	TLSCAFile string
}

func (a *NATSAuth) addFlags(fs *pflag.FlagSet) {
	for _, c := range []struct {
		f    *connFlags
		name string
		what string
	}{{&a.Ctl, "ctl", "control interface"}, {&a.RPC, "rpc", "rpc (providers, wRPC)"}} {
		n := c.name
		fs.StringVar(&c.f.Host, n+"-host", "", "NATS host of the "+c.what+" connection (default --nats-host; user:password@host authenticates)")
		fs.IntVar(&c.f.Port, n+"-port", 0, "NATS port of the "+c.what+" connection (default --nats-port)")
		fs.StringVar(&c.f.JWT, n+"-jwt", "", "NATS user JWT of the "+c.what+" connection, literal or file (with --"+n+"-seed)")
		fs.StringVar(&c.f.Seed, n+"-seed", "", "NATS user nkey seed of the "+c.what+" connection, literal or file (with --"+n+"-jwt)")
		fs.StringVar(&c.f.CredsFile, n+"-credsfile", "", "NATS credentials file (JWT and seed) of the "+c.what+" connection")
		fs.BoolVar(&c.f.TLS, n+"-tls", false, "require TLS on the "+c.what+" connection")
		fs.BoolVar(&c.f.TLSFirst, n+"-tls-first", false, "start TLS before the NATS handshake on the "+c.what+" connection")
		fs.StringVar(&c.f.TLSCAFile, n+"-tls-ca-file", "", "CA certificate that signed the NATS server's certificate ("+c.what+" connection)")
	}
	fs.IntVar(&a.RPCTimeoutMs, "rpc-timeout-ms", 2000, "timeout of rpc requests (provider health checks), also given to providers")
}

// authEnv are the environment variables upstream reads for these flags.
var authEnv = map[string]string{
	"ctl-host": "WASMCLOUD_CTL_HOST", "ctl-port": "WASMCLOUD_CTL_PORT", "ctl-jwt": "WASMCLOUD_CTL_JWT",
	"ctl-seed": "WASMCLOUD_CTL_SEED", "ctl-credsfile": "WASMCLOUD_CTL_CREDSFILE", "ctl-tls": "WASMCLOUD_CTL_TLS",
	"ctl-tls-first": "WASMCLOUD_CTL_TLS_FIRST", "ctl-tls-ca-file": "WASMCLOUD_CTL_TLS_CA_FILE",
	"rpc-host": "WASMCLOUD_RPC_HOST", "rpc-port": "WASMCLOUD_RPC_PORT", "rpc-jwt": "WASMCLOUD_RPC_JWT",
	"rpc-seed": "WASMCLOUD_RPC_SEED", "rpc-credsfile": "WASMCLOUD_RPC_CREDSFILE", "rpc-tls": "WASMCLOUD_RPC_TLS",
	"rpc-tls-first": "WASMCLOUD_RPC_TLS_FIRST", "rpc-tls-ca-file": "WASMCLOUD_RPC_TLS_CA_FILE",
	"rpc-timeout-ms": "WASMCLOUD_RPC_TIMEOUT_MS",
}

// validate checks the flag combinations upstream's clap rules enforce, with one-line errors.
func (a *NATSAuth) validate() error {
	for _, c := range []struct {
		f    connFlags
		name string
	}{{a.Ctl, "ctl"}, {a.RPC, "rpc"}} {
		n := c.name
		if (c.f.JWT == "") != (c.f.Seed == "") {
			return cli.Usage(fmt.Errorf("--%s-jwt and --%s-seed go together (a user JWT and the nkey seed that signs for it); or use --%s-credsfile", n, n, n))
		}
		if c.f.CredsFile != "" && c.f.JWT != "" {
			return cli.Usage(fmt.Errorf("--%s-credsfile already holds a JWT and seed: drop --%s-jwt/--%s-seed", n, n, n))
		}
		if c.f.CredsFile != "" {
			if _, err := os.Stat(c.f.CredsFile); err != nil {
				return cli.Usage(fmt.Errorf("--%s-credsfile %s: %v", n, c.f.CredsFile, errors.Unwrap(err)))
			}
		}
		if c.f.TLSCAFile != "" {
			if _, err := os.Stat(c.f.TLSCAFile); err != nil {
				return cli.Usage(fmt.Errorf("--%s-tls-ca-file %s: %v", n, c.f.TLSCAFile, errors.Unwrap(err)))
			}
		}
		if c.f.Port < 0 || c.f.Port > 65535 {
			return cli.Usage(fmt.Errorf("invalid --%s-port %d: use a port between 1 and 65535", n, c.f.Port))
		}
	}
	if a.RPCTimeoutMs <= 0 {
		return cli.Usage(fmt.Errorf("invalid --rpc-timeout-ms %d: must be positive", a.RPCTimeoutMs))
	}
	return nil
}

// resolved turns one connection's flags into connection settings, defaulting the address to
// the NATS one. The rpc connection falls back to the control connection's credentials and TLS
// settings when it has none of its own: one NATS user for the whole host is the common case.
func (o *Options) resolved(f, fallback connFlags) conn.Resolved {
	r := conn.Resolved{Host: f.Host, Port: f.Port, Timeout: 5 * time.Second, JWT: f.JWT, Seed: f.Seed,
		CredsFile: f.CredsFile, TLS: f.TLS, TLSFirst: f.TLSFirst, TLSCAFile: f.TLSCAFile, Lattice: o.Lattice}
	if r.Host == "" {
		r.Host = o.NATSHost
	}
	if r.Port == 0 {
		r.Port = o.NATSPort
	}
	if r.JWT == "" && r.CredsFile == "" {
		r.JWT, r.Seed, r.CredsFile = fallback.JWT, fallback.Seed, fallback.CredsFile
	}
	if !r.TLS && !r.TLSFirst && r.TLSCAFile == "" {
		r.TLS, r.TLSFirst, r.TLSCAFile = fallback.TLS, fallback.TLSFirst, fallback.TLSCAFile
	}
	if _, user, _ := conn.SplitUserInfo(r.Host); user == "" {
		// user:password@ given once (usually in --nats-host) applies to both connections
		if _, fu, fp := conn.SplitUserInfo(fallback.Host); fu != "" && f.Host == "" {
			r.Host = fu + ":" + fp + "@" + r.Host
		}
	}
	return r
}

// ctlConn and rpcConn are the settings of the host's two connections.
func (o *Options) ctlConn() conn.Resolved { return o.resolved(o.Auth.Ctl, connFlags{}) }

func (o *Options) rpcConn() conn.Resolved {
	ctl := o.Auth.Ctl
	ctl.Host = o.ctlConn().Host
	return o.resolved(o.Auth.RPC, ctl)
}

// sameConn reports whether two settings can share one connection.
func sameConn(a, b conn.Resolved) bool {
	return a.URL() == b.URL() && a.Host == b.Host && a.JWT == b.JWT && a.Seed == b.Seed &&
		a.CredsFile == b.CredsFile && a.TLS == b.TLS && a.TLSFirst == b.TLSFirst && a.TLSCAFile == b.TLSCAFile
}

// dialHost opens a long-lived host connection: it reconnects forever.
func dialHost(r conn.Resolved, name string, extra ...nats.Option) (*nats.Conn, error) {
	return r.Connect(name, append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}, extra...)...)
}
