// Package events implements `wash events`: follow a lattice's host events
// (wasmbus.evt.<lattice>.>) and wadm's manifest events (wadm.evt.<lattice>.>), as pretty lines on
// a terminal or NDJSON (one CloudEvent per line) with -o json, optionally replaying recent history
// from a JetStream stream that captures them.
package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/placement"
	"github.com/wasmlattice/wash/lattice/buckets"
	"github.com/wasmlattice/wash/lattice/ctl"
	lev "github.com/wasmlattice/wash/lattice/events"
)

// KnownTypes are the short names --type accepts.
var KnownTypes = []string{
	lev.HostStarted, lev.HostStopped, lev.HostHeartbeat,
	lev.ComponentScaled, lev.ComponentScaleFailed,
	lev.ProviderStarted, lev.ProviderStartFailed, lev.ProviderStopped,
	lev.HealthCheckPassed, lev.HealthCheckFailed, lev.HealthCheckStatus,
	lev.LinkdefSet, lev.LinkdefSetFailed, lev.LinkdefDeleted,
	lev.ConfigSet, lev.ConfigDeleted, lev.LabelsChanged,
	lev.ManifestPublished, lev.ManifestUnpublished,
}

// Options are the flags of `wash events`.
type Options struct {
	Conn  conn.Options
	Types []string
	Hosts []string
	Since time.Duration
	// OnReady, if set, is called once the subscriptions are in place (tests use it).
	OnReady func()
}

// NewCmd builds `wash events`.
func NewCmd(env *cli.Env) *cobra.Command { return newCmd(env, nil) }

func newCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Follow the events of a lattice as they happen",
		Long: `Print every event of the lattice as it happens: host events (wasmbus.evt.<lattice>.>) and
wadm's manifest events (wadm.evt.<lattice>.>). One line per event on a terminal; with -o json one
CloudEvent JSON object per line (NDJSON), written as soon as it arrives. Stop with Ctrl+C.

--since replays recent events first. wasmCloud keeps no event history by itself: replay works
only when a JetStream stream captures wasmbus.evt (wadm creates one, wasmbus_events, that keeps
about 70 seconds).`,
		Example: `  wash events
  wash events --type component_scaled --type component_scale_failed
  wash events --host quiet-river -o json | jq .type
  wash events --since 1m`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.RunUntilSignal(cmd.Context(), env, o, runF, Run)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// AddFlags adds the flags of `wash events` (tests parse them straight into Options).
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.Conn.AddFlags(fs)
	fs.StringArrayVar(&o.Types, "type", nil, "only events of this type, e.g. component_scaled (repeatable)")
	fs.StringArrayVar(&o.Hosts, "host", nil, "only events from this host: id, id prefix or friendly name (repeatable)")
	fs.DurationVar(&o.Since, "since", 0, "first replay the events of this long ago (e.g. 5m), from a JetStream stream that captures them")
}

// normalizeTypes maps --type values (short or full CloudEvent types) to short names.
func normalizeTypes(in []string) (map[string]bool, error) {
	if len(in) == 0 {
		return nil, nil
	}
	known := map[string]bool{}
	for _, k := range KnownTypes {
		known[k] = true
	}
	out := map[string]bool{}
	for _, raw := range in {
		for _, t := range strings.Split(raw, ",") {
			t = strings.TrimSpace(t)
			t = strings.TrimPrefix(strings.TrimPrefix(t, lev.TypePrefix), lev.WadmTypePrefix)
			if !known[t] {
				return nil, cli.Usage(fmt.Errorf("unknown event type %q: use one of %s", t, strings.Join(KnownTypes, ", ")))
			}
			out[t] = true
		}
	}
	return out, nil
}

// follower prints events; it is shared by the subscriptions, which run on their own goroutines.
type follower struct {
	env   *cli.Env
	types map[string]bool
	hosts []string

	mu    sync.Mutex
	names map[string]string // host id → friendly name
}

func (f *follower) hostMatches(e lev.Event) bool {
	if len(f.hosts) == 0 {
		return true
	}
	id := e.Source
	if !ctl.IsHostID(id) {
		// wadm events (source "wadm") and others: use data.host_id when present.
		var d struct {
			HostID string `json:"host_id"`
		}
		_ = json.Unmarshal(e.Data, &d)
		id = d.HostID
	}
	if id == "" {
		return false
	}
	name := f.names[id]
	for _, q := range f.hosts {
		if id == q || strings.HasPrefix(id, q) || (name != "" && strings.Contains(name, q)) {
			return true
		}
	}
	return false
}

func (f *follower) learn(e lev.Event) {
	switch e.ShortName() {
	case lev.HostStarted, lev.HostHeartbeat:
		var d struct {
			FriendlyName string `json:"friendly_name"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.FriendlyName != "" {
			f.names[e.Source] = d.FriendlyName
		}
	}
}

// handle filters and prints one raw message.
func (f *follower) handle(data []byte) {
	e, err := lev.Parse(data)
	if err != nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.learn(e)
	if f.types != nil && !f.types[e.ShortName()] {
		return
	}
	if !f.hostMatches(e) {
		return
	}
	if f.env.IO.JSON() {
		var buf bytes.Buffer
		if json.Compact(&buf, data) != nil {
			return
		}
		buf.WriteByte('\n')
		_, _ = f.env.IO.Out.Write(buf.Bytes()) // one write per event: nothing is buffered
		return
	}
	f.env.IO.Println(f.line(e))
}

// line is the one-line text form of an event.
func (f *follower) line(e lev.Event) string {
	io := f.env.IO
	ts := e.ParsedTime()
	when := e.Time
	if !ts.IsZero() {
		when = ts.Local().Format("15:04:05.000")
	}
	name := e.ShortName()
	styled := fmt.Sprintf("%-22s", name)
	switch {
	case strings.HasSuffix(name, "failed") || name == lev.HostStopped:
		styled = io.Bad(styled)
	case strings.HasSuffix(name, "started") || name == lev.ComponentScaled || name == lev.LinkdefSet || name == lev.HealthCheckPassed:
		styled = io.OK(styled)
	case name == lev.HostHeartbeat:
		styled = io.Dim(styled)
	}
	who := e.Source
	if n := f.names[e.Source]; n != "" {
		who = n
	} else if ctl.IsHostID(who) {
		who = who[:12] + "…"
	}
	return fmt.Sprintf("%s  %s  %-20s  %s", io.Dim(when), styled, who, lev.Summary(e))
}

// Run follows events until ctx ends.
func Run(ctx context.Context, env *cli.Env, o *Options) error {
	types, err := normalizeTypes(o.Types)
	if err != nil {
		return err
	}
	if o.Since < 0 {
		return cli.Usage(fmt.Errorf("invalid --since %s: must be positive", o.Since))
	}
	s, err := placement.Open(env, &o.Conn)
	if err != nil {
		return err
	}
	defer s.Close()
	f := &follower{env: env, types: types, hosts: o.Hosts, names: map[string]string{}}
	lattice := s.Lattice()
	if hosts, err := s.Client.PingHosts(ctx, ctl.GatherOptions{}); err == nil {
		for _, h := range hosts {
			f.names[h.ID] = h.FriendlyName
		}
		for _, q := range o.Hosts {
			if _, err := ctl.ResolveHost(hosts, q, lattice); err != nil {
				env.IO.Progress("note: %v; waiting for it to appear", err)
			}
		}
	}

	hostSubject, wadmSubject := lev.AllSubject(lattice), "wadm.evt."+lattice+".>"
	live := []string{hostSubject, wadmSubject}
	var replays []replay
	if o.Since > 0 {
		if replays, live, err = planReplay(ctx, s, hostSubject, wadmSubject, o.Since); err != nil {
			return err
		}
	}
	for _, subj := range live {
		sub, err := s.NC.Subscribe(subj, func(m *nats.Msg) { f.handle(m.Data) })
		if err != nil {
			return fmt.Errorf("subscribing to %s: %w", subj, err)
		}
		defer sub.Unsubscribe()
	}
	for _, r := range replays {
		cc, err := r.consumer.Consume(func(m jetstream.Msg) { f.handle(m.Data()) })
		if err != nil {
			return fmt.Errorf("replaying from stream %s: %w", r.stream, err)
		}
		defer cc.Stop()
	}
	if err := s.NC.Flush(); err != nil {
		return err
	}
	// Say when the server goes away instead of falling silent, and end once nats.go gives up.
	closed := make(chan struct{})
	s.NC.SetDisconnectErrHandler(func(_ *nats.Conn, err error) {
		if err != nil {
			env.IO.Progress("lost the connection to NATS at %s (%v); reconnecting…", s.Resolved.URL(), err)
		}
	})
	s.NC.SetReconnectHandler(func(*nats.Conn) { env.IO.Progress("reconnected to NATS at %s", s.Resolved.URL()) })
	s.NC.SetClosedHandler(func(*nats.Conn) { close(closed) })
	env.IO.Progress("Following events of lattice %q on %s (Ctrl+C to stop)", lattice, s.Resolved.URL())
	if o.OnReady != nil {
		o.OnReady()
	}
	select {
	case <-ctx.Done():
		return nil
	case <-closed:
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("the connection to NATS at %s closed; events are no longer followed", s.Resolved.URL())
	}
}

type replay struct {
	stream   string
	consumer jetstream.Consumer
}

// planReplay finds JetStream streams that capture the event subjects and creates ordered
// consumers starting at now-since on them. An ordered consumer keeps delivering new messages
// after the history, so a replayed subject needs no separate live subscription (no gap, no
// duplicates). Subjects no stream captures stay live; the host events must be captured.
func planReplay(ctx context.Context, s *placement.Session, hostSubject, wadmSubject string, since time.Duration) ([]replay, []string, error) {
	js, err := buckets.JetStream(s.NC, s.Resolved.JSDomain)
	if err != nil {
		return nil, nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, s.Resolved.Timeout)
	defer cancel()
	var infos []*jetstream.StreamInfo
	lister := js.ListStreams(lctx)
	for info := range lister.Info() {
		infos = append(infos, info)
	}
	if err := lister.Err(); err != nil && !errors.Is(err, jetstream.ErrEndOfData) {
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrNoResponders) {
			return nil, nil, fmt.Errorf("--since needs event history, but JetStream is not available on %s: wasmCloud keeps no event history by itself; run without --since to follow live events", s.Resolved.URL())
		}
		return nil, nil, fmt.Errorf("listing JetStream streams on %s: %w", s.Resolved.URL(), err)
	}
	find := func(subject string) *jetstream.StreamInfo {
		for _, info := range infos {
			// A work queue cannot be read without taking its messages away
			// (wadm's own wadm_event_consumer is one).
			if info.Config.Retention == jetstream.WorkQueuePolicy {
				continue
			}
			for _, pat := range info.Config.Subjects {
				if SubjectCovers(pat, subject) {
					return info
				}
			}
		}
		return nil
	}
	hostStream := find(hostSubject)
	if hostStream == nil {
		return nil, nil, fmt.Errorf("cannot replay --since %s: no JetStream stream on %s captures %s, and wasmCloud keeps no event history by default (wadm's wasmbus_events stream does while wadm runs); run without --since to follow live events", since, s.Resolved.URL(), hostSubject)
	}
	start := time.Now().Add(-since)
	var replays []replay
	live := []string{}
	for _, subj := range []string{hostSubject, wadmSubject} {
		info := find(subj)
		if info == nil {
			live = append(live, subj)
			continue
		}
		if info.Config.MaxAge > 0 && since > info.Config.MaxAge {
			// On stderr in every output format: NDJSON on stdout stays clean.
			fmt.Fprintf(s.Env.IO.Err, "note: stream %s keeps only %s of history; older events are gone\n", info.Config.Name, info.Config.MaxAge)
		}
		cons, err := js.OrderedConsumer(ctx, info.Config.Name, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{subj},
			DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
			OptStartTime:   &start,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("replaying from stream %s: %w", info.Config.Name, err)
		}
		replays = append(replays, replay{stream: info.Config.Name, consumer: cons})
	}
	return replays, live, nil
}

// SubjectCovers reports whether every subject matching filter also matches pattern (a stream
// subject), so a stream on pattern holds all messages of filter.
func SubjectCovers(pattern, filter string) bool {
	p, f := strings.Split(pattern, "."), strings.Split(filter, ".")
	for i, pt := range p {
		if pt == ">" {
			return i < len(f)
		}
		if i >= len(f) {
			return false
		}
		switch {
		case f[i] == ">":
			return false // the filter reaches deeper than a non-'>' pattern token
		case pt == "*":
			continue
		case f[i] == "*" || pt != f[i]:
			return false
		}
	}
	return len(p) == len(f)
}
