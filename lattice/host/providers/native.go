package providers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/periodic"
)

// Defaults for native provider supervision (reference §6.6).
const (
	DefaultHealthDelay     = 5 * time.Second
	DefaultHealthInterval  = 30 * time.Second
	DefaultRPCTimeout      = 2 * time.Second
	DefaultShutdownTimeout = 300 * time.Millisecond
	DefaultRestartDelay    = time.Second
	maxRestartDelay        = 30 * time.Second
)

// Health events a native provider produces (names as on the lattice).
const (
	HealthCheckPassed = "health_check_passed"
	HealthCheckFailed = "health_check_failed"
	HealthCheckStatus = "health_check_status"
)

// NativeConfig describes a native provider process.
type NativeConfig struct {
	Binary     string
	NC         *nats.Conn // the rpc connection the host publishes on
	Lattice    string
	HostID     string
	ProviderID string
	// HostData builds the stdin payload for each (re)start: fresh instance id, current links
	// and config. The supervisor fills ProviderXKeyPrivateKey/HostXKeyPublicKey itself.
	HostData func() (HostData, error)
	// XKeyPublic is the provider's xkey public key (link puts go to that subject).
	XKeyPublic string

	HealthDelay     time.Duration // first health check after start (default 5 s)
	HealthInterval  time.Duration // then every (default 30 s)
	RPCTimeout      time.Duration // health request timeout (default 2 s)
	ShutdownTimeout time.Duration // wait for the shutdown reply before SIGKILL (default 300 ms)
	RestartDelay    time.Duration // first delay before restarting a crashed process (default 1 s), doubled per quick crash
	// OnHealth is told each health event (HealthCheckPassed, …).
	OnHealth func(event string)
	// OnExit is told about unexpected exits (before the restart).
	OnExit         func(err error)
	Stdout, Stderr io.Writer // default os.Stdout/os.Stderr (inherited, as upstream)
	Log            *slog.Logger
}

// Native supervises one native provider process: start with HostData on stdin, health checks,
// restart after a crash, shutdown handshake then kill.
type Native struct {
	cfg NativeConfig

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the current process has been waited for
	stopping bool
	healthy  *bool
	restarts int

	stop chan struct{}
	done chan struct{}
}

// ProcessEnv is the environment a provider gets: empty except RUST_LOG and OTEL_* (and
// SYSTEMROOT on Windows), as upstream.
func ProcessEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "RUST_LOG" || strings.HasPrefix(k, "OTEL_") || strings.EqualFold(k, "SYSTEMROOT") {
			env = append(env, kv)
		}
	}
	if env == nil {
		env = []string{} // non-nil: exec would otherwise inherit the whole environment
	}
	return env
}

// StartNative spawns the provider and starts supervising it. An error means the first spawn
// failed (nothing runs).
func StartNative(cfg NativeConfig) (*Native, error) {
	if cfg.HealthDelay <= 0 {
		cfg.HealthDelay = DefaultHealthDelay
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = DefaultHealthInterval
	}
	if cfg.RPCTimeout <= 0 {
		cfg.RPCTimeout = DefaultRPCTimeout
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.RestartDelay <= 0 {
		cfg.RestartDelay = DefaultRestartDelay
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	n := &Native{cfg: cfg, stop: make(chan struct{}), done: make(chan struct{})}
	if err := n.spawn(); err != nil {
		return nil, err
	}
	go n.supervise()
	go n.healthLoop()
	return n, nil
}

func (n *Native) rpc(suffix string) string {
	return "wasmbus.rpc." + n.cfg.Lattice + "." + suffix
}

func (n *Native) spawn() error {
	hd, err := n.cfg.HostData()
	if err != nil {
		return fmt.Errorf("building host data for provider %s: %w", n.cfg.ProviderID, err)
	}
	line, err := hd.StdinLine()
	if err != nil {
		return fmt.Errorf("encoding host data: %w", err)
	}
	cmd := exec.Command(n.cfg.Binary)
	cmd.Env = ProcessEnv()
	cmd.Stdout, cmd.Stderr = n.cfg.Stdout, n.cfg.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("starting provider %s: %w", n.cfg.ProviderID, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting provider binary %s: %w", n.cfg.Binary, err)
	}
	// The SDK reads one line; closing stdin afterwards tells it nothing more comes.
	_, werr := stdin.Write(line)
	_ = stdin.Close()
	if werr != nil {
		n.cfg.Log.Warn("writing host data to provider stdin", "provider_id", n.cfg.ProviderID, "err", werr)
	}
	exited := make(chan struct{})
	n.mu.Lock()
	n.cmd, n.exited = cmd, exited
	n.mu.Unlock()
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		stopping := n.stopping
		n.mu.Unlock()
		if !stopping {
			n.cfg.Log.Warn("provider process exited", "provider_id", n.cfg.ProviderID, "err", err)
			if n.cfg.OnExit != nil {
				n.cfg.OnExit(exitErr(err))
			}
		}
		close(exited)
	}()
	return nil
}

func exitErr(err error) error {
	if err == nil {
		return errors.New("exited with status 0")
	}
	return err
}

// supervise restarts the process whenever it exits on its own.
func (n *Native) supervise() {
	defer close(n.done)
	delay := n.cfg.RestartDelay
	for {
		n.mu.Lock()
		exited := n.exited
		started := time.Now()
		n.mu.Unlock()
		select {
		case <-n.stop:
			return
		case <-exited:
		}
		if time.Since(started) > maxRestartDelay {
			delay = n.cfg.RestartDelay
		}
		for {
			select {
			case <-n.stop:
				return
			case <-time.After(delay):
			}
			delay = min(delay*2, maxRestartDelay)
			n.mu.Lock()
			if n.stopping {
				n.mu.Unlock()
				return
			}
			n.mu.Unlock()
			if err := n.spawn(); err != nil {
				n.cfg.Log.Warn("restarting provider failed", "provider_id", n.cfg.ProviderID, "err", err)
				continue
			}
			n.mu.Lock()
			n.restarts++
			n.mu.Unlock()
			break
		}
	}
}

// Restarts counts restarts after crashes.
func (n *Native) Restarts() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.restarts
}

// PID is the current process id (0 if none).
func (n *Native) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

type healthReply struct {
	Healthy bool   `json:"healthy"`
	Message string `json:"message,omitempty"`
}

func (n *Native) healthLoop() {
	periodic.Every(n.stop, n.cfg.HealthDelay, n.cfg.HealthInterval, n.checkHealth)
}

// checkHealth sends one health request; timeouts and no-responders only log (as upstream).
func (n *Native) checkHealth() {
	msg, err := n.cfg.NC.Request(n.rpc(n.cfg.ProviderID+".health"), nil, n.cfg.RPCTimeout)
	if err != nil {
		n.cfg.Log.Warn("provider health check got no answer", "provider_id", n.cfg.ProviderID, "err", err)
		return
	}
	var r healthReply
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		n.cfg.Log.Warn("provider health reply unreadable", "provider_id", n.cfg.ProviderID, "err", err)
		return
	}
	n.mu.Lock()
	prev := n.healthy
	n.healthy = &r.Healthy
	n.mu.Unlock()
	evt := HealthCheckStatus
	switch {
	case r.Healthy && (prev == nil || !*prev):
		evt = HealthCheckPassed
	case !r.Healthy && prev != nil && *prev:
		evt = HealthCheckFailed
	}
	if n.cfg.OnHealth != nil {
		n.cfg.OnHealth(evt)
	}
}

// PutLink sends a link to the provider on its xkey subject (and, for providers that predate
// xkeys, on its provider-id subject).
func (n *Native) PutLink(l InterfaceLinkDefinition) error {
	b, err := json.Marshal(l.Normalized())
	if err != nil {
		return err
	}
	if n.cfg.XKeyPublic != "" {
		if err := n.cfg.NC.Publish(n.rpc(n.cfg.XKeyPublic+".linkdefs.put"), b); err != nil {
			return err
		}
	}
	return n.cfg.NC.Publish(n.rpc(n.cfg.ProviderID+".linkdefs.put"), b)
}

// ConfigUpdateSubject is where a provider hears of changes to its own config (upstream
// wasmcloud_core::provider_config_update_subject); the body is the merged config as a JSON
// object of strings.
func ConfigUpdateSubject(lattice, providerID string) string {
	return "wasmbus.rpc." + lattice + "." + providerID + ".config.update"
}

// UpdateConfig sends the provider its merged config after one of its named configs changed.
func (n *Native) UpdateConfig(merged map[string]string) error {
	if merged == nil {
		merged = map[string]string{}
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return err
	}
	return n.cfg.NC.Publish(ConfigUpdateSubject(n.cfg.Lattice, n.cfg.ProviderID), b)
}

// DeleteLink tells the provider a link is gone.
func (n *Native) DeleteLink(l InterfaceLinkDefinition) error {
	b, err := json.Marshal(l.Normalized())
	if err != nil {
		return err
	}
	return n.cfg.NC.Publish(n.rpc(n.cfg.ProviderID+".linkdefs.del"), b)
}

// Stop asks the provider to shut down (waiting up to ShutdownTimeout for its reply and exit),
// then kills it. It returns once the process is gone.
func (n *Native) Stop(ctx context.Context) {
	n.mu.Lock()
	if n.stopping {
		n.mu.Unlock()
		<-n.done
		return
	}
	n.stopping = true
	n.mu.Unlock()
	close(n.stop)
	<-n.done
	body, _ := json.Marshal(map[string]string{"host_id": n.cfg.HostID})
	_, err := n.cfg.NC.RequestWithContext(withTimeout(ctx, n.cfg.ShutdownTimeout), n.rpc(n.cfg.ProviderID+".default.shutdown"), body)
	if err != nil {
		n.cfg.Log.Debug("provider shutdown request", "provider_id", n.cfg.ProviderID, "err", err)
	}
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	// Give a provider that acknowledged a moment to exit by itself, then kill it.
	select {
	case <-exited:
		return
	case <-time.After(n.cfg.ShutdownTimeout):
	}
	_ = cmd.Process.Kill()
	<-exited
}

func withTimeout(ctx context.Context, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(ctx, d)
	go func() { <-c.Done(); cancel() }()
	return c
}
