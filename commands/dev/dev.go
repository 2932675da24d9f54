// Package dev implements `wash dev`: build the project, derive a manifest from the built
// component's own WIT (upstream's interface → provider mapping), deploy it to a local lattice
// (started when none runs), then rebuild and reload on every change until Ctrl+C, which removes
// what was deployed and stops the lattice it started. A provider project is built into its
// archive, deployed alone (or in its [[dev.manifests]]) and restarted with each new build.
package dev

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/down"
	"github.com/wasmlattice/wash/commands/keys"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/project"
)

// Options are the flags of `wash dev`.
type Options struct {
	keys.Signing
	WorkDir           string
	IgnoreDirs        []string
	LeaveHostRunning  bool
	ManifestOutputDir string
	NATSHost          string
	NATSPort          int
	Lattice           string
	// Debounce is the quiet time after a change before a rebuild starts.
	Debounce time.Duration
	// Events, when set, receives one line per finished reload (tests and benchmarks).
	Events chan<- Event
}

// Event reports the end of one build-and-deploy round.
type Event struct {
	Build    int
	Err      error
	BuildDur time.Duration // the toolchain and signing
	TotalDur time.Duration // from the change to the new code serving
}

var envBindings = map[string]string{
	"work-dir":            "WASH_DEV_CODE_DIR",
	"leave-host-running":  "WASH_DEV_LEAVE_HOST_RUNNING",
	"manifest-output-dir": "WASH_DEV_MANIFEST_OUTPUT_DIR",
	"nats-host":           "WASMCLOUD_NATS_HOST",
	"nats-port":           "WASMCLOUD_NATS_PORT",
	"lattice":             "WASMCLOUD_LATTICE",
	"keys-directory":      "WASH_KEYS",
}

// NewCmd builds `wash dev`.
func NewCmd(env *cli.Env) *cobra.Command { return newCmd(env, nil) }

func newCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Build, deploy and hot-reload the project on a local lattice until Ctrl+C",
		Long: `Build the project (like wash build), work out the providers it needs from the built
component's own WIT (an incoming-handler export gets an HTTP server on 127.0.0.1:8000,
key-value imports a NATS key-value store, …; [dev.overrides] in wasmcloud.toml changes them),
deploy it as an application to the lattice at --nats-host/--nats-port (starting one when none
runs), then rebuild and reload on every change to the project. Ctrl+C deletes the application
and stops the lattice wash dev started, unless --leave-host-running.

In a provider project (type = "provider") wash dev builds the provider archive, runs the
provider alone (or the manifests [[dev.manifests]] names, with the provider pointed at the
build), and restarts it with each new build; link components to it with wash link put.`,
		Example: `  wash dev
  wash dev --work-dir ../counter --manifest-output-dir .`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.RunWithEnv(cmd, envBindings, env, o, runF, runUntilStopped)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.WorkDir, "work-dir", "d", "", "project directory (default: current directory)")
	f.StringSliceVarP(&o.IgnoreDirs, "ignore-dir", "i", nil, "directory not to watch (repeatable); build outputs are never watched")
	f.BoolVar(&o.LeaveHostRunning, "leave-host-running", false, "keep the lattice wash dev started running after Ctrl+C")
	f.StringVar(&o.ManifestOutputDir, "manifest-output-dir", "", "also write each generated manifest into this existing directory")
	f.StringVar(&o.NATSHost, "nats-host", "127.0.0.1", "NATS host of the lattice to use or start")
	f.IntVar(&o.NATSPort, "nats-port", 4222, "NATS port of the lattice to use or start")
	f.StringVarP(&o.Lattice, "lattice", "x", "default", "lattice name")
	f.DurationVar(&o.Debounce, "debounce", 50*time.Millisecond, "quiet time after a change before rebuilding")
	f.StringVar(&o.KeysDir, "keys-directory", "", "keys directory (env WASH_KEYS, default $WASH_HOME/keys)")
	return cmd
}

// runUntilStopped is Run until Ctrl+C, SIGTERM or SIGHUP (a closed terminal). It is not
// cli.RunUntilSignal because wash dev also stops on SIGHUP and ignores SIGPIPE, so it still
// removes what it deployed when its terminal or pipe goes away.
func runUntilStopped(ctx context.Context, env *cli.Env, o *Options) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	// a closed terminal or pipe must not kill wash dev before it cleans up
	signal.Ignore(syscall.SIGPIPE)
	return Run(ctx, env, o)
}

// session is one wash dev run.
type session struct {
	env  *cli.Env
	o    *Options
	cfg  *project.Config
	id   string
	nc   *nats.Conn
	ctl  *ctl.Client
	wadm *wadmclient.Client

	hostID       string
	startedHost  bool
	startedNATS  bool
	deployed     []devApp
	appNames     []string // every application this session deployed, deleted at the end
	componentID  string
	builds       int
	mu           sync.Mutex
	reloadWaiter chan events.ComponentScaledData
	// providerWaiter receives provider_started / provider_start_failed of a provider project.
	providerWaiter chan providerEvent
}

// providerEvent is a provider_started (Err empty) or provider_start_failed of the provider
// under development.
type providerEvent struct {
	HostID string
	Err    string
}

func (s *session) isProvider() bool { return s.cfg.Type == project.TypeProvider }

// SessionID is a stable 6-character id for a project directory (upstream keeps a session per
// project path; deriving it from the path needs no lock file).
func SessionID(projectDir string) string {
	sum := sha256.Sum256([]byte(projectDir))
	return hex.EncodeToString(sum[:])[:6]
}

// Run runs the development loop until ctx is done.
func Run(ctx context.Context, env *cli.Env, o *Options) error {
	dir := o.WorkDir
	if dir == "" {
		dir = "."
	}
	cfg, err := project.Load(dir)
	if err != nil {
		return err
	}
	if o.ManifestOutputDir != "" {
		if st, err := os.Stat(o.ManifestOutputDir); err != nil || !st.IsDir() {
			return cli.Usage(fmt.Errorf("--manifest-output-dir %s must be an existing directory", o.ManifestOutputDir))
		}
	}
	s := &session{env: env, o: o, cfg: cfg, id: SessionID(cfg.ProjectDir)}
	s.componentID = s.id + "-" + strings.ReplaceAll(strings.ToLower(cfg.Name), " ", "-")
	env.IO.Progress("Starting a development session for %s project %s (session %s)", cfg.Type, cfg.Name, s.id)

	if err := s.connect(ctx); err != nil {
		return err
	}
	defer s.cleanup()

	watcher, err := s.watch()
	if err != nil {
		return err
	}
	defer watcher.Close()

	s.round(ctx, time.Now())
	env.IO.Progress("Watching %s for changes (Ctrl+C to stop)", cfg.ProjectDir)
	var timer *time.Timer
	var timerC <-chan time.Time
	var changedAt time.Time
	for {
		select {
		case <-ctx.Done():
			env.IO.Progress("Stopping the development session...")
			return nil
		case ev, ok := <-watcher.Events:
			if !ok {
				return nil
			}
			if s.ignored(ev.Name) {
				continue
			}
			if ev.Op&fsnotify.Create != 0 {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					_ = s.addTree(watcher, ev.Name)
				}
			}
			if timer == nil {
				changedAt = time.Now()
				timer = time.NewTimer(o.Debounce)
				timerC = timer.C
			} else {
				timer.Reset(o.Debounce)
			}
		case err, ok := <-watcher.Errors:
			if ok {
				env.IO.Progress("warning: watching files: %v", err)
			}
		case <-timerC:
			timer, timerC = nil, nil
			s.round(ctx, changedAt)
		}
	}
}

// connect finds a running lattice at the NATS address, or starts one with `wash up -d`.
func (s *session) connect(ctx context.Context) error {
	url := "nats://" + netJoin(s.o.NATSHost, s.o.NATSPort)
	hostID := ""
	if nc, err := nats.Connect(url, nats.Timeout(time.Second), nats.Name("wash dev")); err == nil {
		c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: s.o.Lattice, Timeout: 2 * time.Second})
		hosts, _ := c.PingHosts(ctx, ctl.GatherOptions{Timeout: time.Second})
		if len(hosts) > 0 {
			hostID = hosts[0].ID
			s.env.IO.Progress("Using the running lattice %q at %s (host %s)", s.o.Lattice, url, hosts[0].FriendlyName)
		}
		nc.Close()
	}
	if hostID == "" {
		id, startedNATS, err := s.startLattice(ctx)
		if err != nil {
			return err
		}
		hostID, s.startedHost, s.startedNATS = id, true, startedNATS
	}
	nc, err := nats.Connect(url, nats.Name("wash dev"), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("connecting to the lattice's NATS at %s: %w", url, err)
	}
	s.nc, s.hostID = nc, hostID
	s.ctl = ctl.NewClient(nc, ctl.ClientOptions{Lattice: s.o.Lattice, Timeout: 5 * time.Second})
	s.wadm = wadmclient.New(nc, wadmclient.Options{Lattice: s.o.Lattice})
	s.reloadWaiter = make(chan events.ComponentScaledData, 16)
	_, err = events.Subscribe(nc, s.o.Lattice, func(e events.Event) {
		var d events.ComponentScaledData
		if json.Unmarshal(e.Data, &d) != nil || d.ComponentID != s.componentID {
			return
		}
		if e.Name() == "component_scale_failed" {
			var f events.ComponentScaleFailedData
			_ = json.Unmarshal(e.Data, &f)
			d.Annotations = map[string]string{"error": f.Error}
		}
		select {
		case s.reloadWaiter <- d:
		default:
		}
	}, "component_scaled", "component_scale_failed")
	if err != nil || !s.isProvider() {
		return err
	}
	s.providerWaiter = make(chan providerEvent, 16)
	_, err = events.Subscribe(nc, s.o.Lattice, s.onProviderEvent,
		events.ProviderStarted, events.ProviderStartFailed, events.HealthCheckPassed, events.HealthCheckFailed)
	return err
}

// onProviderEvent reports the provider's health changes as they happen and hands starts to
// restartProvider.
func (s *session) onProviderEvent(e events.Event) {
	var d struct {
		ProviderID string `json:"provider_id"`
		HostID     string `json:"host_id"`
		Error      string `json:"error"`
		Message    string `json:"message"`
	}
	if json.Unmarshal(e.Data, &d) != nil || d.ProviderID != s.componentID {
		return
	}
	switch e.Name() {
	case events.HealthCheckPassed:
		s.env.IO.Progress("%s Provider %s passed its health check", s.env.IO.OK("✓"), s.componentID)
		return
	case events.HealthCheckFailed:
		msg := ""
		if d.Message != "" {
			msg = ": " + d.Message
		}
		s.env.IO.Progress("%s Provider %s failed its health check%s", s.env.IO.Bad("✗"), s.componentID, msg)
		return
	case events.ProviderStartFailed:
		if d.Error == "" {
			d.Error = "the host could not start it"
		}
	}
	select {
	case s.providerWaiter <- providerEvent{HostID: d.HostID, Err: d.Error}:
	default:
	}
}

func netJoin(host string, port int) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// startLattice runs `wash up -d` (so the lattice can outlive wash dev with
// --leave-host-running) and returns the new host's id.
func (s *session) startLattice(ctx context.Context) (string, bool, error) {
	s.env.IO.Progress("No lattice answers at %s; starting one (wash up -d)...", netJoin(s.o.NATSHost, s.o.NATSPort))
	exe := s.env.Executable
	if exe == "" {
		exe = os.Args[0]
	}
	// Hosts give every request a fresh instance by default, as wasmCloud does.
	cmd := exec.CommandContext(ctx, exe, "up", "-d", "-o", "json", "--nats-host", s.o.NATSHost,
		"--nats-port", strconv.Itoa(s.o.NATSPort), "--lattice", s.o.Lattice)
	cmd.Stderr = s.env.IO.Err
	out, err := cmd.Output()
	if err != nil {
		return "", false, fmt.Errorf("starting a lattice with wash up -d failed: %v", err)
	}
	var r struct {
		HostID      string `json:"host_id"`
		StartedNATS bool   `json:"nats_started"`
		Log         string `json:"host_log"`
	}
	if err := json.Unmarshal(out, &r); err != nil || r.HostID == "" {
		return "", false, fmt.Errorf("wash up -d did not report a host: %s", strings.TrimSpace(string(out)))
	}
	s.env.IO.Progress("Started host %s (log %s)", r.HostID, r.Log)
	return r.HostID, r.StartedNATS, nil
}

// round builds and deploys once; a failed build is reported and the loop goes on.
func (s *session) round(ctx context.Context, changedAt time.Time) {
	s.builds++
	n := s.builds
	ev := Event{Build: n}
	err := s.buildAndDeploy(ctx, changedAt, &ev)
	if err != nil && ctx.Err() == nil {
		s.env.IO.Progress("%s %v", s.env.IO.Bad("✗"), err)
		s.env.IO.Progress("Fix the problem and save; wash dev rebuilds on the next change.")
	}
	ev.Err = err
	ev.TotalDur = time.Since(changedAt)
	if s.o.Events != nil {
		select {
		case s.o.Events <- ev:
		default:
		}
	}
}

// cleanup deletes the application and stops the lattice this session started.
func (s *session) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range s.appNames {
		if _, err := s.wadm.Delete(ctx, name, ""); err != nil {
			s.env.IO.Progress("warning: deleting application %s: %v", name, err)
			continue
		}
		s.env.IO.Progress("Deleted application %s", name)
	}
	if len(s.appNames) > 0 {
		s.waitGone(ctx)
	}
	if s.nc != nil {
		s.nc.Close()
	}
	if !s.startedHost {
		return
	}
	if s.o.LeaveHostRunning {
		s.env.IO.Progress("Leaving the lattice running (stop it with wash down --all)")
		return
	}
	o := &down.Options{HostID: s.hostID}
	if s.startedNATS {
		o = &down.Options{All: true}
	}
	o.Conn.CtlHost, o.Conn.CtlPort, o.Conn.Lattice = s.o.NATSHost, s.o.NATSPort, s.o.Lattice
	quiet := *s.env
	q := *s.env.IO
	q.Out = s.env.IO.Err
	quiet.IO = &q
	if err := down.Run(ctx, &quiet, o); err != nil {
		s.env.IO.Progress("warning: stopping the lattice: %v (run wash down --all)", err)
	}
}

// waitGone waits until the host no longer runs the component or provider (wadm undeploys
// asynchronously).
func (s *session) waitGone(ctx context.Context) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		inv, err := s.ctl.GetHostInventory(ctx, s.hostID)
		if err != nil || !runs(inv, s.componentID) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// skipDirs are never watched: dependencies, toolchain caches and build outputs.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "target": true, "build": true, "dist": true, ".wash": true}
