// Package dev implements `wash dev`: build the project, derive a manifest from the built
// component's own WIT (upstream's interface → provider mapping), deploy it to a local lattice
// (started when none runs), then rebuild and reload on every change until Ctrl+C, which removes
// what was deployed and stops the lattice it started. A provider project is built into its
// archive, deployed alone (or in its [[dev.manifests]]) and restarted with each new build.
package dev

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/build"
	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/down"
	"github.com/wasmlattice/wash/commands/keys"
	"github.com/wasmlattice/wash/internal/bounded"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/deploy"
	"github.com/wasmlattice/wash/lattice/wadm/model"
	"github.com/wasmlattice/wash/oci"
	"github.com/wasmlattice/wash/project"
	"github.com/wasmlattice/wash/runtime/wit"
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

func (s *session) buildAndDeploy(ctx context.Context, changedAt time.Time, ev *Event) error {
	s.env.IO.Progress("Building project...")
	// wasmcloud.toml may have changed too
	if cfg, err := project.Load(s.cfg.File); err == nil {
		s.cfg = cfg
	} else {
		return err
	}
	start := time.Now()
	res, err := build.Project(ctx, s.env, s.cfg, &build.Options{Signing: s.o.Signing})
	ev.BuildDur = time.Since(start)
	if err != nil {
		return fmt.Errorf("failed to build project: %w", err)
	}
	s.env.IO.Progress("%s Built %s in %s", s.env.IO.OK("✓"), res.Path, ev.BuildDur.Round(time.Millisecond))
	if s.isProvider() {
		return s.deployProvider(ctx, res.Path)
	}
	data, err := bounded.ReadFile(res.Path, project.MaxComponentSize)
	if err != nil {
		return err
	}
	world, err := wit.Decode(data)
	if err != nil {
		return fmt.Errorf("reading the WIT of %s: %w", res.Path, err)
	}
	imps, exps := world.InterfaceNames()
	deps, err := project.Dependencies(imps, exps, s.cfg.Dev)
	if err != nil {
		return fmt.Errorf("%s: %w", s.cfg.File, err)
	}
	ref, dc, apps, err := s.devBuild(res.Path)
	if err != nil {
		return err
	}
	if apps == nil {
		names := make([]string, 0, len(deps))
		for _, d := range deps {
			names = append(names, d.Name())
		}
		m := project.DevManifest(dc, deps)
		y, err := m.YAML()
		if err != nil {
			return err
		}
		apps = append(apps, devApp{name: m.Metadata.Name, yaml: y, addr: m.HTTPAddress(), deps: names})
	}
	if len(s.deployed) > 0 && sameApps(apps, s.deployed) {
		return s.reload(ctx, ref)
	}
	for _, a := range apps {
		if len(a.deps) > 0 {
			s.env.IO.Progress("Detected component dependencies: %s", strings.Join(a.deps, ", "))
		}
		if err := s.deploy(ctx, a); err != nil {
			return err
		}
		if a.addr != "" {
			s.env.IO.Progress("%s", s.env.IO.Bold("HTTP server: access your application at http://"+a.addr))
		}
	}
	s.deployed = apps
	return nil
}

// devBuild is the development build at path as the dev manifests see it: its file reference,
// the component (or provider) it stands for, and the [[dev.manifests]] rewritten to run it (nil
// when the project names none).
func (s *session) devBuild(path string) (string, project.DevComponent, []devApp, error) {
	ref, err := oci.FileRef(path)
	if err != nil {
		return "", project.DevComponent{}, nil, err
	}
	dc := project.DevComponent{Name: s.cfg.Name, ID: s.componentID, Image: ref, Session: s.id}
	apps, err := s.devManifests(dc)
	return ref, dc, apps, err
}

// devManifests are the [[dev.manifests]] of the project with the development build in place
// of their matching component or provider; nil when the project names none.
func (s *session) devManifests(dc project.DevComponent) ([]devApp, error) {
	var apps []devApp
	for _, target := range s.cfg.Dev.Manifests {
		p := target.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(s.cfg.ProjectDir, p)
		}
		data, err := bounded.ReadFile(p, deploy.MaxManifestSize)
		if err != nil {
			return nil, fmt.Errorf("dev.manifests: %w", err)
		}
		y, name, err := project.AugmentManifest(data, filepath.Dir(p), target, dc)
		if err != nil {
			return nil, fmt.Errorf("dev.manifests %s: %w", p, err)
		}
		apps = append(apps, devApp{name: name, yaml: y})
	}
	return apps, nil
}

// deployProvider deploys the provider archive the first time (or when the manifests
// changed), else restarts the running provider so that it runs the new build.
func (s *session) deployProvider(ctx context.Context, archive string) error {
	_, dc, apps, err := s.devBuild(archive)
	if err != nil {
		return err
	}
	if apps == nil {
		m := project.DevProviderManifest(dc)
		y, err := m.YAML()
		if err != nil {
			return err
		}
		apps = []devApp{{name: m.Metadata.Name, yaml: y}}
	}
	if len(s.deployed) > 0 && sameApps(apps, s.deployed) {
		return s.restartProvider(ctx)
	}
	for _, a := range apps {
		if err := s.deploy(ctx, a); err != nil {
			return err
		}
	}
	if len(s.deployed) == 0 && len(s.cfg.Dev.Manifests) == 0 { // a manifest brings its own links
		s.env.IO.Progress("Link components to provider %s with: wash link put COMPONENT_ID %s NAMESPACE PACKAGE --interface NAME", s.componentID, s.componentID)
	}
	s.deployed = apps
	return nil
}

// restartProvider stops the provider wherever it runs; wadm starts it again from the same
// file, which now holds the new build. It returns once a host reports the new start.
func (s *session) restartProvider(ctx context.Context) error {
	for len(s.providerWaiter) > 0 {
		<-s.providerWaiter
	}
	hosts, _ := s.ctl.PingHosts(ctx, ctl.GatherOptions{Timeout: time.Second})
	stopped := 0
	for _, h := range hosts {
		inv, err := s.ctl.GetHostInventory(ctx, h.ID)
		if err != nil || !runs(inv, s.componentID) {
			continue
		}
		resp, err := s.ctl.StopProvider(ctx, ctl.StopProviderCommand{HostID: h.ID, ProviderID: s.componentID})
		if err != nil {
			return fmt.Errorf("stopping provider %s on host %s: %w", s.componentID, h.ID, err)
		}
		if !resp.Success {
			return fmt.Errorf("stopping provider %s on host %s: %s", s.componentID, h.ID, resp.Message)
		}
		stopped++
	}
	if stopped == 0 {
		s.env.IO.Progress("Provider %s is not running anywhere; waiting for wadm to start the new build", s.componentID)
	}
	timeout := time.NewTimer(2 * time.Minute)
	defer timeout.Stop()
	select {
	case ev := <-s.providerWaiter:
		if ev.Err != "" {
			return fmt.Errorf("the host could not start the new build of provider %s: %s", s.componentID, ev.Err)
		}
		s.env.IO.Progress("%s Restarted provider %s with the new build", s.env.IO.OK("✓"), s.componentID)
		return nil
	case <-timeout.C:
		return fmt.Errorf("no host reported provider %s started again within 2 minutes (wash app status %s)", s.componentID, s.deployed[0].name)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// devApp is one application wash dev deployed.
type devApp struct {
	name string
	yaml []byte
	addr string
	deps []string
}

func sameApps(a, b []devApp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].name != b[i].name || !bytes.Equal(a[i].yaml, b[i].yaml) {
			return false
		}
	}
	return true
}

func (s *session) deploy(ctx context.Context, a devApp) error {
	name, y := a.name, a.yaml
	if s.o.ManifestOutputDir != "" {
		p := filepath.Join(s.o.ManifestOutputDir, name+".yaml")
		if err := project.WriteAtomic(p, y); err != nil {
			return fmt.Errorf("writing the manifest: %w", err)
		}
		s.env.IO.Progress("Wrote the manifest to %s", p)
	}
	put, err := s.wadm.Put(ctx, y, "application/yaml")
	if err != nil {
		return fmt.Errorf("storing application %s: %w", name, err)
	}
	updates := make(chan model.Status, 64)
	stopWatch, err := s.wadm.WatchStatus(name, func(st model.Status) {
		select {
		case updates <- st:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer stopWatch()
	if _, err := s.wadm.Deploy(ctx, name, put.CurrentVersion); err != nil {
		return fmt.Errorf("deploying application %s: %w", name, err)
	}
	if !slices.Contains(s.appNames, name) {
		s.appNames = append(s.appNames, name)
	}
	if _, err := deploy.WaitDeployed(ctx, s.wadm, name, put.CurrentVersion, updates, 2*time.Minute); err != nil {
		return fmt.Errorf("application %s: %w", name, err)
	}
	s.env.IO.Progress("%s Deployed application %s (%s %s)", s.env.IO.OK("✓"), name, s.cfg.Type, s.componentID)
	return nil
}

// reload swaps the running component to the new build in place: the host loads the file again
// under a new reference (the build number is a query the host ignores), so requests keep being
// served by the old code until the new code is ready.
func (s *session) reload(ctx context.Context, ref string) error {
	newRef := ref + "?build=" + strconv.Itoa(s.builds)
	for len(s.reloadWaiter) > 0 {
		<-s.reloadWaiter
	}
	hostID := s.hostID
	if inv, err := s.ctl.GetHostInventory(ctx, hostID); err != nil || !hasComponent(inv, s.componentID) {
		// the component may have moved (another host) or not be running: ask every host
		hosts, _ := s.ctl.PingHosts(ctx, ctl.GatherOptions{Timeout: time.Second})
		for _, h := range hosts {
			if inv, err := s.ctl.GetHostInventory(ctx, h.ID); err == nil && hasComponent(inv, s.componentID) {
				hostID = h.ID
				break
			}
		}
	}
	resp, err := s.ctl.UpdateComponent(ctx, ctl.UpdateComponentCommand{ComponentID: s.componentID, HostID: hostID, NewComponentRef: newRef})
	if err != nil {
		return fmt.Errorf("reloading component %s: %w", s.componentID, err)
	}
	if !resp.Success {
		return fmt.Errorf("reloading component %s: %s", s.componentID, resp.Message)
	}
	timeout := time.NewTimer(2 * time.Minute)
	defer timeout.Stop()
	for {
		select {
		case d := <-s.reloadWaiter:
			if msg := d.Annotations["error"]; msg != "" && d.ImageRef == newRef {
				return fmt.Errorf("the host could not load the new build: %s", msg)
			}
			if d.ImageRef == newRef {
				s.env.IO.Progress("%s Reloaded component %s", s.env.IO.OK("✓"), s.componentID)
				return nil
			}
		case <-timeout.C:
			return fmt.Errorf("the host did not report the reloaded component %s within 2 minutes", s.componentID)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func hasComponent(inv *ctl.HostInventory, id string) bool {
	return inv != nil && slices.ContainsFunc(inv.Components, func(c ctl.ComponentDescription) bool { return c.ID == id })
}

// runs says whether the host runs the component or provider id.
func runs(inv *ctl.HostInventory, id string) bool {
	return hasComponent(inv, id) || inv != nil && slices.ContainsFunc(inv.Providers, func(p ctl.ProviderDescription) bool { return p.ID == id })
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

// watch watches the project tree, minus build outputs and ignored directories.
func (s *session) watch() (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching files: %w", err)
	}
	if err := s.addTree(w, s.cfg.ProjectDir); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// skipDirs are never watched: dependencies, toolchain caches and build outputs.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "target": true, "build": true, "dist": true, ".wash": true}

func (s *session) addTree(w *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if p != root && s.ignoredDir(p) {
			return filepath.SkipDir
		}
		if err := w.Add(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("watching %s: %w", p, err)
		}
		return nil
	})
}

func (s *session) ignoredDir(p string) bool {
	if skipDirs[filepath.Base(p)] {
		return true
	}
	for _, d := range s.outputDirs() {
		if p == d {
			return true
		}
	}
	return false
}

// outputDirs are the directories builds write into.
func (s *session) outputDirs() []string {
	dirs := []string{s.cfg.BuildDir, filepath.Dir(s.cfg.ArtifactPath()), filepath.Dir(s.cfg.SignedPath())}
	for _, d := range s.o.IgnoreDirs {
		if !filepath.IsAbs(d) {
			d = filepath.Join(s.cfg.ProjectDir, d)
		}
		dirs = append(dirs, filepath.Clean(d))
	}
	if s.o.ManifestOutputDir != "" {
		if abs, err := filepath.Abs(s.o.ManifestOutputDir); err == nil {
			dirs = append(dirs, abs)
		}
	}
	return dirs
}

// ignored says whether a changed path should not trigger a rebuild.
func (s *session) ignored(p string) bool {
	base := filepath.Base(p)
	if strings.HasPrefix(base, ".") && strings.Contains(base, ".tmp") || strings.HasSuffix(base, "~") ||
		strings.HasSuffix(base, ".swp") || strings.HasPrefix(base, ".#") {
		return true
	}
	for dir := filepath.Dir(p); ; dir = filepath.Dir(dir) {
		if dir != s.cfg.ProjectDir && s.ignoredDir(dir) {
			return true
		}
		if dir == s.cfg.ProjectDir || dir == filepath.Dir(dir) {
			break
		}
	}
	if s.o.ManifestOutputDir != "" && strings.HasSuffix(base, ".yaml") {
		if abs, err := filepath.Abs(s.o.ManifestOutputDir); err == nil && filepath.Dir(p) == abs {
			return true
		}
	}
	return false
}
