// Package down implements `wash down`: stop the hosts `wash up` started (over the control
// interface, falling back to their recorded processes), then the embedded NATS.
package down

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/lattice/buckets"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/wadm"
)

// Options are the flags of `wash down`.
type Options struct {
	Conn    conn.Options
	All     bool
	HostID  string
	Purge   string
	StopTTL time.Duration
}

// NewCmd builds `wash down`.
func NewCmd(env *cli.Env) *cobra.Command { return newCmd(env, nil) }

func newCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop the hosts and the NATS server that `wash up` started",
		Long: `Stop hosts of the lattice over the control interface (waiting for each host_stopped event,
falling back to the process wash recorded), then the embedded NATS server once no host uses it.

JetStream state (links, config, apps) survives unless --purge-jetstream is given.`,
		Example: `  wash down
  wash down --all
  wash down --host-id NABC --lattice prod
  wash down --all --purge-jetstream`,
		Args: cli.Args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Upstream's spelling takes the value as the next word
			// (--purge-jetstream wadm); a bare --purge-jetstream means all.
			if len(args) == 1 {
				purge := cmd.Flags().Lookup("purge-jetstream").Changed || cmd.Flags().Lookup("flush-jetstream").Changed
				if !purge || o.Purge != "all" || !validPurge(args[0]) {
					return cli.Usage(fmt.Errorf("unexpected argument %q: wash down takes flags only (e.g. --purge-jetstream wadm)", args[0]))
				}
				o.Purge = args[0]
			}
			if !validPurge(o.Purge) {
				return cli.Usage(fmt.Errorf("invalid --purge-jetstream %q: use all, wasmcloud, wadm or none", o.Purge))
			}
			if o.Purge == "none" {
				o.Purge = ""
			}
			return cli.Run(cmd.Context(), env, o, runF, Run)
		},
	}
	o.Conn.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&o.All, "all", false, "stop every host of the lattice")
	cmd.Flags().StringVar(&o.HostID, "host-id", "", "stop only this host (id, unique id prefix or friendly name)")
	cmd.Flags().StringVar(&o.Purge, "purge-jetstream", "", "also delete the lattice's JetStream state: all, wasmcloud (links and config) or wadm (apps); other lattices keep theirs")
	cmd.Flags().Lookup("purge-jetstream").NoOptDefVal = "all"
	cmd.Flags().StringVar(&o.Purge, "flush-jetstream", "", "upstream's alias of --purge-jetstream")
	cmd.Flags().Lookup("flush-jetstream").NoOptDefVal = "all"
	_ = cmd.Flags().MarkHidden("flush-jetstream")
	cmd.Flags().DurationVar(&o.StopTTL, "stop-timeout", 10*time.Second, "how long each host may take to stop gracefully before its process is killed")
	return cmd
}

type target struct {
	id, name string
	record   *home.HostRecord
	answered bool
}

// Run stops hosts, then NATS.
func Run(ctx context.Context, env *cli.Env, o *Options) error {
	d, err := env.Home()
	if err != nil {
		return err
	}
	r, err := o.Conn.Resolve(d)
	if err != nil {
		return err
	}
	records, _ := d.Hosts()
	natsRecs := d.AllNATS()
	// When nothing was said about where NATS is, use the one wash started, or the one the
	// hosts started here joined (a NATS on another machine).
	if !o.Conn.Changed() && os.Getenv("WASMCLOUD_CTL_PORT") == "" {
		if len(natsRecs) == 1 {
			r.Host, r.Port = natsRecs[0].Host, natsRecs[0].Port
		} else if h, p, ok := joinedNATS(records, r.Lattice); len(natsRecs) == 0 && ok {
			_, user, pass := conn.SplitUserInfo(r.Host)
			if user != "" {
				h = user + ":" + pass + "@" + h
			}
			r.Host, r.Port = h, p
		}
	}
	url := r.URL()
	result := map[string]any{"hosts_stopped": []string{}, "nats_stopped": false, "lattice": r.Lattice}

	nc, cerr := r.Connect("wash")
	var client *ctl.Client
	if cerr == nil {
		defer nc.Close()
		client = ctl.NewClient(nc, ctl.ClientOptions{Lattice: r.Lattice, TopicPrefix: ctl.TopicPrefixFromEnv(), Timeout: r.Timeout})
	}

	// Candidates: hosts that answer a ping, plus recorded hosts of this lattice on this NATS.
	byID := map[string]*target{}
	if client != nil {
		hosts, _ := client.PingHosts(ctx, ctl.GatherOptions{})
		for _, h := range hosts {
			byID[h.ID] = &target{id: h.ID, name: h.FriendlyName, answered: true}
		}
	}
	for i := range records {
		rec := records[i]
		if rec.Lattice != r.Lattice || rec.NATSURL != url {
			continue
		}
		t, ok := byID[rec.HostID]
		if !ok {
			t = &target{id: rec.HostID, name: rec.FriendlyName}
			byID[rec.HostID] = t
		}
		t.record = &rec
	}
	if cerr != nil && len(byID) == 0 && len(natsRecs) == 0 {
		if !errors.Is(cerr, nats.ErrNoServers) && !strings.Contains(cerr.Error(), "nothing is listening") {
			return fmt.Errorf("nothing stopped: %v", cerr)
		}
		// Idempotent, like `docker compose down`: cleanup scripts may call it twice.
		if env.IO.JSON() {
			return env.IO.PrintResult(result)
		}
		env.IO.Printf("Nothing to stop: no NATS answers at %s and wash started no lattice recorded in %s.\n", url, d.Path)
		return nil
	}
	_, ownsNATS := d.NATS(r.Port)
	selected, err := selectTargets(byID, o, r.Lattice, !ownsNATS)
	if err != nil {
		return err
	}

	var stopped []string
	for _, t := range selected {
		if err := stopHost(ctx, env, nc, client, r.Lattice, t, o.StopTTL); err != nil {
			return err
		}
		stopped = append(stopped, t.id)
		if !env.IO.JSON() {
			env.IO.Printf("%s stopped host %s (%s)\n", env.IO.OK("✓"), t.name, t.id)
		}
	}
	result["hosts_stopped"] = stopped
	if len(selected) == 0 && !env.IO.JSON() {
		env.IO.Printf("No hosts running in lattice %q on %s.\n", r.Lattice, url)
	}

	// NATS goes only when no host of any lattice still uses it.
	remaining := 0
	if client != nil {
		hosts, _ := client.PingHosts(ctx, ctl.GatherOptions{})
		remaining = len(hosts)
	}
	others := map[string]int{}
	records, _ = d.Hosts()
	for _, rec := range records {
		if rec.NATSURL == url && rec.Lattice != r.Lattice {
			others[rec.Lattice]++
		}
	}
	natsRec, owned := d.NATS(r.Port)
	// "all" deletes the whole store only when it holds this lattice alone.
	if o.Purge != "" && nc != nil && (o.Purge != "all" || !owned || remaining > 0 || len(others) > 0 || otherLatticeData(ctx, nc, r)) {
		if err := purgeBuckets(ctx, nc, r, o.Purge); err != nil {
			return err
		}
		result["purged"] = o.Purge
		if !env.IO.JSON() {
			env.IO.Printf("%s purged JetStream state (%s) of lattice %q\n", env.IO.OK("✓"), o.Purge, r.Lattice)
		}
	}
	switch {
	case owned && (remaining > 0 || len(others) > 0):
		if !env.IO.JSON() {
			var parts []string
			if remaining > 0 {
				parts = append(parts, fmt.Sprintf("%d host(s) in lattice %q", remaining, r.Lattice))
			}
			for l, n := range others {
				parts = append(parts, fmt.Sprintf("%d host(s) in lattice %q", n, l))
			}
			sort.Strings(parts)
			env.IO.Printf("NATS on %s keeps running: %s still use it (`wash down --all -x <lattice>` stops them).\n", url, strings.Join(parts, ", "))
		}
	case owned:
		if nc != nil {
			nc.Close()
		}
		if err := stopProcess(natsRec.Process, 10*time.Second); err != nil {
			return fmt.Errorf("stopping the embedded NATS (pid %d): %w", natsRec.PID, err)
		}
		d.RemoveNATS(natsRec.Port)
		result["nats_stopped"] = true
		if !env.IO.JSON() {
			env.IO.Printf("%s stopped NATS on %s\n", env.IO.OK("✓"), url)
		}
		if o.Purge == "all" {
			if err := os.RemoveAll(natsRec.StoreDir); err != nil {
				return fmt.Errorf("deleting the JetStream store %s: %w", natsRec.StoreDir, err)
			}
			result["purged"] = "all"
			if !env.IO.JSON() {
				env.IO.Printf("%s deleted the JetStream store %s\n", env.IO.OK("✓"), natsRec.StoreDir)
			}
		}
	default:
		if cerr == nil && !env.IO.JSON() {
			env.IO.Printf("NATS on %s was not started by wash here; left running.\n", url)
		}
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(result)
	}
	return nil
}

// joinedNATS is the NATS every host recorded here for lattice joined, when they agree on one.
func joinedNATS(records []home.HostRecord, lattice string) (host string, port int, ok bool) {
	for _, rec := range records {
		if rec.Lattice != lattice {
			continue
		}
		u, err := url.Parse(rec.NATSURL)
		if err != nil {
			return "", 0, false
		}
		p, err := strconv.Atoi(u.Port())
		if err != nil || (ok && (u.Hostname() != host || p != port)) {
			return "", 0, false
		}
		host, port, ok = u.Hostname(), p, true
	}
	return host, port, ok
}

// selectTargets applies --host-id / --all / the one-host rule. On a NATS this WASH_HOME did not
// start (joined), a bare `wash down` stops the hosts started here and leaves other machines'.
func selectTargets(byID map[string]*target, o *Options, lattice string, joined bool) ([]*target, error) {
	all := make([]*target, 0, len(byID))
	for _, t := range byID {
		all = append(all, t)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	if o.HostID != "" {
		var matches []*target
		for _, t := range all {
			if t.id == o.HostID {
				return []*target{t}, nil
			}
			if strings.HasPrefix(t.id, o.HostID) || (t.name != "" && strings.Contains(t.name, o.HostID)) {
				matches = append(matches, t)
			}
		}
		switch len(matches) {
		case 0:
			return nil, fmt.Errorf("no host matching %q in lattice %q", o.HostID, lattice)
		case 1:
			return matches, nil
		}
		return nil, fmt.Errorf("%q matches %d hosts in lattice %q (%s): give more of the id", o.HostID, len(matches), lattice, describe(matches))
	}
	if len(all) <= 1 || o.All {
		return all, nil
	}
	if joined {
		var mine []*target
		for _, t := range all {
			if t.record != nil {
				mine = append(mine, t)
			}
		}
		if len(mine) > 0 {
			return mine, nil
		}
	}
	return nil, fmt.Errorf("%d hosts are running in lattice %q (%s): use --all to stop them all or --host-id to pick one", len(all), lattice, describe(all))
}

func describe(ts []*target) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%s %s", t.name, t.id[:min(len(t.id), 12)])
	}
	return strings.Join(parts, ", ")
}

// stopHost asks the host to stop and waits for its host_stopped event; a host that does not
// answer, or whose process outlives the deadline, is stopped through its recorded process.
func stopHost(ctx context.Context, env *cli.Env, nc *nats.Conn, client *ctl.Client, lattice string, t *target, ttl time.Duration) error {
	if client != nil && t.answered {
		stoppedEv := make(chan struct{}, 1)
		sub, err := events.Subscribe(nc, lattice, func(e events.Event) {
			if e.Source == t.id {
				select {
				case stoppedEv <- struct{}{}:
				default:
				}
			}
		}, events.HostStopped)
		if err == nil {
			defer sub.Unsubscribe()
			_ = nc.Flush()
		}
		if _, err := client.StopHost(ctx, t.id, ttl); err == nil {
			select {
			case <-stoppedEv:
			case <-time.After(ttl + 2*time.Second):
				env.IO.Progress("host %s did not report host_stopped within %s", t.id, ttl)
			}
		}
	}
	if t.record == nil || t.record.PID == os.Getpid() {
		return nil
	}
	if t.record.OwnsNATS {
		// That process also runs NATS; it stays up (without its host) until NATS is stopped.
		if t.answered {
			return nil
		}
	}
	// Wait for the process to exit by itself, then insist.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && t.record.Running() {
		time.Sleep(20 * time.Millisecond)
	}
	if t.record.Running() {
		if err := stopProcess(t.record.Process, ttl); err != nil {
			return fmt.Errorf("stopping host %s (pid %d): %w", t.id, t.record.PID, err)
		}
	}
	return nil
}

// stopProcess sends SIGTERM, waits up to ttl, then SIGKILL; each signal goes only if the pid
// still belongs to the recorded process (same start time and executable), never to a process
// that inherited the pid.
func stopProcess(proc home.Process, ttl time.Duration) error {
	if !proc.Running() {
		return nil
	}
	pid := proc.PID
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		if errors.Is(err, os.ErrProcessDone) {
			return nil
		}
		ttl = 0 // no SIGTERM on this platform (Windows): kill at once
	}
	deadline := time.Now().Add(ttl)
	for time.Now().Before(deadline) {
		if !proc.Running() {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !proc.Running() {
		return nil
	}
	_ = p.Kill()
	for i := 0; i < 100 && home.Alive(pid); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if home.Alive(pid) {
		return errors.New("process did not exit after SIGKILL")
	}
	return nil
}

// purgeBuckets deletes the lattice's JetStream state while NATS keeps running.
func purgeBuckets(ctx context.Context, nc *nats.Conn, r conn.Resolved, what string) error {
	js, err := buckets.JetStream(nc, r.JSDomain)
	if err != nil {
		return err
	}
	if what == "all" || what == "wasmcloud" {
		for _, b := range []string{buckets.LatticeData(r.Lattice), buckets.ConfigData(r.Lattice)} {
			if err := js.DeleteKeyValue(ctx, b); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
				return fmt.Errorf("deleting KV bucket %s: %w", b, err)
			}
		}
	}
	if what == "all" || what == "wadm" {
		if err := wadm.PurgeLattice(ctx, js, r.Lattice); err != nil {
			return fmt.Errorf("purging wadm's state of lattice %s: %w", r.Lattice, err)
		}
	}
	return nil
}

func validPurge(v string) bool {
	switch v {
	case "", "none", "all", "wasmcloud", "wadm":
		return true
	}
	return false
}

// otherLatticeData reports whether the JetStream store holds data of
// lattices other than r's (or cannot tell).
func otherLatticeData(ctx context.Context, nc *nats.Conn, r conn.Resolved) bool {
	js, err := buckets.JetStream(nc, r.JSDomain)
	if err != nil {
		return true
	}
	lattices, err := wadm.StoredLattices(ctx, js)
	if err != nil {
		return true
	}
	for _, l := range lattices {
		if l != r.Lattice {
			return true
		}
	}
	for name := range js.StreamNames(ctx).Name() {
		for _, p := range []string{buckets.Stream(buckets.LatticeDataPrefix), buckets.Stream(buckets.ConfigDataPrefix)} {
			if l, ok := strings.CutPrefix(name, p); ok && l != r.Lattice {
				return true
			}
		}
	}
	return false
}
