// Package conn resolves how a command reaches the lattice (flag > environment > context >
// default, the same for every command) and opens the NATS connection.
package conn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/spf13/pflag"

	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/lattice/ctl"
)

// Options are the connection flags shared by lattice commands (upstream's CliConnectionOpts).
type Options struct {
	CtlHost   string
	CtlPort   int
	Lattice   string
	TimeoutMs int
	Context   string
	CredsFile string
	JWT       string
	Seed      string
	TLSCAFile string
	TLSFirst  bool
	JSDomain  string

	fs *pflag.FlagSet
}

// AddFlags registers the connection flags on a command.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.fs = fs
	fs.StringVarP(&o.CtlHost, "ctl-host", "r", "", "NATS host of the control interface (env WASMCLOUD_CTL_HOST; default 127.0.0.1)")
	fs.IntVarP(&o.CtlPort, "ctl-port", "p", 0, "NATS port of the control interface (env WASMCLOUD_CTL_PORT; default 4222)")
	fs.StringVarP(&o.Lattice, "lattice", "x", "", "lattice name (env WASMCLOUD_LATTICE; default \"default\")")
	fs.IntVarP(&o.TimeoutMs, "timeout-ms", "t", 0, "request timeout in milliseconds (env WASMCLOUD_CTL_TIMEOUT_MS; default 2000)")
	fs.StringVar(&o.Context, "context", "", "context to take connection settings from (default: the default context)")
	fs.StringVar(&o.CredsFile, "ctl-credsfile", "", "NATS credentials file (env WASH_CTL_CREDS)")
	fs.StringVar(&o.JWT, "ctl-jwt", "", "NATS user JWT, literal or file path (env WASMCLOUD_CTL_JWT)")
	fs.StringVar(&o.Seed, "ctl-seed", "", "NATS user nkey seed, literal or file path (env WASMCLOUD_CTL_SEED)")
	fs.StringVar(&o.TLSCAFile, "ctl-tls-ca-file", "", "CA certificate for a TLS connection to NATS (env WASH_CTL_TLS_CA_FILE)")
	fs.BoolVar(&o.TLSFirst, "ctl-tls-first", false, "start TLS before the NATS handshake (env WASH_CTL_TLS_FIRST)")
	fs.StringVar(&o.JSDomain, "js-domain", "", "JetStream domain (env WASMCLOUD_JS_DOMAIN)")
}

// FromFlagSet rebuilds the options from a flag set that AddFlags populated (and that cobra has
// parsed), so code that holds only a command can resolve its connection exactly as it would.
func FromFlagSet(fs *pflag.FlagSet) *Options {
	o := &Options{fs: fs}
	str := func(name string) string { v, _ := fs.GetString(name); return v }
	num := func(name string) int { v, _ := fs.GetInt(name); return v }
	o.CtlHost, o.CtlPort, o.Lattice, o.TimeoutMs = str("ctl-host"), num("ctl-port"), str("lattice"), num("timeout-ms")
	o.Context, o.CredsFile, o.JWT, o.Seed = str("context"), str("ctl-credsfile"), str("ctl-jwt"), str("ctl-seed")
	o.TLSCAFile, o.JSDomain = str("ctl-tls-ca-file"), str("js-domain")
	o.TLSFirst, _ = fs.GetBool("ctl-tls-first")
	return o
}

// Dial resolves the options, connects and returns a control client for the lattice.
func (o *Options) Dial(d home.Dir, name string) (*ctl.Client, *nats.Conn, Resolved, error) {
	r, err := o.Resolve(d)
	if err != nil {
		return nil, nil, r, err
	}
	c, nc, err := r.Client(name)
	return c, nc, r, err
}

// Resolved is the outcome of resolution.
type Resolved struct {
	Host      string
	Port      int
	Lattice   string
	Timeout   time.Duration
	JSDomain  string
	CredsFile string
	JWT       string
	Seed      string
	TLSCAFile string
	TLSFirst  bool
	// TLS requires TLS even without a CA file or TLS-first (wash up --ctl-tls/--rpc-tls).
	TLS     bool
	Context string
}

// URL is nats://host:port (credentials in a user:pass@ host are left out).
func (r Resolved) URL() string {
	h, _, _ := SplitUserInfo(r.Host)
	return "nats://" + net.JoinHostPort(h, strconv.Itoa(r.Port))
}

// URLWithUser is URL with the user:password@ of the host kept (escaped), and tls:// when TLS is
// required: the form a native provider gets as lattice_rpc_url, whose SDK parses both.
func (r Resolved) URLWithUser() string {
	h, user, pass := SplitUserInfo(r.Host)
	u := url.URL{Scheme: "nats", Host: net.JoinHostPort(h, strconv.Itoa(r.Port))}
	if r.TLS || r.TLSCAFile != "" || r.TLSFirst {
		u.Scheme = "tls"
	}
	if user != "" {
		u.User = url.UserPassword(user, pass)
	}
	return u.String()
}

// UserJWTAndSeed returns the user JWT and nkey seed these settings authenticate with (read from
// the creds file, or the --*-jwt/--*-seed values, literal or file), or two empty strings.
func (r Resolved) UserJWTAndSeed() (jwt, seed string, err error) {
	switch {
	case r.JWT != "" && r.Seed != "":
		return literalOrFile(r.JWT), literalOrFile(r.Seed), nil
	case r.CredsFile != "":
		b, err := os.ReadFile(r.CredsFile)
		if err != nil {
			return "", "", fmt.Errorf("reading credentials file: %w", err)
		}
		if jwt, err = nkeys.ParseDecoratedJWT(b); err != nil {
			return "", "", fmt.Errorf("credentials file %s: %w", r.CredsFile, err)
		}
		kp, err := nkeys.ParseDecoratedNKey(b)
		if err != nil {
			return "", "", fmt.Errorf("credentials file %s: %w", r.CredsFile, err)
		}
		s, err := kp.Seed()
		if err != nil {
			return "", "", fmt.Errorf("credentials file %s: %w", r.CredsFile, err)
		}
		return jwt, string(s), nil
	}
	return "", "", nil
}

func (o *Options) changed(name string) bool { return o.fs != nil && o.fs.Changed(name) }

// Resolve applies flag > environment > context > default to every field.
func (o *Options) Resolve(d home.Dir) (Resolved, error) {
	store := StoreFor(d)
	cx, err := store.Load(o.Context)
	if err != nil {
		return Resolved{}, err
	}
	r := Resolved{Context: cx.Name}
	str := func(flag, flagVal, env, ctxVal, def string) string {
		if o.changed(flag) {
			return flagVal
		}
		if v, ok := os.LookupEnv(env); ok && v != "" {
			return v
		}
		if ctxVal != "" {
			return ctxVal
		}
		return def
	}
	num := func(flag string, flagVal int, env string, ctxVal, def int) (int, error) {
		if o.changed(flag) {
			return flagVal, nil
		}
		if v, ok := os.LookupEnv(env); ok && v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return 0, fmt.Errorf("%s=%q is not a number", env, v)
			}
			return n, nil
		}
		if ctxVal != 0 {
			return ctxVal, nil
		}
		return def, nil
	}
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	r.Host = str("ctl-host", o.CtlHost, "WASMCLOUD_CTL_HOST", cx.CtlHost, "127.0.0.1")
	if r.Port, err = num("ctl-port", o.CtlPort, "WASMCLOUD_CTL_PORT", cx.CtlPort, 4222); err != nil {
		return r, err
	}
	if r.Port <= 0 || r.Port > 65535 {
		return r, fmt.Errorf("invalid --ctl-port %d: use a port between 1 and 65535", r.Port)
	}
	r.Lattice = str("lattice", o.Lattice, "WASMCLOUD_LATTICE", cx.Lattice, ctl.DefaultLattice)
	if err := ctl.CheckLatticeName(r.Lattice); err != nil {
		return r, err
	}
	ms, err := num("timeout-ms", o.TimeoutMs, "WASMCLOUD_CTL_TIMEOUT_MS", cx.CtlTimeout, 2000)
	if err != nil {
		return r, err
	}
	if ms <= 0 {
		return r, fmt.Errorf("invalid --timeout-ms %d: must be positive", ms)
	}
	r.Timeout = time.Duration(ms) * time.Millisecond
	r.JSDomain = str("js-domain", o.JSDomain, "WASMCLOUD_JS_DOMAIN", deref(cx.JSDomain), "")
	r.CredsFile = str("ctl-credsfile", o.CredsFile, "WASH_CTL_CREDS", deref(cx.CtlCredsfile), "")
	r.JWT = str("ctl-jwt", o.JWT, "WASMCLOUD_CTL_JWT", cx.CtlJWT, "")
	r.Seed = str("ctl-seed", o.Seed, "WASMCLOUD_CTL_SEED", cx.CtlSeed, "")
	r.TLSCAFile = str("ctl-tls-ca-file", o.TLSCAFile, "WASH_CTL_TLS_CA_FILE", deref(cx.CtlTLSCAFile), "")
	tlsFirst := ""
	if cx.CtlTLSFirst != nil {
		tlsFirst = strconv.FormatBool(*cx.CtlTLSFirst)
	}
	tf := str("ctl-tls-first", strconv.FormatBool(o.TLSFirst), "WASH_CTL_TLS_FIRST", tlsFirst, "false")
	r.TLSFirst, _ = strconv.ParseBool(tf)
	return r, nil
}

// literalOrFile returns the file's contents when v names a readable file, else v itself.
func literalOrFile(v string) string {
	if b, err := os.ReadFile(v); err == nil {
		return strings.TrimSpace(string(b))
	}
	return v
}

// SplitUserInfo separates a "user:pass@host" NATS host (upstream accepts credentials embedded in
// the host string) into the host and its credentials.
func SplitUserInfo(host string) (h, user, pass string) {
	i := strings.LastIndex(host, "@")
	if i < 0 {
		return host, "", ""
	}
	cred := host[:i]
	user, pass, _ = strings.Cut(cred, ":")
	return host[i+1:], user, pass
}

// NATSOptions turns the resolved auth and TLS settings into nats.go options. Auth order is
// upstream's: JWT (with the seed; a JWT alone is signed by a throwaway key), then a bare nkey
// seed, then a creds file, then user:pass@ in the host, then anonymous.
func (r Resolved) NATSOptions(name string) ([]nats.Option, error) {
	opts := []nats.Option{nats.Name(name), nats.Timeout(r.Timeout)}
	_, user, pass := SplitUserInfo(r.Host)
	switch {
	case r.JWT != "":
		jwt := literalOrFile(r.JWT)
		var kp nkeys.KeyPair
		var err error
		if r.Seed != "" {
			kp, err = nkeys.FromSeed([]byte(literalOrFile(r.Seed)))
			if err != nil {
				return nil, fmt.Errorf("invalid --ctl-seed: %v (expected an nkey user seed SU… or a file holding one)", err)
			}
		} else if kp, err = nkeys.CreateUser(); err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserJWT(
			func() (string, error) { return jwt, nil },
			func(nonce []byte) ([]byte, error) { return kp.Sign(nonce) }))
	case r.Seed != "":
		kp, err := nkeys.FromSeed([]byte(literalOrFile(r.Seed)))
		if err != nil {
			return nil, fmt.Errorf("invalid --ctl-seed: %v (expected an nkey user seed SU… or a file holding one)", err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("invalid --ctl-seed: %v", err)
		}
		opts = append(opts, nats.Nkey(pub, kp.Sign))
	case r.CredsFile != "":
		opts = append(opts, nats.UserCredentials(r.CredsFile))
	case user != "":
		opts = append(opts, nats.UserInfo(user, pass))
	}
	var tlsCfg *tls.Config
	if r.TLSCAFile != "" {
		pem, err := os.ReadFile(r.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("reading --ctl-tls-ca-file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ctl-tls-ca-file %s holds no PEM certificate", r.TLSCAFile)
		}
		tlsCfg = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	if tlsCfg == nil && (r.TLSFirst || r.TLS) {
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if r.TLSFirst {
		opts = append(opts, nats.TLSHandshakeFirst())
	}
	if tlsCfg != nil {
		// One Secure option: a later Secure would replace the CA pool set by an earlier one.
		opts = append(opts, nats.Secure(tlsCfg))
	}
	return opts, nil
}

// Connect opens the NATS connection, with a one-line error that names the server and what to do.
func (r Resolved) Connect(name string, extra ...nats.Option) (*nats.Conn, error) {
	url := r.URL()
	if r.CredsFile != "" && r.JWT == "" && r.Seed == "" {
		if _, err := os.Stat(r.CredsFile); err != nil {
			return nil, fmt.Errorf("cannot connect to NATS at %s: credentials file %s: %v", url, r.CredsFile, errors.Unwrap(err))
		}
	}
	opts, err := r.NATSOptions(name)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to NATS at %s: %w", url, err)
	}
	nc, err := nats.Connect(url, append(opts, extra...)...)
	if err != nil {
		return nil, ConnectError(url, err)
	}
	return nc, nil
}

// ConnectError explains a failed NATS connection in one line.
func ConnectError(url string, err error) error {
	msg := strings.ToLower(err.Error())
	switch {
	case errors.Is(err, nats.ErrNoServers) || strings.Contains(msg, "connection refused"):
		return fmt.Errorf("cannot connect to NATS at %s: nothing is listening there; start a lattice with `wash up` or point --ctl-host/--ctl-port at your NATS", url)
	case errors.Is(err, nats.ErrAuthorization) || strings.Contains(msg, "authorization") || strings.Contains(msg, "authentication"):
		return fmt.Errorf("NATS at %s refused the credentials (authorization violation): check --ctl-credsfile, --ctl-jwt/--ctl-seed or user:pass@ in --ctl-host", url)
	case errors.Is(err, nats.ErrAuthExpired):
		return fmt.Errorf("NATS at %s refused the credentials: the user JWT has expired", url)
	case strings.Contains(msg, "certificate") || strings.Contains(msg, "x509") || strings.Contains(msg, "tls"):
		return fmt.Errorf("cannot connect to NATS at %s: TLS failed (%v): check --ctl-tls-ca-file and --ctl-tls-first", url, err)
	case errors.Is(err, nats.ErrTimeout) || strings.Contains(msg, "timeout"):
		return fmt.Errorf("cannot connect to NATS at %s: timed out (%v); if the server wants TLS first, pass --ctl-tls-first", url, err)
	}
	return fmt.Errorf("cannot connect to NATS at %s: %v", url, err)
}

// Client connects and returns a control-interface client for the resolved lattice.
func (r Resolved) Client(name string) (*ctl.Client, *nats.Conn, error) {
	nc, err := r.Connect(name)
	if err != nil {
		return nil, nil, err
	}
	return ctl.NewClient(nc, ctl.ClientOptions{Lattice: r.Lattice, TopicPrefix: ctl.TopicPrefixFromEnv(), Timeout: r.Timeout}), nc, nil
}

// Changed reports whether any flag that locates NATS was given explicitly.
func (o *Options) Changed() bool {
	return o.changed("ctl-host") || o.changed("ctl-port") || o.changed("context")
}
