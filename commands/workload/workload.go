// Package workload holds what `wash start`, `stop`, `scale` and `update` share: choosing a host
// (by --host-id or by auction), turning local paths into file:// references, finding where a
// component or provider runs, and waiting for the lattice event that ends an operation.
package workload

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/nats-io/nats.go"
	"github.com/spf13/pflag"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/get"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
)

// Default waits for the event that ends an operation, as upstream wash uses them (its help texts
// say 5 s and 30 s, the code waits 10 s and 60 s).
const (
	StartComponentWait = 10 * time.Second
	StartProviderWait  = 60 * time.Second
	ScaleWait          = 10 * time.Second
	UpdateWait         = 10 * time.Second
)

// Placement holds the flags that pick a host and describe the workload.
type Placement struct {
	HostID           string
	Constraints      []string
	Annotations      []string
	Config           []string
	SkipWait         bool
	WaitTimeoutMs    int
	AuctionTimeoutMs int
}

// AddHostFlag registers --host-id alone (stop, update).
func (p *Placement) AddHostFlag(fs *pflag.FlagSet) {
	fs.StringVar(&p.HostID, "host-id", "", "host to act on: full id, unique id prefix or friendly name")
}

// AddWaitFlags registers --skip-wait and --wait-timeout-ms.
func (p *Placement) AddWaitFlags(fs *pflag.FlagSet, def time.Duration, event string) {
	fs.BoolVar(&p.SkipWait, "skip-wait", false, "return once the host accepted the request, without waiting for "+event)
	fs.IntVar(&p.WaitTimeoutMs, "wait-timeout-ms", 0, fmt.Sprintf("how long to wait for %s (default %d, or --timeout-ms if larger)", event, def.Milliseconds()))
}

// AddAuctionFlags registers --constraint and --auction-timeout-ms.
func (p *Placement) AddAuctionFlags(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&p.Constraints, "constraint", "c", nil, "label the chosen host must carry, key=value (repeatable; used for the auction when --host-id is not given)")
	fs.IntVar(&p.AuctionTimeoutMs, "auction-timeout-ms", 0, "upper bound for collecting auction bids (default: --timeout-ms)")
}

// AddWorkloadFlags registers --annotations and --config.
func (p *Placement) AddWorkloadFlags(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&p.Annotations, "annotations", "a", nil, "annotation key=value (repeatable)")
	fs.StringArrayVar(&p.Config, "config", nil, "named configuration to attach (repeatable; create it with 'wash config put')")
}

// MaxInstancesAliases accepts upstream's aliases of --max-instances: --max-concurrent, --max and
// --count (a flag-set normalize function).
func MaxInstancesAliases(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	switch name {
	case "max-concurrent", "max", "count":
		name = "max-instances"
	}
	return pflag.NormalizedName(name)
}

// ParsedConstraints parses --constraint values.
func (p *Placement) ParsedConstraints() (map[string]string, error) {
	return cli.ParseKV(p.Constraints, "--constraint")
}

// ParsedAnnotations parses --annotations values (nil when none).
func (p *Placement) ParsedAnnotations() (map[string]string, error) {
	if len(p.Annotations) == 0 {
		return nil, nil
	}
	return cli.ParseKV(p.Annotations, "--annotations")
}

// ConfigNames validates --config names.
func (p *Placement) ConfigNames() ([]string, error) {
	for _, n := range p.Config {
		if err := ctl.CheckName("--config name", n); err != nil {
			return nil, cli.Usage(err)
		}
		if !ctl.ValidToken(n) {
			return nil, cli.Usage(fmt.Errorf("invalid --config name %q: it must be one word without '.', '*', '>' or spaces", n))
		}
	}
	return p.Config, nil
}

// WaitTimeout is --wait-timeout-ms when given, else the larger of the command's default and the
// request timeout (a long -t never shortens a wait, unlike upstream where -t 500 would).
func (p *Placement) WaitTimeout(def, requestTimeout time.Duration) time.Duration {
	if p.WaitTimeoutMs > 0 {
		return time.Duration(p.WaitTimeoutMs) * time.Millisecond
	}
	return max(def, requestTimeout)
}

// Validate checks flag values that need no lattice.
func (p *Placement) Validate() error {
	if p.WaitTimeoutMs < 0 {
		return cli.Usage(fmt.Errorf("invalid --wait-timeout-ms %d: must be positive", p.WaitTimeoutMs))
	}
	if p.AuctionTimeoutMs < 0 {
		return cli.Usage(fmt.Errorf("invalid --auction-timeout-ms %d: must be positive", p.AuctionTimeoutMs))
	}
	if _, err := p.ParsedConstraints(); err != nil {
		return err
	}
	if _, err := p.ParsedAnnotations(); err != nil {
		return err
	}
	_, err := p.ConfigNames()
	return err
}

// ValidateID checks a component or provider id the way upstream wash does: letters, digits, '_'
// and '-' only (it ends up in NATS subjects and KV keys).
func ValidateID(kind, id string) error {
	if strings.TrimSpace(id) == "" {
		return cli.Usage(fmt.Errorf("empty %s id", kind))
	}
	if err := ctl.CheckName(kind+" id", id); err != nil {
		return cli.Usage(err)
	}
	for _, r := range id {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-') {
			return cli.Usage(fmt.Errorf("invalid %s id %q: use only letters, digits, '_' and '-'", kind, id))
		}
	}
	return nil
}

// ResolveRef turns a local file path into an absolute file:// URL (hosts cannot read relative
// paths); OCI references, URLs and builtin refs pass unchanged.
func ResolveRef(ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", cli.Usage(errors.New("empty reference: give an OCI reference, a file:// URL or a local path"))
	}
	if strings.Contains(ref, "://") {
		return ref, nil
	}
	looksLocal := strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "./") || strings.HasPrefix(ref, "../") || strings.HasPrefix(ref, "~/") || filepath.IsAbs(ref) ||
		// a bare file name such as hello.wasm (an OCI reference has a '/' or ':')
		(!strings.ContainsAny(ref, "/:") && (strings.HasSuffix(ref, ".wasm") || strings.HasSuffix(ref, ".par") || strings.HasSuffix(ref, ".par.gz")))
	p := ref
	if strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(h, p[2:])
		}
	}
	st, err := os.Stat(p)
	if err != nil {
		if looksLocal {
			return "", fmt.Errorf("local file %s: %v", ref, errors.Unwrap(err))
		}
		return ref, nil // an OCI reference such as ghcr.io/org/app:1.0
	}
	if st.IsDir() {
		return "", fmt.Errorf("%s is a directory: give the .wasm file (or an OCI reference)", ref)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// Session is one connected lattice command.
type Session struct {
	Env      *cli.Env
	Client   *ctl.Client
	NC       *nats.Conn
	Resolved conn.Resolved
}

// Open resolves the connection options and connects.
func Open(env *cli.Env, o *conn.Options) (*Session, error) {
	d, err := env.Home()
	if err != nil {
		return nil, err
	}
	c, nc, r, err := o.Dial(d, "wash")
	if err != nil {
		return nil, err
	}
	return &Session{Env: env, Client: c, NC: nc, Resolved: r}, nil
}

// Close closes the connection.
func (s *Session) Close() { s.NC.Close() }

// Lattice is the lattice name.
func (s *Session) Lattice() string { return s.Client.Lattice() }

// FindHost resolves --host-id through host.ping.
func (s *Session) FindHost(ctx context.Context, query string) (ctl.Host, error) {
	hosts, err := s.Client.PingHosts(ctx, ctl.GatherOptions{})
	if err != nil {
		return ctl.Host{}, err
	}
	return ctl.ResolveHost(hosts, query, s.Lattice())
}

func (s *Session) auctionTimeout(p *Placement) time.Duration {
	if p.AuctionTimeoutMs > 0 {
		return time.Duration(p.AuctionTimeoutMs) * time.Millisecond
	}
	return s.Resolved.Timeout
}

// ChooseHost returns the host for a new component or provider: --host-id when given (its labels
// must satisfy any constraints), otherwise the first bidder of an auction.
func (s *Session) ChooseHost(ctx context.Context, p *Placement, kind, ref, id string) (ctl.Host, error) {
	constraints, err := p.ParsedConstraints()
	if err != nil {
		return ctl.Host{}, err
	}
	if p.HostID != "" {
		h, err := s.FindHost(ctx, p.HostID)
		if err != nil {
			return h, err
		}
		for k, v := range constraints {
			if h.Labels[k] != v {
				return h, fmt.Errorf("host %s (%s) does not satisfy --constraint %s=%s (its value is %q)", h.FriendlyName, h.ID, k, v, h.Labels[k])
			}
		}
		return h, nil
	}
	// Ping first (it returns as soon as the hosts have answered): with no host whose labels
	// satisfy the constraints there is no point waiting out an auction nobody will bid in, and
	// with some, the auction can end once each of them bid.
	hosts, err := s.Client.PingHosts(ctx, ctl.GatherOptions{})
	if err != nil {
		return ctl.Host{}, err
	}
	candidates := matching(hosts, constraints)
	if len(candidates) == 0 {
		return ctl.Host{}, s.noBidderError(hosts, kind, id, constraints)
	}
	opts := ctl.GatherOptions{Timeout: s.auctionTimeout(p), Expect: len(candidates)}
	var bidders []string
	if kind == "provider" {
		acks, err := s.Client.AuctionProvider(ctx, ctl.ProviderAuctionRequest{ProviderRef: ref, ProviderID: id, Constraints: constraints}, opts)
		if err != nil {
			return ctl.Host{}, err
		}
		for _, a := range acks {
			bidders = append(bidders, a.HostID)
		}
	} else {
		acks, err := s.Client.AuctionComponent(ctx, ctl.ComponentAuctionRequest{ComponentRef: ref, ComponentID: id, Constraints: constraints}, opts)
		if err != nil {
			return ctl.Host{}, err
		}
		for _, a := range acks {
			bidders = append(bidders, a.HostID)
		}
	}
	if len(bidders) == 0 {
		return ctl.Host{}, s.noBidderError(hosts, kind, id, constraints)
	}
	h := ctl.Host{ID: bidders[0]}
	for _, x := range hosts {
		if x.ID == h.ID {
			h = x
		}
	}
	return h, nil
}

// matching returns the hosts whose labels satisfy every constraint.
func matching(hosts []ctl.Host, constraints map[string]string) []ctl.Host {
	var out []ctl.Host
	for _, h := range hosts {
		ok := true
		for k, v := range constraints {
			if got, has := h.Labels[k]; !has || got != v {
				ok = false
			}
		}
		if ok {
			out = append(out, h)
		}
	}
	return out
}

// noBidderError explains an empty auction: no hosts at all, no host with the labels, or the id
// already runs on every matching host.
func (s *Session) noBidderError(hosts []ctl.Host, kind, id string, constraints map[string]string) error {
	if len(hosts) == 0 {
		return fmt.Errorf("no hosts in lattice %q: start one with `wash up`", s.Lattice())
	}
	n := len(matching(hosts, constraints))
	if n == 0 {
		return fmt.Errorf("no host in lattice %q matches the constraints %s (%d host(s) checked; see their labels with `wash get hosts`)", s.Lattice(), kvString(constraints), len(hosts))
	}
	if len(constraints) == 0 {
		where := fmt.Sprintf("all %d hosts", len(hosts))
		if len(hosts) == 1 {
			where = "the only host"
		}
		return fmt.Errorf("no host in lattice %q bid for %s %s: it already runs on %s; use `wash scale` to change it", s.Lattice(), kind, id, where)
	}
	return fmt.Errorf("no host in lattice %q bid for %s %s: it already runs on every host matching %s", s.Lattice(), kind, id, kvString(constraints))
}

func kvString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// Running describes one host on which a component or provider runs.
type Running struct {
	HostID       string
	FriendlyName string
	ImageRef     string
	MaxInstances uint32
	Annotations  map[string]string
}

// FindRunning lists the hosts where a component (or provider) id runs, limited to --host-id
// when given.
func (s *Session) FindRunning(ctx context.Context, kind, id, hostQuery string) ([]Running, error) {
	hostID := ""
	if hostQuery != "" {
		h, err := s.FindHost(ctx, hostQuery)
		if err != nil {
			return nil, err
		}
		hostID = h.ID
	}
	invs, err := get.Inventories(ctx, s.Client, hostID)
	if err != nil {
		return nil, err
	}
	var out []Running
	for _, inv := range invs {
		if kind == "provider" {
			for _, p := range inv.Providers {
				if p.ID == id {
					out = append(out, Running{HostID: inv.HostID, FriendlyName: inv.FriendlyName, ImageRef: p.ImageRef, Annotations: p.Annotations})
				}
			}
			continue
		}
		for _, c := range inv.Components {
			if c.ID == id {
				out = append(out, Running{HostID: inv.HostID, FriendlyName: inv.FriendlyName, ImageRef: c.ImageRef, MaxInstances: c.MaxInstances, Annotations: c.Annotations})
			}
		}
	}
	return out, nil
}

// NotRunningError says where the id was looked for.
func (s *Session) NotRunningError(kind, id, hostQuery string) error {
	if hostQuery != "" {
		return fmt.Errorf("%s %s is not running on host %s in lattice %q (see `wash get inventory`)", kind, id, hostQuery, s.Lattice())
	}
	return fmt.Errorf("%s %s is not running in lattice %q (see `wash get inventory`)", kind, id, s.Lattice())
}

// Waiter collects lattice events from before a request is sent until the matching one arrives.
type Waiter struct {
	sub *nats.Subscription
	ch  chan events.Event
	s   *Session
}

// Watch subscribes to the named events of the session's lattice; call it before the request.
func (s *Session) Watch(names ...string) (*Waiter, error) {
	w := &Waiter{ch: make(chan events.Event, 256), s: s}
	sub, err := events.Subscribe(s.NC, s.Lattice(), func(e events.Event) {
		select {
		case w.ch <- e:
		default: // a slow consumer loses only unrelated events; the waits are short
		}
	}, names...)
	if err != nil {
		return nil, err
	}
	if err := s.NC.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	w.sub = sub
	return w, nil
}

// Close ends the subscription.
func (w *Waiter) Close() { _ = w.sub.Unsubscribe() }

// ErrWaitTimeout is returned when no matching event arrived in time.
var ErrWaitTimeout = errors.New("timed out")

// Wait feeds events to match until it reports done (or an error) or the timeout passes.
func (w *Waiter) Wait(ctx context.Context, timeout time.Duration, match func(events.Event) (bool, error)) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return ErrWaitTimeout
		case e := <-w.ch:
			done, err := match(e)
			if err != nil || done {
				return err
			}
		}
	}
}

// Data decodes an event's data into v, ignoring malformed payloads (they never match).
func Data(e events.Event, v any) bool { return json.Unmarshal(e.Data, v) == nil }

// HostLabel is "friendly-name (NABC…)" or the bare id.
func HostLabel(h ctl.Host) string {
	if h.FriendlyName == "" {
		return h.ID
	}
	return h.FriendlyName + " (" + h.ID + ")"
}

// ScaleRequest is one component.scale sent by a command that then waits for its outcome.
type ScaleRequest struct {
	Host ctl.Host
	Cmd  ctl.ScaleComponentCommand
	// Wait for component_scaled (or component_scale_failed) from that host, up to Timeout.
	Wait    bool
	Timeout time.Duration
	// Verb names the operation in errors: "start", "scale".
	Verb string
}

// ScaleComponent sends the request, shows the host's reply message, and waits for the event that
// confirms the new count or reports the failure.
func (s *Session) ScaleComponent(ctx context.Context, r ScaleRequest) error {
	var w *Waiter
	if r.Wait {
		var err error
		if w, err = s.Watch(events.ComponentScaled, events.ComponentScaleFailed); err != nil {
			return err
		}
		defer w.Close()
	}
	r.Cmd.HostID = r.Host.ID
	resp, err := s.Client.ScaleComponent(ctx, r.Cmd)
	if err != nil {
		return fmt.Errorf("%s of component %s on host %s: %w", r.Verb, r.Cmd.ComponentID, HostLabel(r.Host), err)
	}
	if resp.Message != "" {
		s.Env.IO.Progress("host %s: %s", r.Host.ID, resp.Message)
	}
	if w == nil {
		return nil
	}
	id := r.Cmd.ComponentID
	err = w.Wait(ctx, r.Timeout, func(e events.Event) (bool, error) {
		if e.Source != r.Host.ID {
			return false, nil
		}
		switch e.Name() {
		case events.ComponentScaled:
			var d events.ComponentScaledData
			return Data(e, &d) && d.ComponentID == id && d.MaxInstances == r.Cmd.Count, nil
		case events.ComponentScaleFailed:
			var d events.ComponentScaleFailedData
			if Data(e, &d) && d.ComponentID == id {
				return true, fmt.Errorf("component %s failed to %s on host %s: %s", id, r.Verb, HostLabel(r.Host), strings.ReplaceAll(d.Error, "\n", " "))
			}
		}
		return false, nil
	})
	if errors.Is(err, ErrWaitTimeout) {
		return fmt.Errorf("host %s accepted the %s request for component %s but did not confirm it within %s; check `wash get inventory %s`, or raise --wait-timeout-ms", HostLabel(r.Host), r.Verb, id, r.Timeout, r.Host.ID)
	}
	return err
}

// Prepared is an open session with a workload request's validated parts.
type Prepared struct {
	*Session
	Ref         string // absolute file:// URL for a local path, otherwise as given
	Annotations map[string]string
	Config      []string
}

// Prepare validates a start/scale request (id, placement flags, reference) before any
// connection is made, then opens the session.
func Prepare(env *cli.Env, o *conn.Options, p *Placement, kind, id, rawRef string) (*Prepared, error) {
	if err := validateRequest(p, kind, id); err != nil {
		return nil, err
	}
	ref, err := ResolveRef(rawRef)
	if err != nil {
		return nil, err
	}
	annotations, _ := p.ParsedAnnotations() // checked by Validate
	config, _ := p.ConfigNames()
	s, err := Open(env, o)
	if err != nil {
		return nil, err
	}
	return &Prepared{Session: s, Ref: ref, Annotations: annotations, Config: config}, nil
}

func validateRequest(p *Placement, kind, id string) error {
	if err := ValidateID(kind, id); err != nil {
		return err
	}
	return p.Validate()
}

// OpenRunning validates a request about an existing workload, connects, and finds where the
// id runs (on --host-id only, when given); nothing running is an error that says so.
func OpenRunning(ctx context.Context, env *cli.Env, o *conn.Options, p *Placement, kind, id string) (*Session, []Running, error) {
	if err := validateRequest(p, kind, id); err != nil {
		return nil, nil, err
	}
	s, err := Open(env, o)
	if err != nil {
		return nil, nil, err
	}
	running, err := s.FindRunning(ctx, kind, id, p.HostID)
	if err == nil && len(running) == 0 {
		err = s.NotRunningError(kind, id, p.HostID)
	}
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, running, nil
}
