// Package up implements `wash up`: an embedded NATS server with JetStream, the built-in host and
// (with the wadm work) the reconciler, in one process, in the foreground or detached.
package up

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/internal/hostlog"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/natsd"
	"github.com/wasmlattice/wash/lattice/telemetry"
	"github.com/wasmlattice/wash/oci"
	"github.com/wasmlattice/wash/runtime"
)

// Options are the flags of `wash up`.
type Options struct {
	NATSHost          string
	NATSPort          int
	NATSWebsocketPort int
	NATSJSDomain      string
	NATSRemoteURL     string
	NATSCredsFile     string
	NATSConfigFile    string
	NATSConnectOnly   bool
	// Auth holds the host's ctl and rpc connection settings (credentials, TLS).
	Auth NATSAuth

	Lattice           string
	Labels            []string
	HostSeed          string
	AllowLatest       bool
	AllowedInsecure   []string
	OCIRegistry       string
	OCIUser           string
	OCIPassword       string
	AllowFileLoad     bool
	DisableWadm       bool
	HeartbeatInterval time.Duration
	HostJSDomain      string
	MaxExecutionMs    int
	MaxLinearMemory   uint64
	MaxComponentSize  int64
	MaxProviderSize   int64
	MaxHostMemory     string
	ReuseInstances    bool
	InitSnapshots     bool
	FreshInstances    bool // deprecated: fresh instances are the default
	BuiltinTwins      bool
	HostLogPath       string
	HostLogMaxBytes   int64
	HostLogKeep       int
	LogLevel          string
	StructuredLogging bool
	// SecretsTopic is the host's secrets backend prefix; SecretsNatsKV runs the NATS-KV
	// backend in this process (keys in $WASH_HOME/secrets).
	SecretsTopic  string
	SecretsNatsKV bool

	Detached   bool
	MultiLocal bool

	// OpenTelemetry, with the upstream host's flags and variables.
	Observability   bool
	Traces          bool
	Metrics         bool
	Logs            bool
	OTLPEndpoint    string
	TracesEndpoint  string
	MetricsEndpoint string
	LogsEndpoint    string
	OTLPProtocol    string
	TLSCAPaths      []string

	// set when this process is the detached child of `wash up -d`
	child bool
	// maxHostMemory is MaxHostMemory in bytes (0: no limit)
	maxHostMemory uint64
	// telemetry is resolved from the OpenTelemetry flags
	telemetry telemetry.Config
}

var envBindings = map[string]string{
	"nats-host":                       "WASMCLOUD_NATS_HOST",
	"nats-port":                       "WASMCLOUD_NATS_PORT",
	"nats-websocket-port":             "NATS_WEBSOCKET_PORT",
	"nats-js-domain":                  "NATS_JS_DOMAIN",
	"nats-remote-url":                 "NATS_REMOTE_URL",
	"nats-credsfile":                  "NATS_CREDSFILE",
	"nats-config-file":                "NATS_CONFIG",
	"nats-connect-only":               "NATS_CONNECT_ONLY",
	"lattice":                         "WASMCLOUD_LATTICE",
	"host-seed":                       "WASMCLOUD_HOST_SEED",
	"allow-latest":                    "WASMCLOUD_OCI_ALLOW_LATEST",
	"allowed-insecure":                "WASMCLOUD_OCI_ALLOWED_INSECURE",
	"oci-registry":                    "WASMCLOUD_OCI_REGISTRY",
	"oci-user":                        "WASMCLOUD_OCI_REGISTRY_USER",
	"oci-password":                    "WASMCLOUD_OCI_REGISTRY_PASSWORD",
	"allow-file-load":                 "WASMCLOUD_ALLOW_FILE_LOAD",
	"wasmcloud-js-domain":             "WASMCLOUD_JS_DOMAIN",
	"max-execution-time-ms":           "WASMCLOUD_MAX_EXECUTION_TIME_MS",
	"max-linear-memory":               "WASMCLOUD_MAX_LINEAR_MEMORY",
	"max-component-size-bytes":        "WASMCLOUD_MAX_COMPONENT_SIZE",
	"max-provider-size-bytes":         "WASH_MAX_PROVIDER_SIZE",
	"fresh-instances":                 "WASH_FRESH_INSTANCES",
	"reuse-instances":                 "WASH_REUSE_INSTANCES",
	"init-snapshots":                  "WASH_INIT_SNAPSHOTS",
	"max-host-memory":                 "WASH_MAX_HOST_MEMORY",
	"builtin-twins":                   "WASH_BUILTIN_TWINS",
	"host-log-path":                   "WASMCLOUD_HOST_LOG_PATH",
	"host-log-max-bytes":              "WASH_HOST_LOG_MAX_BYTES",
	"host-log-keep":                   "WASH_HOST_LOG_KEEP",
	"log-level":                       "WASMCLOUD_LOG_LEVEL",
	"enable-structured-logging":       "WASMCLOUD_STRUCTURED_LOGGING_ENABLED",
	"disable-wadm":                    "WASH_DISABLE_WADM",
	"enable-observability":            "WASMCLOUD_OBSERVABILITY_ENABLED",
	"enable-traces":                   "WASMCLOUD_TRACES_ENABLED",
	"enable-metrics":                  "WASMCLOUD_METRICS_ENABLED",
	"enable-logs":                     "WASMCLOUD_LOGS_ENABLED",
	"override-observability-endpoint": "OTEL_EXPORTER_OTLP_ENDPOINT",
	"override-traces-endpoint":        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"override-metrics-endpoint":       "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
	"override-logs-endpoint":          "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
	"observability-protocol":          "WASMCLOUD_OBSERVABILITY_PROTOCOL",
	"tls-ca-path":                     "WASMCLOUD_TLS_CA_PATH",
	"secrets-topic":                   "WASMCLOUD_SECRETS_TOPIC",
	"secrets-nats-kv":                 "WASH_SECRETS_NATS_KV",
}

// childEnv marks the detached child; readyFD is the pipe it reports readiness on.
const (
	childEnv = "WASH_UP_DETACHED_CHILD"
	readyFD  = 3
)

// NewCmd builds `wash up`.
func NewCmd(env *cli.Env) *cobra.Command { return newCmd(env, &Options{}) }

// newCmd builds `wash up` filling o (tests read it).
func newCmd(env *cli.Env, o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start a local lattice: embedded NATS, a wasmCloud host and wadm",
		Long: `Start a local lattice in one process: an embedded NATS server with JetStream (state in
$WASH_HOME), a built-in wasmCloud host and the wadm reconciler.

Runs in the foreground until Ctrl+C; -d runs it in the background and returns once the host
answers. With a lattice this WASH_HOME already runs, --multi-local adds another host to it. With
--nats-connect-only (or whenever NATS already answers on --nats-host/--nats-port) the host joins
that NATS instead of starting one, also a lattice another machine runs; --nats-remote-url makes
the embedded NATS a leaf node of a remote NATS system. The host authenticates with upstream's
flags: --ctl-credsfile, --ctl-jwt/--ctl-seed, user:password@ in --nats-host, --ctl-tls and
--ctl-tls-ca-file (and the --rpc-* twins).`,
		Example: `  wash up -d
  wash up -d --multi-local --label zone=us-east-1
  wash up --nats-connect-only --nats-host nats.internal --nats-port 4222 -x prod
  wash up -d --nats-host nats.internal --ctl-credsfile host.creds --label zone=b`,
		Args: cli.Args(cobra.NoArgs),
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := cli.BindEnv(cmd.Flags(), envBindings); err != nil {
				return err
			}
			return cli.BindEnv(cmd.Flags(), authEnv)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.child = os.Getenv(childEnv) == "1"
			if o.child {
				if err := receiveSecrets(cmd.Flags()); err != nil {
					return err
				}
			}
			if err := o.resolveDefaults(cmd); err != nil {
				return err
			}
			return Run(cmd.Context(), env, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.NATSHost, "nats-host", natsd.DefaultHost, "address the NATS server listens on (or is reached at)")
	fs.IntVar(&o.NATSPort, "nats-port", natsd.DefaultPort, "NATS client port")
	fs.IntVar(&o.NATSWebsocketPort, "nats-websocket-port", 0, "also serve NATS over websocket on this port (0: off)")
	fs.StringVar(&o.NATSJSDomain, "nats-js-domain", "", "JetStream domain of the embedded NATS server")
	fs.StringVar(&o.NATSRemoteURL, "nats-remote-url", "", "make the embedded NATS a leaf node of this remote NATS (e.g. nats-leaf://host:7422)")
	fs.StringVar(&o.NATSCredsFile, "nats-credsfile", "", "credentials for the leaf-node connection to --nats-remote-url")
	fs.StringVar(&o.NATSConfigFile, "nats-config-file", "", "nats-server configuration file for the embedded server")
	fs.BoolVar(&o.NATSConnectOnly, "nats-connect-only", false, "start no NATS server; join the one at --nats-host/--nats-port")
	fs.StringVarP(&o.Lattice, "lattice", "x", "", "lattice name (default: the default context's lattice, else \"default\")")
	fs.StringArrayVarP(&o.Labels, "label", "l", nil, "host label key=value (repeatable)")
	fs.StringVar(&o.HostSeed, "host-seed", "", "nkey server seed (SN…) fixing the host id")
	fs.BoolVar(&o.AllowLatest, "allow-latest", false, "allow OCI references tagged :latest")
	fs.StringSliceVar(&o.AllowedInsecure, "allowed-insecure", nil, "registries that may be reached over plain HTTP (repeatable or comma-separated)")
	fs.StringVar(&o.OCIRegistry, "oci-registry", "", "registry the --oci-user/--oci-password credentials are for (e.g. ghcr.io or 127.0.0.1:5000)")
	fs.StringVar(&o.OCIUser, "oci-user", "", "username for --oci-registry (env WASMCLOUD_OCI_REGISTRY_USER)")
	fs.StringVar(&o.OCIPassword, "oci-password", "", "password for --oci-registry (prefer env WASMCLOUD_OCI_REGISTRY_PASSWORD)")
	fs.BoolVar(&o.AllowFileLoad, "allow-file-load", true, "allow file:// component and provider references")
	fs.BoolVar(&o.DisableWadm, "disable-wadm", false, "do not run the wadm reconciler in this process")
	fs.DurationVar(&o.HeartbeatInterval, "heartbeat-interval", host.DefaultHeartbeatInterval, "host heartbeat period (env WASMCLOUD_HEARTBEAT_INTERVAL in seconds)")
	fs.StringVar(&o.HostJSDomain, "wasmcloud-js-domain", "", "JetStream domain the host keeps its KV buckets in")
	fs.IntVar(&o.MaxExecutionMs, "max-execution-time-ms", 600000, "maximum time one component invocation may run")
	fs.Uint64Var(&o.MaxLinearMemory, "max-linear-memory", runtime.DefaultMaxMemoryBytes, "maximum linear memory of one component instance, in bytes")
	fs.Int64Var(&o.MaxComponentSize, "max-component-size-bytes", host.MaxComponentSize, "largest component binary the host reads from a file or registry")
	fs.Int64Var(&o.MaxProviderSize, "max-provider-size-bytes", host.MaxProviderSize, "largest provider archive the host fetches or unpacks")
	fs.StringVar(&o.MaxHostMemory, "max-host-memory", "", "maximum linear memory of all component instances of the host together, e.g. 2GiB (default: no host-wide limit)")
	fs.BoolVar(&o.ReuseInstances, "reuse-instances", false, "serve a component's HTTP requests on instances that served earlier ones: guest state lives on between requests, which guests written for wasmCloud's fresh instance per invocation may not expect (per component: annotation wash.dev/reuse-instances=true)")
	fs.BoolVar(&o.InitSnapshots, "init-snapshots", true, "let fresh instances of components with start functions (e.g. a Go guest's runtime init) start from a snapshot taken after those ran once; random numbers and times they read are then shared by all instances (per component: annotation wash.dev/init-snapshot=false)")
	fs.BoolVar(&o.FreshInstances, "fresh-instances", false, "deprecated: a fresh instance per invocation is the default")
	_ = fs.MarkDeprecated("fresh-instances", "a fresh instance per invocation is now the default (see --reuse-instances)")
	fs.BoolVar(&o.BuiltinTwins, "builtin-twins", true, "when an upstream provider image (ghcr.io/wasmcloud/NAME:TAG) cannot be fetched, run wash's built-in NAME instead (default off with --nats-connect-only)")
	fs.StringVar(&o.HostLogPath, "host-log-path", "", "log file of a detached host (default $WASH_HOME/logs/host-<id>.log)")
	fs.Int64Var(&o.HostLogMaxBytes, "host-log-max-bytes", hostlog.DefaultMaxBytes, "rotate the host log file once it reaches this size (the previous file becomes <log>.1)")
	fs.IntVar(&o.HostLogKeep, "host-log-keep", hostlog.DefaultKeep, "how many rotated host log files to keep (<log>.1 … <log>.N)")
	fs.StringVar(&o.LogLevel, "log-level", "info", "host log level: error, warn, info, debug, trace")
	fs.BoolVar(&o.StructuredLogging, "enable-structured-logging", false, "log as JSON lines")
	fs.BoolVar(&o.Observability, "enable-observability", false, "export OpenTelemetry traces, metrics and logs over OTLP (env WASMCLOUD_OBSERVABILITY_ENABLED)")
	fs.BoolVar(&o.Traces, "enable-traces", false, "export traces (env WASMCLOUD_TRACES_ENABLED; overrides --enable-observability for traces)")
	fs.BoolVar(&o.Metrics, "enable-metrics", false, "export metrics (env WASMCLOUD_METRICS_ENABLED)")
	fs.BoolVar(&o.Logs, "enable-logs", false, "export logs (env WASMCLOUD_LOGS_ENABLED)")
	fs.StringVar(&o.OTLPEndpoint, "override-observability-endpoint", "", "OTLP endpoint of all signals (env OTEL_EXPORTER_OTLP_ENDPOINT; default http://127.0.0.1:4318, gRPC :4317)")
	fs.StringVar(&o.TracesEndpoint, "override-traces-endpoint", "", "OTLP endpoint of traces (env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)")
	fs.StringVar(&o.MetricsEndpoint, "override-metrics-endpoint", "", "OTLP endpoint of metrics (env OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)")
	fs.StringVar(&o.LogsEndpoint, "override-logs-endpoint", "", "OTLP endpoint of logs (env OTEL_EXPORTER_OTLP_LOGS_ENDPOINT)")
	fs.StringVar(&o.OTLPProtocol, "observability-protocol", "http", "OTLP protocol: http or grpc (env WASMCLOUD_OBSERVABILITY_PROTOCOL)")
	fs.StringSliceVar(&o.TLSCAPaths, "tls-ca-path", nil, "extra CA certificates for the OTLP exporters (repeatable; env WASMCLOUD_TLS_CA_PATH, comma-separated)")
	for _, n := range []string{"enable-traces", "enable-metrics", "enable-logs", "override-traces-endpoint", "override-metrics-endpoint", "override-logs-endpoint", "observability-protocol"} {
		_ = fs.MarkHidden(n) // hidden upstream too
	}
	fs.BoolVarP(&o.Detached, "detached", "d", false, "run in the background and return once the host is ready")
	fs.BoolVar(&o.Detached, "detach", false, "alias of --detached")
	_ = fs.MarkHidden("detach")
	fs.BoolVar(&o.MultiLocal, "multi-local", false, "add another host to a lattice that is already running")
	fs.StringVar(&o.SecretsTopic, "secrets-topic", "", "subject prefix of secrets backends the host fetches SECRET_ references from (e.g. wasmcloud.secrets)")
	fs.BoolVar(&o.SecretsNatsKV, "secrets-nats-kv", false, "also run the NATS-KV secrets backend (keys kept in $WASH_HOME/secrets; implies --secrets-topic wasmcloud.secrets)")
	o.Auth.addFlags(fs)
	cmd.MarkFlagsMutuallyExclusive("nats-connect-only", "nats-remote-url")
	return cmd
}

// resolveDefaults fills what comes from the default context and WASMCLOUD_HEARTBEAT_INTERVAL.
func (o *Options) resolveDefaults(cmd *cobra.Command) error {
	fs := cmd.Flags()
	if v := os.Getenv("WASMCLOUD_HEARTBEAT_INTERVAL"); v != "" && !fs.Changed("heartbeat-interval") {
		secs, err := strconv.Atoi(v)
		if err != nil || secs <= 0 {
			return cli.Usage(fmt.Errorf("invalid WASMCLOUD_HEARTBEAT_INTERVAL=%q: expected a positive number of seconds", v))
		}
		o.HeartbeatInterval = time.Duration(secs) * time.Second
	}
	if o.HeartbeatInterval <= 0 {
		return cli.Usage(fmt.Errorf("invalid --heartbeat-interval %s: must be positive", o.HeartbeatInterval))
	}
	if o.NATSCredsFile != "" && o.NATSRemoteURL == "" {
		return cli.Usage(errors.New("--nats-credsfile is only used with --nats-remote-url"))
	}
	if set := btoi(o.OCIRegistry != "") + btoi(o.OCIUser != "") + btoi(o.OCIPassword != ""); set != 0 && set != 3 {
		return cli.Usage(errors.New("--oci-registry, --oci-user and --oci-password (WASMCLOUD_OCI_REGISTRY, _REGISTRY_USER, _REGISTRY_PASSWORD) go together: set all three or none"))
	}
	if o.NATSConnectOnly && !fs.Changed("builtin-twins") && os.Getenv("WASH_BUILTIN_TWINS") == "" {
		o.BuiltinTwins = false // a host joining a production NATS runs only what it can fetch
	}
	if o.HostLogMaxBytes <= 0 || o.HostLogKeep < 0 {
		return cli.Usage(errors.New("--host-log-max-bytes must be positive and --host-log-keep not negative"))
	}
	if o.MaxComponentSize <= 0 || o.MaxProviderSize <= 0 {
		return cli.Usage(errors.New("--max-component-size-bytes and --max-provider-size-bytes must be positive"))
	}
	if o.MaxHostMemory != "" {
		n, err := cli.ParseBytes(o.MaxHostMemory)
		if err != nil {
			return cli.Usage(fmt.Errorf("invalid --max-host-memory %q: %v", o.MaxHostMemory, err))
		}
		o.maxHostMemory = n
	}
	if o.FreshInstances && o.ReuseInstances {
		return cli.Usage(errors.New("--fresh-instances and --reuse-instances contradict each other"))
	}
	if o.NATSPort <= 0 || o.NATSPort > 65535 {
		return cli.Usage(fmt.Errorf("invalid --nats-port %d: use a port between 1 and 65535", o.NATSPort))
	}
	if err := o.Auth.validate(); err != nil {
		return err
	}
	if o.Lattice == "" {
		o.Lattice = ctl.DefaultLattice
		if d, err := home.Resolve(); err == nil {
			if cx, err := conn.StoreFor(d).Load(""); err == nil && cx.Lattice != "" {
				o.Lattice = cx.Lattice
			}
		}
	}
	if err := ctl.CheckLatticeName(o.Lattice); err != nil {
		return cli.Usage(err)
	}
	o.telemetry = o.telemetryConfig(cmd)
	if err := o.telemetry.Validate(); err != nil {
		return cli.Usage(err)
	}
	return nil
}

// telemetryConfig maps the flags to upstream's OtelConfig: a per-signal switch counts only when
// given, so it can also turn one signal off under --enable-observability.
func (o *Options) telemetryConfig(cmd *cobra.Command) telemetry.Config {
	fs := cmd.Flags()
	opt := func(name string, v bool) *bool {
		if fs.Changed(name) {
			return &v
		}
		return nil
	}
	return telemetry.Config{EnableObservability: o.Observability,
		EnableTraces: opt("enable-traces", o.Traces), EnableMetrics: opt("enable-metrics", o.Metrics), EnableLogs: opt("enable-logs", o.Logs),
		Endpoint: o.OTLPEndpoint, TracesEndpoint: o.TracesEndpoint, MetricsEndpoint: o.MetricsEndpoint, LogsEndpoint: o.LogsEndpoint,
		Protocol: strings.ToLower(o.OTLPProtocol), CAPaths: o.TLSCAPaths}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ociCredentials is the host's start-up registry credential, if configured.
func (o *Options) ociCredentials() map[string]oci.Credential {
	if o.OCIRegistry == "" {
		return nil
	}
	return map[string]oci.Credential{oci.RegistryAuthority(o.OCIRegistry): {Username: o.OCIUser, Password: o.OCIPassword}}
}

// userLabels merges WASMCLOUD_LABEL_<key>=<value> variables with --label values (a flag beats a
// variable with the same key) and validates them: exactly one '=', no hostcore.* keys.
func userLabels(values []string) (map[string]string, error) {
	flagLabels, err := cli.ParseKV(values, "label")
	if err != nil {
		return nil, err
	}
	labels := map[string]string{}
	for _, kv := range os.Environ() {
		name, value, _ := strings.Cut(kv, "=")
		if key, ok := strings.CutPrefix(name, "WASMCLOUD_LABEL_"); ok && key != "" {
			labels[key] = value
		}
	}
	for k, v := range flagLabels {
		labels[k] = v
	}
	for k := range labels {
		if err := host.ValidateUserLabel(k); err != nil {
			return nil, cli.Usage(err)
		}
	}
	return labels, nil
}

// natsURL is where the host's control connection goes (credentials left out).
func (o *Options) natsURL() string { return o.ctlConn().URL() }

// listenHost is --nats-host without user:password@: where an embedded NATS listens.
func (o *Options) listenHost() string {
	h, _, _ := conn.SplitUserInfo(o.NATSHost)
	return h
}

// plan is what this invocation will start.
type plan struct {
	startNATS bool
	labels    map[string]string
	seed      string
	hostID    string
}

// Run starts the lattice (or, detached, a child process that does).
func Run(ctx context.Context, env *cli.Env, o *Options) error {
	labels, err := userLabels(o.Labels)
	if err != nil {
		return err
	}
	d, err := env.Home()
	if err != nil {
		return err
	}
	p := plan{labels: labels, seed: o.HostSeed}
	if o.NATSConnectOnly && o.NATSConfigFile != "" {
		return cli.Usage(errors.New("--nats-config-file configures an embedded NATS, but --nats-connect-only starts none"))
	}
	if p.seed == "" {
		kp, err := nkeys.CreateServer()
		if err != nil {
			return err
		}
		seed, _ := kp.Seed()
		p.seed = string(seed)
	}
	kp, err := nkeys.FromSeed([]byte(p.seed))
	if err != nil {
		return cli.Usage(fmt.Errorf("invalid --host-seed: %v (expected a server nkey seed starting with SN)", err))
	}
	if p.hostID, err = kp.PublicKey(); err != nil || !nkeys.IsValidPublicServerKey(p.hostID) {
		return cli.Usage(errors.New("invalid --host-seed: it is not a server key (expected a seed starting with SN)"))
	}
	if !o.child {
		if p.startNATS, err = o.checkNATS(ctx, d); err != nil {
			return err
		}
	} else {
		p.startNATS = os.Getenv(childEnv+"_START_NATS") == "1"
	}
	if o.Detached && !o.child {
		return runDetached(ctx, env, d, o, p)
	}
	return runLattice(ctx, env, d, o, p)
}

// checkNATS decides whether to start NATS. It joins a NATS that answers (another machine's
// lattice included, as upstream documents for production), and refuses only a second host this
// WASH_HOME already runs in the same lattice on the same NATS without --multi-local.
func (o *Options) checkNATS(ctx context.Context, d home.Dir) (startNATS bool, err error) {
	cr := o.ctlConn()
	url := cr.URL()
	opts, err := cr.NATSOptions("wash")
	if err != nil {
		return false, cli.Usage(err)
	}
	nc, cerr := nats.Connect(url, append(opts, nats.Timeout(750*time.Millisecond), nats.NoReconnect())...)
	if cerr != nil {
		if err := o.noNATS(url, cerr); err != nil {
			return false, err
		}
		return true, nil
	}
	defer nc.Close()
	if o.NATSRemoteURL != "" {
		return false, fmt.Errorf("--nats-remote-url starts a local leaf node, but NATS already runs on %s:%d; choose another --nats-port", o.listenHost(), o.NATSPort)
	}
	if o.MultiLocal {
		return false, nil
	}
	recs, _ := d.Hosts()
	var mine []home.HostRecord
	for _, r := range recs {
		if r.Lattice == o.Lattice && r.NATSURL == url {
			mine = append(mine, r)
		}
	}
	if len(mine) == 0 {
		return false, nil
	}
	// Only hosts that still answer count: a record may outlive a host stopped over ctl.
	client := ctl.NewClient(nc, ctl.ClientOptions{Lattice: o.Lattice, TopicPrefix: ctl.TopicPrefixFromEnv(), Timeout: 2 * time.Second})
	hosts, _ := client.PingHosts(ctx, ctl.GatherOptions{})
	var names []string
	for _, h := range hosts {
		for _, r := range mine {
			if r.HostID == h.ID {
				names = append(names, h.FriendlyName)
			}
		}
	}
	if len(names) > 0 {
		return false, fmt.Errorf("lattice %q is already running on %s with %d host(s) started here (%s); add a host with `wash up --multi-local` or stop it with `wash down`",
			o.Lattice, url, len(names), strings.Join(names, ", "))
	}
	return false, nil
}

// noNATS explains why no NATS could be joined, or returns nil when wash may start one here.
func (o *Options) noNATS(url string, cerr error) error {
	msg := strings.ToLower(cerr.Error())
	// Nothing that speaks NATS answered: nothing listens, the name does not resolve, or a
	// program that is not NATS holds the port (it hangs up or never sends INFO).
	unreachable := errors.Is(cerr, nats.ErrNoServers) || errors.Is(cerr, nats.ErrTimeout) || errors.Is(cerr, io.EOF) ||
		strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") ||
		strings.Contains(msg, "timeout") || strings.Contains(msg, "connection reset")
	if !unreachable {
		// A NATS server answered and refused us (credentials, TLS): starting one is no fix.
		return conn.ConnectError(url, cerr)
	}
	if o.NATSConnectOnly {
		return fmt.Errorf("--nats-connect-only: no NATS answers at %s (%v); start NATS there or drop --nats-connect-only to let wash start one", url, shortNATSError(cerr))
	}
	switch err := natsd.BindError(o.listenHost(), o.NATSPort); {
	case err == nil:
		return nil
	case errors.Is(err, natsd.ErrPortInUse):
		return fmt.Errorf("cannot start NATS on %s:%d: the port is in use by a program that did not answer as NATS (a NATS that wants TLS first needs --ctl-tls-first); stop it or pick another port with --nats-port", o.listenHost(), o.NATSPort)
	case errors.Is(err, natsd.ErrUnresolvable):
		return fmt.Errorf("--nats-host %s does not resolve to an address: check the name (no NATS could be reached at %s)", o.listenHost(), url)
	case errors.Is(err, natsd.ErrNotLocal):
		return fmt.Errorf("no NATS answers at %s (%v), and wash can only start one on an address of this machine: start NATS on %s or use --nats-connect-only once it runs", url, shortNATSError(cerr), o.listenHost())
	default:
		return fmt.Errorf("cannot start NATS on %s:%d: %v", o.listenHost(), o.NATSPort, err)
	}
}

func shortNATSError(err error) string {
	if errors.Is(err, nats.ErrNoServers) {
		return "connection refused"
	}
	return err.Error()
}
