package up

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/internal/hostlog"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/logs"
	"github.com/wasmlattice/wash/lattice/natsd"
	"github.com/wasmlattice/wash/lattice/telemetry"
	"github.com/wasmlattice/wash/runtime"
)

// runLattice runs NATS (if planned), the host, and waits for a signal or a remote stop.
func runLattice(ctx context.Context, env *cli.Env, d home.Dir, o *Options, p plan) (retErr error) {
	ready := readyReporter(o.child)
	defer func() {
		if retErr != nil {
			ready.fail(retErr)
		}
	}()
	// Foreground: the log goes to stderr unless --host-log-path names a file. Detached: the
	// parent made the log file the child's stdout and stderr; the child writes it through a
	// rotating writer and points stdout and stderr at each new file.
	var logOut io.Writer = os.Stderr
	if o.HostLogPath != "" && (o.child || !o.Detached) {
		f, err := hostlog.OpenFile(o.HostLogPath, o.HostLogMaxBytes, o.HostLogKeep)
		if err != nil {
			return err
		}
		defer f.Close()
		if o.child {
			f.OnRotate(redirectStdio)
		}
		logOut = f
	}
	// The tap also serves the lines to `wash logs`. Repeated lines are limited before both:
	// a line repeating more than hostlog.DefaultBurst times in the window is counted instead.
	// WASH_LOG_REPEAT_WINDOW shortens the window (tests, demos of a flood).
	window := hostlog.DefaultWindow
	if d, err := time.ParseDuration(os.Getenv("WASH_LOG_REPEAT_WINDOW")); err == nil && d > 0 {
		window = d
	}
	tap := logs.NewTap(newHandler(logOut, o.LogLevel, o.StructuredLogging), logs.TapOptions{})
	logger := slog.New(hostlog.RateLimit(tap, hostlog.DefaultBurst, window))
	defer func() { hostlog.Flush(logger.Handler()) }()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	url := o.natsURL()
	var srv *natsd.Server
	if p.startNATS {
		var err error
		srv, err = natsd.Start(natsd.Options{
			Host: o.listenHost(), Port: o.NATSPort, StoreDir: d.JetStreamDir(o.NATSPort),
			JetStreamDomain: o.NATSJSDomain, WebsocketPort: o.NATSWebsocketPort,
			RemoteURL: o.NATSRemoteURL, RemoteCredsFile: o.NATSCredsFile, ConfigFile: o.NATSConfigFile,
			LogFile: d.NATSLogPath(o.NATSPort), LogMaxBytes: o.HostLogMaxBytes, LogKeep: o.HostLogKeep,
		})
		if err != nil {
			if errors.Is(err, natsd.ErrPortInUse) {
				return fmt.Errorf("cannot start NATS: %v; stop the other program or pick another port with --nats-port", err)
			}
			return err
		}
		defer func() {
			srv.Shutdown()
			d.RemoveNATS(o.NATSPort)
		}()
		if err := d.SaveNATS(home.NATSRecord{Process: home.Self(), URL: url, Host: o.listenHost(), Port: o.NATSPort,
			StoreDir: d.JetStreamDir(o.NATSPort), LogPath: d.NATSLogPath(o.NATSPort), StartedAt: time.Now()}); err != nil {
			return fmt.Errorf("recording NATS in %s: %w", d.Path, err)
		}
		logger.Info("NATS server started", "url", url, "jetstream", d.JetStreamDir(o.NATSPort))
	}

	// The host's two connections, as upstream's (ctl: control interface, events, KV, wadm;
	// rpc: providers). They share one when the settings are the same. startOnNATS dials them,
	// again after a connection is lost for good.
	ctlR, rpcR := o.ctlConn(), o.rpcConn()
	rpcJWT, rpcSeed, err := rpcR.UserJWTAndSeed()
	if err != nil {
		return fmt.Errorf("rpc credentials: %w", err)
	}

	tel, err := telemetry.Setup(ctx, o.telemetry, "wasmcloud-host", "wash/host",
		attribute.String("host.id", p.hostID), attribute.String("lattice", o.Lattice), attribute.String("host.version", host.Version))
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tel.Shutdown(sctx)
	}()
	if h := tel.LogHandler(); h != nil {
		logger = slog.New(hostlog.RateLimit(telemetry.TeeHandler(tap, h), hostlog.DefaultBurst, window))
	}
	if o.telemetry.Any() {
		logger.Info("OpenTelemetry export on", "traces", o.telemetry.TracesEnabled(), "metrics", o.telemetry.MetricsEnabled(),
			"logs", o.telemetry.LogsEnabled(), "protocol", o.telemetry.Protocol, "traces_endpoint", o.telemetry.TracesURL())
	}

	engine, err := runtime.NewEngine(ctx, runtime.Options{
		MaxExecutionTime:    time.Duration(o.MaxExecutionMs) * time.Millisecond,
		MaxMemoryBytes:      o.MaxLinearMemory,
		MaxTotalMemoryBytes: o.maxHostMemory,
		// compiled machine code survives restarts: a large component compiles once per build
		CompilationCacheDir: runtime.CompilationCacheDir(filepath.Join(d.Path, "wasm-cache"), env.Version),
	})
	if err != nil {
		return err
	}
	defer func() { _ = engine.Close(context.Background()) }()
	hostCfg := host.Config{
		Lattice: o.Lattice, TopicPrefix: ctl.TopicPrefixFromEnv(), Seed: p.seed, Labels: p.labels,
		HeartbeatInterval: o.HeartbeatInterval, JSDomain: o.HostJSDomain,
		AllowFileLoad: o.AllowFileLoad, AllowLatest: o.AllowLatest, AllowedInsecure: o.AllowedInsecure,
		MaxComponentSize: o.MaxComponentSize, MaxProviderSize: o.MaxProviderSize,
		OCICacheDir: filepath.Join(d.Path, "oci-cache"), OCICredentials: o.ociCredentials(),
		CtlURL: url, RPCURL: rpcR.URLWithUser(), RPCUserJWT: rpcJWT, RPCUserSeed: rpcSeed,
		RPCTimeout: time.Duration(o.Auth.RPCTimeoutMs) * time.Millisecond, LogLevel: o.LogLevel, Engine: engine,
		MaxExecutionTime: time.Duration(o.MaxExecutionMs) * time.Millisecond,
		ReuseInstances:   o.ReuseInstances,
		NoInitSnapshots:  !o.InitSnapshots,
		BuiltinTwins:     o.BuiltinTwins,
		Logger:           logger,
		LogTap:           tap,
		Telemetry:        tel,
	}
	// The host, wadm and the secrets backend run on the host's connections. nats.go reconnects
	// by itself after a network error (subscriptions come back; the host heartbeats at once so
	// wadm sees it again), but it gives a connection up for good after some server errors (a
	// control line over max_control_line). Then everything starts again on new connections,
	// dialled with the same credentials: wadm keeps its state in JetStream and the host keeps
	// its id, so wadm places its apps again.
	failures := 0
	for first := true; ; first = false {
		l, err := startOnNATS(ctx, d, ctlR, rpcR, o, p, hostCfg, logger, tel.TracerProvider())
		if err != nil {
			if first {
				return err
			}
			failures++
			logger.Warn("starting the host again failed; retrying", "err", err)
			select {
			case sig := <-sigs:
				logger.Info("stopping", "signal", sig.String())
				return nil
			case <-time.After(min(time.Duration(failures)*time.Second, 30*time.Second)):
			}
			continue
		}
		failures = 0
		rec := home.HostRecord{HostID: l.host.ID(), FriendlyName: l.host.FriendlyName(), Lattice: o.Lattice, Process: home.Self(),
			LogPath: o.HostLogPath, NATSURL: url, OwnsNATS: p.startNATS, StartedAt: time.Now()}
		if err := d.SaveHost(rec); err != nil {
			l.stop(time.Second)
			return fmt.Errorf("recording host in %s: %w", d.Path, err)
		}
		if first {
			defer d.RemoveHost(l.host.ID())
			logger.Info("host started", "host_id", l.host.ID(), "friendly_name", l.host.FriendlyName(), "lattice", o.Lattice)
			ready.ok(readyInfo{HostID: l.host.ID(), FriendlyName: l.host.FriendlyName(), Lattice: o.Lattice, NATSURL: url,
				StartedNATS: p.startNATS, Secrets: l.secretsNote})
			if !o.child {
				printBanner(env, l.host, o, p, url)
			}
		} else {
			logger.Info("host started again on a new NATS connection", "host_id", l.host.ID())
		}
		if l.wait(sigs, env, o, p, d) == outcomeStop {
			return nil
		}
	}
}

// lattice is the host, wadm and secrets backend of one pair of host connections.
type lattice struct {
	nc          *nats.Conn  // ctl: control interface, events, KV, wadm, secrets backend
	rpcNC       *nats.Conn  // rpc: providers; nc itself when the settings are the same
	closed      chan string // a connection the client gave up for good, and why
	host        *host.Host
	stopWadm    func()
	stopSecrets func()
	secretsNote string
	logger      *slog.Logger
}

// startOnNATS dials the host's connections and starts wadm (unless disabled), the secrets
// backend (when asked) and the host on them. On an error nothing is left running.
func startOnNATS(ctx context.Context, d home.Dir, ctlR, rpcR conn.Resolved, o *Options, p plan, cfg host.Config,
	logger *slog.Logger, tp trace.TracerProvider) (_ *lattice, err error) {
	l := &lattice{closed: make(chan string, 1), stopWadm: func() {}, stopSecrets: func() {}, logger: logger}
	defer func() {
		if err != nil {
			l.release()
		}
	}()
	var hostRef atomic.Pointer[host.Host]
	handlers := func(which string) []nats.Option {
		return []nats.Option{
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
				if err != nil {
					logger.Warn("disconnected from NATS; reconnecting", "connection", which, "err", err)
				}
			}),
			nats.ReconnectHandler(func(nc *nats.Conn) {
				logger.Info("reconnected to NATS", "connection", which, "server", nc.ConnectedUrlRedacted())
				if h := hostRef.Load(); h != nil && which == "ctl" {
					h.Heartbeat() // re-announce: wadm need not wait a heartbeat interval
				}
			}),
			nats.ClosedHandler(func(nc *nats.Conn) {
				why := which + " connection closed"
				if err := nc.LastError(); err != nil {
					why += ": " + err.Error()
				}
				select {
				case l.closed <- why:
				default:
				}
			}),
		}
	}
	if l.nc, err = dialHost(ctlR, "wasmbus", handlers("ctl")...); err != nil {
		return nil, err
	}
	l.rpcNC = l.nc
	if !sameConn(ctlR, rpcR) {
		if l.rpcNC, err = dialHost(rpcR, "wasmbus", handlers("rpc")...); err != nil {
			l.rpcNC = nil
			return nil, fmt.Errorf("rpc connection: %w", err)
		}
	}
	if !o.DisableWadm {
		if l.stopWadm, err = startWadm(ctx, l.nc, o.Lattice, p.startNATS, logger, tp); err != nil {
			return nil, fmt.Errorf("starting wadm: %w (use --disable-wadm to run without it)", err)
		}
	}
	if l.secretsNote, l.stopSecrets, err = o.startSecrets(ctx, d, l.nc, logger); err != nil {
		return nil, err
	}
	cfg.RPCConn = l.rpcNC
	cfg.SecretsTopic = o.SecretsTopic // after startSecrets, which may choose the default topic
	if l.host, err = host.New(ctx, l.nc, cfg); err != nil {
		return nil, err
	}
	if err = l.host.Start(ctx); err != nil {
		l.host = nil
		return nil, err
	}
	hostRef.Store(l.host)
	return l, nil
}

// release stops what runs on the connections besides the host, and closes them.
func (l *lattice) release() {
	l.stopSecrets()
	l.stopWadm()
	if l.rpcNC != nil && l.rpcNC != l.nc {
		l.rpcNC.Close()
	}
	if l.nc != nil {
		l.nc.Close()
	}
}

func (l *lattice) stop(timeout time.Duration) {
	l.host.Stop(context.Background(), timeout)
	l.release()
}

type outcome int

const (
	outcomeStop     outcome = iota // a signal, or the host stopped and this process has no NATS to keep
	outcomeConnLost                // a connection is gone for good: start again
)

// wait runs until a signal, a host.stop or the loss of a connection.
func (l *lattice) wait(sigs <-chan os.Signal, env *cli.Env, o *Options, p plan, d home.Dir) outcome {
	hostDone := l.host.Done()
	for {
		select {
		case sig := <-sigs:
			l.logger.Info("stopping", "signal", sig.String())
			if !o.child && !env.IO.JSON() {
				env.IO.Progress("Stopping the host%s…", map[bool]string{true: " and NATS", false: ""}[p.startNATS])
			}
			l.stop(10 * time.Second)
			return outcomeStop
		case <-hostDone:
			hostDone = nil
			d.RemoveHost(l.host.ID())
			l.logger.Info("host stopped through the control interface", "host_id", l.host.ID())
			if !p.startNATS {
				l.release()
				return outcomeStop
			}
			// This process also serves NATS for other hosts: keep it up until told to stop.
			l.logger.Info("NATS keeps running for the rest of the lattice; `wash down` stops it")
		case why := <-l.closed:
			if hostDone == nil {
				continue // the host is stopped already; only NATS is served here
			}
			l.logger.Error("lost a NATS connection for good; starting the host, wadm and the secrets backend again on new ones", "err", why)
			l.stop(5 * time.Second)
			return outcomeConnLost
		}
	}
}

// newHandler is the host's log format: slog text, or JSON lines with structured logging.
func newHandler(w io.Writer, level string, structured bool) slog.Handler {
	var lv slog.Level
	switch strings.ToLower(level) {
	case "error":
		lv = slog.LevelError
	case "warn", "warning":
		lv = slog.LevelWarn
	case "debug", "trace":
		lv = slog.LevelDebug
	default:
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if structured {
		return slog.NewJSONHandler(w, opts)
	}
	return h
}

func printBanner(env *cli.Env, h *host.Host, o *Options, p plan, url string) {
	io := env.IO
	if io.JSON() {
		_ = io.PrintResult(map[string]any{"host_id": h.ID(), "friendly_name": h.FriendlyName(), "lattice": o.Lattice, "nats_url": url, "nats_started": p.startNATS})
		return
	}
	io.Printf("%s lattice %q is up (foreground)\n", io.OK("✓"), o.Lattice)
	io.Printf("  host     %s (%s)\n", h.FriendlyName(), h.ID())
	io.Printf("  NATS     %s%s\n", url, map[bool]string{true: " (embedded, JetStream on)", false: " (existing)"}[p.startNATS])
	io.Printf("Press Ctrl+C to stop.\n")
}
