// Package placement holds the flags `wash start`, `stop`, `scale` and `update` share (which host,
// which constraints, how long to wait), their checks, the turning of local paths into file://
// references, and the connected session those commands run lattice/workload operations on.
package placement

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/pflag"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/workload"
)

// Default waits for the event that ends an operation, as upstream wash uses them (its help texts
// say 5 s and 30 s, the code waits 10 s and 60 s).
const (
	StartComponentWait = 10 * time.Second
	StartProviderWait  = 60 * time.Second
	ScaleWait          = 10 * time.Second
	UpdateWait         = 10 * time.Second
)

// Flags are the flags that pick a host and describe the workload.
type Flags struct {
	HostID           string
	Constraints      []string
	Annotations      []string
	Config           []string
	SkipWait         bool
	WaitTimeoutMs    int
	AuctionTimeoutMs int
}

// AddHostFlag registers --host-id alone (stop, update).
func (p *Flags) AddHostFlag(fs *pflag.FlagSet) {
	fs.StringVar(&p.HostID, "host-id", "", "host to act on: full id, unique id prefix or friendly name")
}

// AddWaitFlags registers --skip-wait and --wait-timeout-ms.
func (p *Flags) AddWaitFlags(fs *pflag.FlagSet, def time.Duration, event string) {
	fs.BoolVar(&p.SkipWait, "skip-wait", false, "return once the host accepted the request, without waiting for "+event)
	fs.IntVar(&p.WaitTimeoutMs, "wait-timeout-ms", 0, fmt.Sprintf("how long to wait for %s (default %d, or --timeout-ms if larger)", event, def.Milliseconds()))
}

// AddStartFlags registers the flags of a start: --host-id, the auction's, the workload's and
// the wait's.
func (p *Flags) AddStartFlags(fs *pflag.FlagSet, wait time.Duration, event string) {
	p.AddHostFlag(fs)
	p.AddAuctionFlags(fs)
	p.AddWorkloadFlags(fs)
	p.AddWaitFlags(fs, wait, event)
}

// AddAuctionFlags registers --constraint and --auction-timeout-ms.
func (p *Flags) AddAuctionFlags(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&p.Constraints, "constraint", "c", nil, "label the chosen host must carry, key=value (repeatable; used for the auction when --host-id is not given)")
	fs.IntVar(&p.AuctionTimeoutMs, "auction-timeout-ms", 0, "upper bound for collecting auction bids (default: --timeout-ms)")
}

// AddWorkloadFlags registers --annotations and --config.
func (p *Flags) AddWorkloadFlags(fs *pflag.FlagSet) {
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
func (p *Flags) ParsedConstraints() (map[string]string, error) {
	return cli.ParseKV(p.Constraints, "--constraint")
}

// ParsedAnnotations parses --annotations values (nil when none).
func (p *Flags) ParsedAnnotations() (map[string]string, error) {
	if len(p.Annotations) == 0 {
		return nil, nil
	}
	return cli.ParseKV(p.Annotations, "--annotations")
}

// ConfigNames validates --config names.
func (p *Flags) ConfigNames() ([]string, error) {
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
func (p *Flags) WaitTimeout(def, requestTimeout time.Duration) time.Duration {
	if p.WaitTimeoutMs > 0 {
		return time.Duration(p.WaitTimeoutMs) * time.Millisecond
	}
	return max(def, requestTimeout)
}

// Validate checks flag values that need no lattice.
func (p *Flags) Validate() error {
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

// Session is one connected lattice command: the lattice/workload operations, with the
// command's environment (host replies go to its progress output) and resolved connection.
type Session struct {
	*workload.Session
	Env      *cli.Env
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
	return &Session{Session: &workload.Session{Client: c, NC: nc, Progress: env.IO.Progress}, Env: env, Resolved: r}, nil
}

// Close closes the connection.
func (s *Session) Close() { s.NC.Close() }

// Auction is where the flags say a new workload may go (the auction is bounded by
// --auction-timeout-ms, else the request timeout).
func (s *Session) Auction(p *Flags) (workload.Auction, error) {
	constraints, err := p.ParsedConstraints()
	if err != nil {
		return workload.Auction{}, err
	}
	timeout := s.Resolved.Timeout
	if p.AuctionTimeoutMs > 0 {
		timeout = time.Duration(p.AuctionTimeoutMs) * time.Millisecond
	}
	return workload.Auction{HostID: p.HostID, Constraints: constraints, Timeout: timeout}, nil
}

// ChooseHost returns the host for a new component or provider: --host-id when given (its labels
// must satisfy any constraints), otherwise the first bidder of an auction.
func (s *Session) ChooseHost(ctx context.Context, p *Flags, kind, ref, id string) (ctl.Host, error) {
	a, err := s.Auction(p)
	if err != nil {
		return ctl.Host{}, err
	}
	return s.Session.ChooseHost(ctx, a, kind, ref, id)
}

// ScaleComponent is workload's, with what to do when the host does not confirm in time.
func (s *Session) ScaleComponent(ctx context.Context, r workload.ScaleRequest) error {
	return WaitHint(s.Session.ScaleComponent(ctx, r), "check `wash get inventory "+r.Host.ID+"`, or raise --wait-timeout-ms")
}

// WaitHint adds what to do next to an error that says a wait ran out.
func WaitHint(err error, hint string) error {
	if errors.Is(err, workload.ErrWaitTimeout) {
		return fmt.Errorf("%v; %s", err, hint)
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
func Prepare(env *cli.Env, o *conn.Options, p *Flags, kind, id, rawRef string) (*Prepared, error) {
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

func validateRequest(p *Flags, kind, id string) error {
	if err := ValidateID(kind, id); err != nil {
		return err
	}
	return p.Validate()
}

// OpenRunning validates a request about an existing workload, connects, and finds where the
// id runs (on --host-id only, when given); nothing running is an error that says so.
func OpenRunning(ctx context.Context, env *cli.Env, o *conn.Options, p *Flags, kind, id string) (*Session, []workload.Running, error) {
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

// OpenHost connects and finds the host query names (id, unique id prefix or friendly name).
func OpenHost(ctx context.Context, env *cli.Env, o *conn.Options, query string) (*Session, ctl.Host, error) {
	s, err := Open(env, o)
	if err != nil {
		return nil, ctl.Host{}, err
	}
	h, err := s.FindHost(ctx, query)
	if err != nil {
		s.Close()
		return nil, ctl.Host{}, err
	}
	return s, h, nil
}
