// Package wadm is `wash wadm`: the wadm reconciler and API server alone, as a long-running
// service against an existing NATS system (no embedded NATS, no host). Its options are
// upstream wadm's, each a flag and an environment variable with upstream's names and defaults.
package wadm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/lattice/buckets"
	lwadm "github.com/wasmlattice/wash/lattice/wadm"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// Defaults, as upstream wadm's (crates/wadm/src/config.rs).
const (
	DefaultNATSServer      = "127.0.0.1:4222"
	DefaultCleanupInterval = 70
	DefaultTracingEndpoint = "http://localhost:4318/v1/traces"
)

// Options are upstream wadm's command-line options (plus --stream-replicas, which upstream
// lacks: it always creates replicas 1).
type Options struct {
	HostID            string
	StructuredLogging bool
	Tracing           bool
	TracingEndpoint   string
	JSDomain          string
	MaxJobs           int
	NATSServer        string
	NATSSeed          string
	NATSJWT           string
	NATSCredsFile     string
	NATSTLSCAFile     string
	StateBucket       string
	ManifestBucket    string
	CleanupInterval   int
	APIPrefix         string
	StreamPersistence string
	StreamReplicas    int
}

// EnvBindings maps each flag to its environment variable (upstream's names).
var EnvBindings = map[string]string{
	"host-id":              "WADM_HOST_ID",
	"structured-logging":   "WADM_STRUCTURED_LOGGING",
	"tracing":              "WADM_TRACING_ENABLED",
	"tracing-endpoint":     "WADM_TRACING_ENDPOINT",
	"jetstream-domain":     "WADM_JETSTREAM_DOMAIN",
	"max-jobs":             "WADM_MAX_JOBS",
	"nats-server":          "WADM_NATS_SERVER",
	"nats-seed":            "WADM_NATS_NKEY",
	"nats-jwt":             "WADM_NATS_JWT",
	"nats-creds-file":      "WADM_NATS_CREDS_FILE",
	"nats-tls-ca-file":     "WADM_NATS_TLS_CA_FILE",
	"state-bucket-name":    "WADM_STATE_BUCKET_NAME",
	"manifest-bucket-name": "WADM_MANIFEST_BUCKET_NAME",
	"cleanup-interval":     "WADM_CLEANUP_INTERVAL",
	"api-prefix":           "WADM_API_PREFIX",
	"stream-persistence":   "WADM_STREAM_PERSISTENCE",
	"stream-replicas":      "WADM_STREAM_REPLICAS",
}

// NewCmd builds `wash wadm`.
func NewCmd(env *cli.Env) *cobra.Command {
	return newCmd(env, func(ctx context.Context, o *Options) error { return Run(ctx, env, o) })
}

func newCmd(env *cli.Env, run func(context.Context, *Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "wadm",
		Short: "Run wadm (the application deployment manager) as a service on an existing NATS",
		Long: `Run wadm alone: the wadm API server and reconciler, connected to an existing NATS system
with JetStream. No NATS server and no host are started.

One wadm manages every lattice whose host events it can read (wasmbus.evt.*). Any number of
wadm processes may run against the same NATS system: they share the work through JetStream
consumers, so each event and command is handled once, and the survivors finish what a
stopped process left. Runs until SIGINT or SIGTERM.

Every option can also be set with the environment variable shown (flags win).`,
		Example: `  wash wadm
  wash wadm -s nats://nats-1:4222,nats://nats-2:4222 --nats-creds-file /etc/wadm/wadm.creds
  WADM_STRUCTURED_LOGGING=true WADM_JETSTREAM_DOMAIN=hub wash wadm`,
		Args: cli.Args(cobra.NoArgs),
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return cli.BindEnv(cmd.Flags(), EnvBindings)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.HostID, "host-id", "i", "", "id of this wadm process, for logs and traces (env WADM_HOST_ID; default a random UUIDv4)")
	fs.BoolVarP(&o.StructuredLogging, "structured-logging", "l", false, "log as JSON lines (env WADM_STRUCTURED_LOGGING)")
	fs.BoolVarP(&o.Tracing, "tracing", "t", false, "export OpenTelemetry traces over OTLP/HTTP (env WADM_TRACING_ENABLED)")
	fs.StringVarP(&o.TracingEndpoint, "tracing-endpoint", "e", "", "OTLP/HTTP traces endpoint; setting it enables tracing (env WADM_TRACING_ENDPOINT; default "+DefaultTracingEndpoint+")")
	fs.StringVarP(&o.JSDomain, "jetstream-domain", "d", "", "JetStream domain of wadm's streams and buckets (env WADM_JETSTREAM_DOMAIN)")
	fs.IntVarP(&o.MaxJobs, "max-jobs", "j", 0, "most events and commands handled at once (env WADM_MAX_JOBS; default no limit)")
	fs.StringVarP(&o.NATSServer, "nats-server", "s", DefaultNATSServer, "NATS server to connect to; several as a comma-separated list (env WADM_NATS_SERVER)")
	fs.StringVar(&o.NATSSeed, "nats-seed", "", "nkey seed, literal or file, for NATS authentication; needs --nats-jwt (env WADM_NATS_NKEY)")
	fs.StringVar(&o.NATSJWT, "nats-jwt", "", "user JWT, literal or file, for NATS authentication; needs --nats-seed (env WADM_NATS_JWT)")
	fs.StringVar(&o.NATSCredsFile, "nats-creds-file", "", "NATS credentials file (env WADM_NATS_CREDS_FILE)")
	fs.StringVar(&o.NATSTLSCAFile, "nats-tls-ca-file", "", "CA certificate for TLS to NATS; makes TLS required (env WADM_NATS_TLS_CA_FILE)")
	fs.StringVar(&o.StateBucket, "state-bucket-name", buckets.WadmState, "KV bucket of lattice state (env WADM_STATE_BUCKET_NAME)")
	fs.StringVar(&o.ManifestBucket, "manifest-bucket-name", buckets.WadmManifests, "KV bucket of manifests (env WADM_MANIFEST_BUCKET_NAME)")
	fs.IntVar(&o.CleanupInterval, "cleanup-interval", DefaultCleanupInterval, "seconds a host may miss heartbeats before it is removed from the state (env WADM_CLEANUP_INTERVAL)")
	fs.StringVar(&o.APIPrefix, "api-prefix", model.DefaultAPIPrefix, "subject prefix of the wadm API (env WADM_API_PREFIX)")
	fs.StringVar(&o.StreamPersistence, "stream-persistence", "file", "storage of the streams and buckets wadm creates: file or memory (env WADM_STREAM_PERSISTENCE)")
	fs.IntVar(&o.StreamReplicas, "stream-replicas", 0, "replicas of the streams and buckets wadm creates, 1-5 (env WADM_STREAM_REPLICAS; default min(3, cluster size)); existing ones are used as they are")
	return cmd
}

// Settings is what validated options turn into.
type Settings struct {
	Config lwadm.Config
	// Servers are the NATS URLs to try.
	Servers []string
	// NATS holds the authentication and TLS options.
	NATS []nats.Option
	// TracingEndpoint is the OTLP/HTTP URL; empty when tracing is off.
	TracingEndpoint string
}

// Settings validates the options. Errors are one line naming the option.
func (o *Options) Settings() (*Settings, error) {
	s := &Settings{}
	bad := func(flag, format string, args ...any) error {
		return cli.Usage(fmt.Errorf("invalid --%s (env %s): %s", flag, EnvBindings[flag], fmt.Sprintf(format, args...)))
	}
	if o.CleanupInterval <= 0 {
		return nil, bad("cleanup-interval", "%d: expected a positive number of seconds, such as 70", o.CleanupInterval)
	}
	if o.MaxJobs < 0 {
		return nil, bad("max-jobs", "%d: expected a positive number (or 0 for no limit)", o.MaxJobs)
	}
	if o.StreamReplicas < 0 || o.StreamReplicas > 5 {
		return nil, bad("stream-replicas", "%d: expected 1 to 5 (or 0 for min(3, cluster size))", o.StreamReplicas)
	}
	memory := false
	switch strings.ToLower(strings.TrimSpace(o.StreamPersistence)) {
	case "file":
	case "memory":
		memory = true
	default:
		return nil, bad("stream-persistence", "%q: expected file or memory", o.StreamPersistence)
	}
	prefix := strings.Trim(strings.TrimSpace(o.APIPrefix), ".")
	if prefix == "" || strings.ContainsAny(prefix, " \t*>") {
		return nil, bad("api-prefix", "%q: expected a subject prefix such as wadm.api", o.APIPrefix)
	}
	for flag, v := range map[string]string{"state-bucket-name": o.StateBucket, "manifest-bucket-name": o.ManifestBucket} {
		if !validBucket(v) {
			return nil, bad(flag, "%q: a bucket name uses only letters, digits, '-' and '_'", v)
		}
	}
	if o.JSDomain != "" && (strings.ContainsAny(o.JSDomain, " .*>\t")) {
		return nil, bad("jetstream-domain", "%q: a domain name has no spaces, dots or wildcards", o.JSDomain)
	}
	servers, err := natsURLs(o.NATSServer)
	if err != nil {
		return nil, bad("nats-server", "%v", err)
	}
	s.Servers = servers

	// Credentials: seed and JWT together, or a creds file, or neither (upstream's rules).
	switch {
	case o.NATSCredsFile != "" && (o.NATSSeed != "" || o.NATSJWT != ""):
		return nil, cli.Usage(errors.New("--nats-creds-file (WADM_NATS_CREDS_FILE) cannot be combined with --nats-seed/--nats-jwt (WADM_NATS_NKEY/WADM_NATS_JWT): give a creds file or a seed and a JWT"))
	case (o.NATSSeed == "") != (o.NATSJWT == ""):
		return nil, cli.Usage(errors.New("--nats-seed (WADM_NATS_NKEY) and --nats-jwt (WADM_NATS_JWT) go together: give both, or use --nats-creds-file"))
	case o.NATSCredsFile != "":
		if _, err := os.ReadFile(o.NATSCredsFile); err != nil {
			return nil, bad("nats-creds-file", "cannot read %s: %v", o.NATSCredsFile, unwrapPath(err))
		}
		s.NATS = append(s.NATS, nats.UserCredentials(o.NATSCredsFile))
	case o.NATSSeed != "":
		seed, err := literalOrFile(o.NATSSeed, func(v string) bool { return len(v) == 58 && strings.HasPrefix(v, "S") })
		if err != nil {
			return nil, bad("nats-seed", "%v", err)
		}
		kp, err := nkeys.FromSeed([]byte(seed))
		if err != nil {
			return nil, bad("nats-seed", "not an nkey seed (%v)", err)
		}
		jwt, err := literalOrFile(o.NATSJWT, func(v string) bool { return strings.Count(v, ".") == 2 && !strings.ContainsAny(v, "/\\") })
		if err != nil {
			return nil, bad("nats-jwt", "%v", err)
		}
		s.NATS = append(s.NATS, nats.UserJWT(func() (string, error) { return jwt, nil },
			func(nonce []byte) ([]byte, error) { return kp.Sign(nonce) }))
	}
	if o.NATSTLSCAFile != "" {
		pem, err := os.ReadFile(o.NATSTLSCAFile)
		if err != nil {
			return nil, bad("nats-tls-ca-file", "cannot read %s: %v", o.NATSTLSCAFile, unwrapPath(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, bad("nats-tls-ca-file", "%s holds no PEM certificate", o.NATSTLSCAFile)
		}
		s.NATS = append(s.NATS, nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}

	if o.TracingEndpoint != "" || o.Tracing {
		ep := o.TracingEndpoint
		if ep == "" {
			ep = DefaultTracingEndpoint
		}
		u, err := url.Parse(ep)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, bad("tracing-endpoint", "%q: expected an http(s) URL such as %s", ep, DefaultTracingEndpoint)
		}
		s.TracingEndpoint = ep
	}
	hostID := strings.TrimSpace(o.HostID)
	if hostID == "" {
		hostID = uuid.NewString()
	}
	s.Config = lwadm.Config{
		APIPrefix:      prefix,
		HostExpiry:     time.Duration(o.CleanupInterval) * time.Second,
		MemoryStorage:  memory,
		ManifestBucket: o.ManifestBucket,
		StateBucket:    o.StateBucket,
		JSDomain:       o.JSDomain,
		StreamReplicas: o.StreamReplicas,
		MaxJobs:        o.MaxJobs,
		HostID:         hostID,
	}
	return s, nil
}

func validBucket(b string) bool {
	if b == "" {
		return false
	}
	for _, r := range b {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// natsURLs turns "host:port[,nats://host:port…]" into URLs nats.go accepts.
func natsURLs(v string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "://") {
			p = "nats://" + p
		}
		u, err := url.Parse(p)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("%q: expected host:port or nats://host:port", p)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("empty: expected host:port such as " + DefaultNATSServer)
	}
	return out, nil
}

// literalOrFile returns v when it looks like the literal (upstream's test), else the contents of
// the file v names.
func literalOrFile(v string, literal func(string) bool) (string, error) {
	if literal(v) {
		return v, nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return "", fmt.Errorf("neither a literal value nor a readable file: %v", unwrapPath(err))
	}
	return strings.TrimSpace(string(b)), nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Run runs wadm until ctx ends or SIGINT/SIGTERM arrives.
func Run(ctx context.Context, env *cli.Env, o *Options) error {
	s, err := o.Settings()
	if err != nil {
		return err
	}
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	logger := newLogger(env.IO.Err, o.StructuredLogging)
	s.Config.Logger = logger

	if s.TracingEndpoint != "" {
		tp, err := newTracerProvider(ctx, s.TracingEndpoint, s.Config.HostID, env.Version)
		if err != nil {
			return fmt.Errorf("invalid --tracing-endpoint (env WADM_TRACING_ENDPOINT): %w", err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = tp.Shutdown(sctx)
		}()
		s.Config.TracerProvider = tp
	}

	closed := make(chan struct{}, 1)
	nc, err := connect(s, logger, closed)
	if err != nil {
		return err
	}
	defer func() { nc.Close() }()
	if err := checkJetStream(ctx, nc, s.Config.JSDomain); err != nil {
		return err
	}
	w, err := lwadm.Run(ctx, nc, s.Config)
	if err != nil {
		return err
	}
	logger.Info("wadm started", "nats", nc.ConnectedUrlRedacted(), "api_prefix", s.Config.APIPrefix, "js_domain", s.Config.JSDomain)
	for {
		select {
		case <-ctx.Done():
			logger.Info("wadm stopping")
			w.Stop()
			if err := nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
				logger.Warn("draining the NATS connection failed", "err", err)
			}
			logger.Info("wadm stopped")
			return nil
		case <-closed:
		}
		// The client gave the connection up for good (the server closed it after a protocol
		// error, or refused the credentials twice): wadm keeps its state in JetStream, so a new
		// connection and a new run pick up where this one stopped.
		logger.Error("lost the NATS connection for good; reconnecting", "err", nc.LastError())
		w.Stop()
		if nc, w = rerun(ctx, s, logger, closed); w == nil {
			return nil // stopped while reconnecting
		}
		logger.Info("wadm started again", "nats", nc.ConnectedUrlRedacted())
	}
}

// rerun connects and starts wadm again, retrying with backoff until it works or ctx ends.
func rerun(ctx context.Context, s *Settings, logger *slog.Logger, closed chan struct{}) (*nats.Conn, *lwadm.Wadm) {
	wait := time.Second
	for {
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
		nc, err := connect(s, logger, closed)
		if err != nil {
			logger.Warn("reconnecting to NATS failed", "err", err)
			continue
		}
		w, err := lwadm.Run(ctx, nc, s.Config)
		if err != nil {
			nc.Close()
			logger.Warn("starting wadm again failed", "err", err)
			continue
		}
		return nc, w
	}
}

func newLogger(w io.Writer, structured bool) *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("WADM_DEBUG") != "" {
		level = slog.LevelDebug
	}
	hopts := &slog.HandlerOptions{Level: level}
	if structured {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}

// connect dials NATS; closed receives a value when the client gives the connection up for good.
func connect(s *Settings, logger *slog.Logger, closed chan struct{}) (*nats.Conn, error) {
	opts := append([]nats.Option{
		nats.ClosedHandler(func(*nats.Conn) {
			select {
			case closed <- struct{}{}:
			default:
			}
		}),
		nats.Name("wadm-" + s.Config.HostID),
		nats.Timeout(5 * time.Second),
		// A service keeps trying: NATS nodes restart and clusters fail over.
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				logger.Warn("disconnected from NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { logger.Info("reconnected to NATS", "server", nc.ConnectedUrlRedacted()) }),
	}, s.NATS...)
	nc, err := nats.Connect(strings.Join(s.Servers, ","), opts...)
	if err != nil {
		where := strings.Join(s.Servers, ",")
		msg := strings.ToLower(err.Error())
		switch {
		case errors.Is(err, nats.ErrNoServers) || strings.Contains(msg, "connection refused"):
			return nil, fmt.Errorf("cannot connect to NATS at %s: nothing is listening there; check --nats-server (WADM_NATS_SERVER)", where)
		case strings.Contains(msg, "authorization") || strings.Contains(msg, "authentication"):
			return nil, fmt.Errorf("NATS at %s refused the credentials: check --nats-creds-file or --nats-seed/--nats-jwt", where)
		case strings.Contains(msg, "tls") || strings.Contains(msg, "x509") || strings.Contains(msg, "certificate"):
			return nil, fmt.Errorf("cannot connect to NATS at %s: TLS failed (%v); check --nats-tls-ca-file", where, err)
		}
		return nil, fmt.Errorf("cannot connect to NATS at %s: %v", where, err)
	}
	return nc, nil
}

// checkJetStream turns "no JetStream here" into a one-line error naming the option to fix.
func checkJetStream(ctx context.Context, nc *nats.Conn, domain string) error {
	js, err := buckets.JetStream(nc, domain)
	if err != nil {
		return err
	}
	// A JetStream leader election (a node just restarted) can take a few seconds.
	var last error
	for range 5 {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, last = js.AccountInfo(cctx)
		cancel()
		if last == nil {
			return nil
		}
		if errors.Is(last, jetstream.ErrJetStreamNotEnabledForAccount) || ctx.Err() != nil {
			break
		}
		if domain != "" && errors.Is(last, nats.ErrNoResponders) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if domain != "" {
		return cli.Usage(fmt.Errorf("invalid -d/--jetstream-domain (env WADM_JETSTREAM_DOMAIN) %q: no JetStream answers for that domain at %s (%v)", domain, nc.ConnectedUrlRedacted(), last))
	}
	return fmt.Errorf("JetStream is not available at %s (%v): wadm needs a NATS server with JetStream enabled (or pass -d/--jetstream-domain)", nc.ConnectedUrlRedacted(), last)
}

func newTracerProvider(ctx context.Context, endpoint, hostID, version string) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, err
	}
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName("wadm"),
		semconv.ServiceInstanceID(hostID), semconv.ServiceVersion(version))
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}
