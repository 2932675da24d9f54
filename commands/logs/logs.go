// Package logs implements `wash logs`: the log lines of hosts, their components (stdout,
// stderr, wasi:logging) and providers. Hosts `wash up` started on this machine are read from
// their log files; any wash host of the lattice, here or elsewhere, answers over the lattice
// (lattice/logs), which is also how -f follows lines live.
package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/lattice/ctl"
	llogs "github.com/wasmlattice/wash/lattice/logs"
)

// Options are the flags of `wash logs`.
type Options struct {
	Conn       conn.Options
	Host       string
	All        bool
	Components []string
	Providers  []string
	Follow     bool
	Since      time.Duration
	Tail       int
	Level      string
	// OnReady, if set, is called once -f follows (tests use it).
	OnReady func()
}

// NewCmd builds `wash logs`.
func NewCmd(env *cli.Env) *cobra.Command { return newCmd(env, nil) }

func newCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "logs [HOST_ID]",
		Short: "Print the logs of hosts, components and providers; -f follows them live",
		Long: `Print the log lines of a host: its own lines, what its components write to stdout and
stderr or log through wasi:logging, and what its providers print.

HOST_ID is a host id, a unique prefix of one or a friendly name; --all takes every host. Without
either, wash takes the only host of the lattice, or every host when --component or --provider
narrows the lines. Hosts started with 'wash up' on this machine are read from their log files
in $WASH_HOME/logs (also after they stopped); other wash hosts answer over the lattice with the
lines they keep in memory (the last 1000).

-f follows new lines live from every chosen host, wherever it runs: hosts publish their lines on
the lattice only while someone follows (see docs/logs.md). Stop with Ctrl+C.
With -o json every line is one JSON object (NDJSON).`,
		Example: `  wash logs                          # the only host's log
  wash logs quiet-river --since 10m
  wash logs --all -f
  wash logs -f --component hello     # its stdout/stderr and wasi:logging, from any host
  wash logs --all -o json | jq 'select(.level=="ERROR")'`,
		Args: cli.Args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Host = args[0]
			}
			return cli.RunUntilSignal(cmd.Context(), env, o, runF, Run)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// AddFlags adds the flags of `wash logs` (tests parse them straight into Options).
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.Conn.AddFlags(fs)
	fs.BoolVar(&o.All, "all", false, "the logs of every host")
	fs.StringArrayVar(&o.Components, "component", nil, "only the lines of this component id (repeatable)")
	fs.StringArrayVar(&o.Providers, "provider", nil, "only the lines of this provider id (repeatable)")
	fs.BoolVarP(&o.Follow, "follow", "f", false, "keep printing new lines as they are logged")
	fs.DurationVar(&o.Since, "since", 0, "only lines of the last duration, e.g. 10m or 1h")
	fs.IntVar(&o.Tail, "tail", -1, "only the last N lines before following (default: all)")
	fs.StringVar(&o.Level, "level", "", "only lines at this level or above: error, warn, info, debug")
}

// target is one host whose logs are printed.
type target struct {
	id, name string
	file     string // local log file, "" if none
	live     bool   // answered host.ping
}

// Run prints (and with -f follows) the logs.
func Run(ctx context.Context, env *cli.Env, o *Options) error {
	filter, err := o.filter()
	if err != nil {
		return err
	}
	if o.All && o.Host != "" {
		return cli.Usage(errors.New("give a HOST_ID or --all, not both"))
	}
	d, err := env.Home()
	if err != nil {
		return err
	}
	r, err := o.Conn.Resolve(d)
	if err != nil {
		return cli.Usage(err)
	}
	var nc *nats.Conn
	var hosts []ctl.Host
	natsErr := error(nil)
	nc, err = r.Connect("wash logs")
	if err != nil {
		natsErr = err
	} else {
		defer nc.Close()
		client := ctl.NewClient(nc, ctl.ClientOptions{Lattice: r.Lattice, TopicPrefix: ctl.TopicPrefixFromEnv(), Timeout: r.Timeout})
		hosts, _ = client.PingHosts(ctx, ctl.GatherOptions{})
	}
	if o.Follow && nc == nil {
		return fmt.Errorf("-f follows lines over the lattice, but NATS at %s does not answer: %v", r.URL(), natsErr)
	}
	targets, err := o.targets(d, r.Lattice, hosts, nc != nil)
	if err != nil {
		return err
	}
	p := &printer{env: env, names: map[string]string{}}
	for _, t := range targets {
		p.names[t.id] = t.name
	}
	if o.Follow {
		return follow(ctx, env, o, p, llogs.NewClient(nc, r.Lattice, r.Timeout), targets, filter)
	}
	var all []llogs.Record
	for _, t := range targets {
		recs, err := backlog(ctx, nc, r.Lattice, r.Timeout, t, filter, o.Tail)
		if err != nil {
			return err
		}
		all = append(all, recs...)
	}
	if len(targets) > 1 {
		sortByTime(all)
	}
	if o.Tail >= 0 && len(all) > o.Tail {
		all = all[len(all)-o.Tail:]
	}
	for _, rec := range all {
		p.print(rec)
	}
	return nil
}

func (o *Options) filter() (llogs.Filter, error) {
	f := llogs.Filter{Components: o.Components, Providers: o.Providers}
	if o.Since < 0 {
		return f, cli.Usage(fmt.Errorf("invalid --since %s: give a positive duration such as 10m", o.Since))
	}
	if o.Since > 0 {
		f.Since = time.Now().Add(-o.Since)
	}
	if o.Level != "" {
		lv, err := llogs.ParseLevel(o.Level)
		if err != nil {
			return f, cli.Usage(fmt.Errorf("invalid --level: %v", err))
		}
		f.MinLevel = lv
	}
	if o.Tail < -1 {
		return f, cli.Usage(fmt.Errorf("invalid --tail %d: give a number of lines (0 or more)", o.Tail))
	}
	return f, nil
}

// localFiles maps host ids to their log files: from the records of running hosts, then any
// host-<id>.log left in $WASH_HOME/logs by hosts that stopped.
func localFiles(d home.Dir, lattice string) (map[string]string, map[string]string) {
	files, names := map[string]string{}, map[string]string{}
	if recs, err := d.Hosts(); err == nil {
		for _, h := range recs {
			if h.Lattice != "" && h.Lattice != lattice {
				continue
			}
			path := h.LogPath
			if path == "" {
				path = d.LogPath(h.HostID)
			}
			if _, err := os.Stat(path); err == nil {
				files[h.HostID], names[h.HostID] = path, h.FriendlyName
			}
		}
	}
	matches, _ := filepath.Glob(filepath.Join(d.Path, "logs", "host-*.log"))
	for _, m := range matches {
		id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "host-"), ".log")
		if ctl.IsHostID(id) && files[id] == "" {
			files[id] = m
		}
	}
	return files, names
}

// targets picks the hosts to read.
func (o *Options) targets(d home.Dir, lattice string, hosts []ctl.Host, connected bool) ([]target, error) {
	files, names := localFiles(d, lattice)
	byID := map[string]*target{}
	var order []string
	add := func(t target) {
		if byID[t.id] == nil {
			order = append(order, t.id)
			byID[t.id] = &t
		}
	}
	for _, h := range hosts {
		add(target{id: h.ID, name: h.FriendlyName, file: files[h.ID], live: true})
	}
	if !o.Follow {
		// hosts known only by their files (stopped, or NATS unreachable)
		ids := make([]string, 0, len(files))
		for id := range files {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			add(target{id: id, name: names[id], file: files[id]})
		}
	}
	all := make([]target, 0, len(order))
	for _, id := range order {
		t := *byID[id]
		if t.name == "" {
			t.name = shortID(id)
		}
		all = append(all, t)
	}
	if o.Host != "" {
		var cands []ctl.Host
		for _, t := range all {
			cands = append(cands, ctl.Host{ID: t.id, FriendlyName: t.name})
		}
		h, err := ctl.ResolveHost(cands, o.Host, lattice)
		if err != nil {
			if !connected {
				return nil, fmt.Errorf("%v (NATS does not answer, so only hosts with a log file in %s are known)", err, filepath.Join(d.Path, "logs"))
			}
			return nil, err
		}
		return []target{*byID[h.ID]}, nil
	}
	if len(all) == 0 {
		if !connected {
			return nil, fmt.Errorf("no host logs found: NATS does not answer and %s holds no host logs; start a lattice with `wash up`", filepath.Join(d.Path, "logs"))
		}
		return nil, fmt.Errorf("lattice %q has no hosts (start one with `wash up`)", lattice)
	}
	if o.All || len(o.Components) > 0 || len(o.Providers) > 0 || len(all) == 1 {
		return all, nil
	}
	var live []target
	for _, t := range all {
		if t.live {
			live = append(live, t)
		}
	}
	if len(live) == 1 {
		return live, nil
	}
	var list []string
	for _, t := range all {
		list = append(list, t.name+" "+shortID(t.id))
	}
	return nil, cli.Usage(fmt.Errorf("%d hosts have logs (%s): name one as HOST_ID or use --all", len(all), strings.Join(list, ", ")))
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}

// backlog reads a host's recorded lines: its local file when there is one, else over the
// lattice.
func backlog(ctx context.Context, nc *nats.Conn, lattice string, timeout time.Duration, t target, f llogs.Filter, tail int) ([]llogs.Record, error) {
	if t.file != "" {
		return readFiles(t, f)
	}
	if nc == nil {
		return nil, fmt.Errorf("host %s has no local log file and NATS does not answer", t.name)
	}
	req := llogs.HistoryRequest{Filter: f}
	if tail >= 0 {
		req.Limit = tail
	}
	h, err := llogs.NewClient(nc, lattice, timeout).History(ctx, t.id, req)
	if err != nil {
		return nil, fmt.Errorf("logs of host %s: %w", t.name, err)
	}
	return h.Records, nil
}

// readFiles reads a host's log file and the rotated files beside it, oldest first.
func readFiles(t target, f llogs.Filter) ([]llogs.Record, error) {
	var out []llogs.Record
	for _, path := range rotated(t.file) {
		fh, err := os.Open(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("reading the log of host %s: %w", t.name, err)
		}
		var last time.Time
		err = llogs.ReadFile(fh, t.id, func(r llogs.Record) {
			// Lines without a time (a panic, raw process output) take the previous line's,
			// so --since and merging keep them in place.
			if r.Time.IsZero() {
				r.Time = last
				if f.Since.IsZero() || !last.Before(f.Since) {
					if len(f.Components) == 0 && len(f.Providers) == 0 && f.MinLevel == "" {
						out = append(out, r)
					}
				}
				return
			}
			last = r.Time
			if f.Match(r) {
				out = append(out, r)
			}
		})
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return out, nil
}

// rotated lists a log file's rotations, oldest first, then the file: <file>.N … <file>.1.
func rotated(path string) []string {
	matches, _ := filepath.Glob(path + ".[0-9]*")
	type rot struct {
		n    int
		path string
	}
	var rots []rot
	for _, m := range matches {
		var n int
		if _, err := fmt.Sscanf(strings.TrimPrefix(m, path+"."), "%d", &n); err == nil && fmt.Sprint(n) == strings.TrimPrefix(m, path+".") {
			rots = append(rots, rot{n, m})
		}
	}
	sort.Slice(rots, func(i, j int) bool { return rots[i].n > rots[j].n })
	out := make([]string, 0, len(rots)+1)
	for _, r := range rots {
		out = append(out, r.path)
	}
	return append(out, path)
}

func sortByTime(recs []llogs.Record) {
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Time.Before(recs[j].Time) })
}

// follow prints each host's recent lines, then new ones as they arrive.
func follow(ctx context.Context, env *cli.Env, o *Options, p *printer, c *llogs.Client, targets []target, f llogs.Filter) error {
	var ids []string
	if o.Host != "" {
		ids = []string{targets[0].id}
	} else if !o.All && len(o.Components) == 0 && len(o.Providers) == 0 {
		for _, t := range targets {
			ids = append(ids, t.id)
		}
	}
	// Lines that arrive while the backlog is read wait here; afterwards they print at once.
	var mu sync.Mutex
	var pending []llogs.Record
	buffering := true
	lastSeq := map[string]uint64{}
	w, answered, err := c.Watch(ctx, llogs.WatchOptions{Hosts: ids, Filter: f,
		OnHost: func(r llogs.WatchReply) {
			mu.Lock()
			p.names[r.HostID] = r.FriendlyName
			mu.Unlock()
		}}, func(r llogs.Record) {
		mu.Lock()
		defer mu.Unlock()
		if buffering {
			pending = append(pending, r)
			return
		}
		p.print(r)
	})
	if err != nil {
		return err
	}
	defer w.Stop()
	if len(answered) == 0 {
		return fmt.Errorf("no host of lattice %q serves its logs on %s (upstream wasmCloud hosts do not; wash hosts do)", targetsLattice(c), llogs.WatchSubject(targetsLattice(c)))
	}
	var all []llogs.Record
	for _, a := range answered {
		req := llogs.HistoryRequest{Filter: f}
		if o.Tail >= 0 {
			req.Limit = o.Tail
		}
		if o.Tail == 0 {
			continue
		}
		h, err := c.History(ctx, a.HostID, req)
		if err != nil {
			env.IO.Progress("note: recent lines of %s unavailable: %v", a.FriendlyName, err)
			continue
		}
		for _, r := range h.Records {
			lastSeq[r.HostID] = max(lastSeq[r.HostID], r.Seq)
		}
		all = append(all, h.Records...)
	}
	sortByTime(all)
	if o.Tail >= 0 && len(all) > o.Tail {
		all = all[len(all)-o.Tail:]
	}
	mu.Lock()
	for _, r := range all {
		p.print(r)
	}
	for _, r := range pending {
		if r.Seq > lastSeq[r.HostID] {
			p.print(r)
		}
	}
	pending, buffering = nil, false
	mu.Unlock()
	names := make([]string, 0, len(answered))
	for _, a := range answered {
		names = append(names, a.FriendlyName)
	}
	sort.Strings(names)
	env.IO.Progress("Following the logs of %s (Ctrl+C to stop)", strings.Join(names, ", "))
	if o.OnReady != nil {
		o.OnReady()
	}
	<-ctx.Done()
	return nil
}

func targetsLattice(c *llogs.Client) string { return c.Lattice() }

// printer writes records as text lines or NDJSON.
type printer struct {
	env   *cli.Env
	names map[string]string
}

type jsonRecord struct {
	llogs.Record
	HostName string `json:"host_name,omitempty"`
}

func (p *printer) print(r llogs.Record) {
	io := p.env.IO
	name := p.names[r.HostID]
	if name == "" {
		name = shortID(r.HostID)
	}
	if io.JSON() {
		b, err := json.Marshal(jsonRecord{Record: r, HostName: name})
		if err == nil {
			_, _ = io.Out.Write(append(b, '\n'))
		}
		return
	}
	if r.Level == "" {
		io.Println(io.Dim(name) + " " + r.Message)
		return
	}
	var b strings.Builder
	b.WriteString(io.Dim(r.Time.Local().Format("2006-01-02 15:04:05.000")))
	b.WriteString(" " + name + " ")
	lv := r.Level + strings.Repeat(" ", max(5-len(r.Level), 0))
	switch r.Level {
	case llogs.LevelError:
		lv = io.Bad(lv)
	case llogs.LevelWarn:
		lv = io.Warn(lv)
	case llogs.LevelDebug:
		lv = io.Dim(lv)
	}
	b.WriteString(lv)
	if origin := r.ComponentID + r.ProviderID; origin != "" {
		if r.Stream != "" {
			origin += " " + r.Stream
		}
		b.WriteString(" " + io.Bold("["+origin+"]"))
	}
	b.WriteString(" " + r.Message)
	for _, a := range r.SortedAttrs() {
		b.WriteString(" " + io.Dim(a))
	}
	io.Println(b.String())
}
