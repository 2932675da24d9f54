package up

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/lattice/ctl"

	"github.com/nats-io/nats.go"
)

// readyInfo is what the detached child reports once its host serves the control interface.
type readyInfo struct {
	HostID       string `json:"host_id"`
	FriendlyName string `json:"friendly_name"`
	Lattice      string `json:"lattice"`
	NATSURL      string `json:"nats_url"`
	StartedNATS  bool   `json:"nats_started"`
	LogPath      string `json:"log_path,omitempty"`
	// Joined: this WASH_HOME did not start the NATS the host is on (another machine's).
	Joined bool `json:"joined,omitempty"`
	// Secrets says where the host fetches secrets from, when it does.
	Secrets string `json:"secrets,omitempty"`
}

// reporter tells the parent of a detached child how start-up went, over an inherited pipe.
type reporter struct{ f *os.File }

func readyReporter(child bool) *reporter {
	if !child || os.Getenv(readyPipeEnv) != "1" {
		return &reporter{}
	}
	return &reporter{f: os.NewFile(readyFD, "wash-ready")}
}

// readyPipeEnv tells the child that fd 3 is the ready pipe. Windows cannot pass extra files to a
// child, so there (and with WASH_UP_READY_POLL=1, which tests use) the parent polls the control
// interface for the host instead.
const readyPipeEnv = "WASH_UP_READY_PIPE"

func usePipe() bool { return goruntime.GOOS != "windows" && os.Getenv("WASH_UP_READY_POLL") != "1" }

func (r *reporter) ok(info readyInfo) {
	if r.f == nil {
		return
	}
	b, _ := json.Marshal(info)
	fmt.Fprintf(r.f, "ready %s\n", b)
	_ = r.f.Close()
	r.f = nil
}

func (r *reporter) fail(err error) {
	if r.f == nil {
		return
	}
	fmt.Fprintf(r.f, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	_ = r.f.Close()
	r.f = nil
}

// childArgs drops the detach flags from our own arguments.
func childArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a == "-d" || a == "--detached" || a == "--detach",
			strings.HasPrefix(a, "--detached=") || strings.HasPrefix(a, "--detach="):
			continue
		}
		out = append(out, a)
	}
	return out
}

// runDetached starts a copy of wash in the background and returns once its host answers.
func runDetached(ctx context.Context, env *cli.Env, d home.Dir, o *Options, p plan) error {
	logPath := o.HostLogPath
	if logPath == "" {
		logPath = d.LogPath(p.hostID)
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("opening host log %s: %w", logPath, err)
	}
	defer logFile.Close()
	// Secrets (the host seed, --oci-password, NATS credentials) stay out of the child's argv
	// and environment: they travel on a pipe.
	cmd := exec.Command(env.Executable, withoutSecrets(childArgs(os.Args[1:]))...)
	cmd.Env = append(withoutSecretEnv(os.Environ()),
		childEnv+"=1",
		"WASMCLOUD_HOST_LOG_PATH="+logPath,
		childEnv+"_START_NATS="+map[bool]string{true: "1", false: "0"}[p.startNATS],
	)
	cmd.Stdin = nil
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	var pr, pw *os.File
	if usePipe() {
		if pr, pw, err = os.Pipe(); err != nil {
			return err
		}
		defer pr.Close()
		cmd.ExtraFiles = []*os.File{pw} // fd 3 in the child
		cmd.Env = append(cmd.Env, readyPipeEnv+"=1")
	}
	sr, secretsVar, err := secretsPipe(o.secretValues(p.seed), readyFD+len(cmd.ExtraFiles))
	if err != nil {
		return fmt.Errorf("handing secrets to the background lattice process: %w", err)
	}
	if sr != nil {
		defer sr.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, sr)
	}
	cmd.Env = append(cmd.Env, secretsVar)
	detachAttrs(cmd)
	if err := cmd.Start(); err != nil {
		if pw != nil {
			pw.Close()
		}
		return fmt.Errorf("starting the background lattice process: %w", err)
	}
	if pw != nil {
		pw.Close()
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var info readyInfo
	if pr != nil {
		if info, err = readReady(pr, exited, logPath, cmd); err != nil {
			return err
		}
	} else {
		info = readyInfo{HostID: p.hostID, Lattice: o.Lattice, NATSURL: o.natsURL(), StartedNATS: p.startNATS}
		if info.FriendlyName, err = pollReady(ctx, o.ctlConn(), info, exited, logPath); err != nil {
			_ = cmd.Process.Kill()
			return err
		}
	}
	info.LogPath = logPath
	if !info.StartedNATS {
		_, local := d.NATS(o.NATSPort)
		info.Joined = !local
	}
	// Ready means the host answers on the control interface: check it as a client would.
	if err := pingHost(ctx, o.ctlConn(), info); err != nil {
		return fmt.Errorf("host %s started but does not answer on %s: %v; see %s", info.HostID, info.NATSURL, err, logPath)
	}
	_ = cmd.Process.Release()
	printDetached(env, info)
	return nil
}

// readReady waits for the child's ready (or error) line on the pipe.
func readReady(pr *os.File, exited <-chan error, logPath string, cmd *exec.Cmd) (readyInfo, error) {
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var info readyInfo
	select {
	case line, ok := <-lines:
		switch {
		case ok && strings.HasPrefix(line, "ready "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "ready ")), &info); err != nil {
				return info, fmt.Errorf("background lattice sent a malformed ready line: %v", err)
			}
			return info, nil
		case ok && strings.HasPrefix(line, "error "):
			<-exited
			return info, errors.New(strings.TrimPrefix(line, "error "))
		default:
			err := <-exited
			return info, fmt.Errorf("the background lattice process exited during start-up (%v); see %s", err, logPath)
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		return info, fmt.Errorf("the background lattice did not become ready within 60s; see %s", logPath)
	}
}

// pollReady asks the control interface for the host until it answers, the child exits or 60 s
// pass; it returns the host's friendly name.
func pollReady(ctx context.Context, cr conn.Resolved, info readyInfo, exited <-chan error, logPath string) (string, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			if last := lastLogLine(logPath); last != "" {
				return "", fmt.Errorf("the background lattice process exited during start-up: %s (see %s)", last, logPath)
			}
			return "", fmt.Errorf("the background lattice process exited during start-up (%v); see %s", err, logPath)
		default:
		}
		if nc, err := cr.Connect("wash", nats.Timeout(time.Second), nats.NoReconnect()); err == nil {
			c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: info.Lattice, TopicPrefix: ctl.TopicPrefixFromEnv(), Timeout: time.Second})
			inv, err := c.GetHostInventory(ctx, info.HostID)
			nc.Close()
			if err == nil {
				return inv.FriendlyName, nil
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	return "", fmt.Errorf("the background lattice did not become ready within 60s; see %s", logPath)
}

// lastLogLine is the last non-empty line of a log file: the child's reason for failing.
func lastLogLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func pingHost(ctx context.Context, cr conn.Resolved, info readyInfo) error {
	nc, err := cr.Connect("wash", nats.Timeout(2*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: info.Lattice, TopicPrefix: ctl.TopicPrefixFromEnv()})
	_, err = c.GetHostInventory(ctx, info.HostID)
	return err
}

func printDetached(env *cli.Env, info readyInfo) {
	io := env.IO
	if io.JSON() {
		_ = io.PrintResult(map[string]any{
			"host_id": info.HostID, "friendly_name": info.FriendlyName, "lattice": info.Lattice,
			"nats_url": info.NATSURL, "nats_started": info.StartedNATS, "host_log": info.LogPath, "kill_cmd": "wash down",
		})
		return
	}
	what := "host added to"
	switch {
	case info.StartedNATS:
		what = "lattice started:"
	case info.Joined:
		what = "host joined lattice"
	}
	io.Printf("%s %s %q\n", io.OK("✓"), what, info.Lattice)
	io.Printf("  host     %s (%s)\n", info.FriendlyName, info.HostID)
	nats := info.NATSURL
	if info.StartedNATS {
		nats += " (embedded, JetStream on)"
	}
	io.Printf("  NATS     %s\n", nats)
	io.Printf("  log      %s\n", info.LogPath)
	if info.Secrets != "" {
		io.Printf("  secrets  %s\n", info.Secrets)
	}
	stop := "wash down"
	if !info.StartedNATS && !info.Joined {
		stop += " --all" // a host added with --multi-local: down --all stops the whole lattice here
	}
	io.Printf("Stop it with `%s`.\n", stop)
}
