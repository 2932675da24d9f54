// Package artifact implements the artifact commands: wash push, pull, inspect and par
// (create, inspect, insert). Each has an options struct, a cobra constructor and a Run function
// that tests call directly.
package artifact

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/progress"
	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/oci"
)

// RegistryOptions are the flags shared by commands that talk to a registry.
type RegistryOptions struct {
	Registry              string // default registry for refs without one (WASH_REG_URL)
	User, Password        string // WASH_REG_USER / WASH_REG_PASSWORD
	Insecure              bool
	InsecureSkipTLSVerify bool
	AllowLatest           bool
	// CacheDir overrides $WASH_HOME/oci-cache (tests).
	CacheDir string
}

func (o *RegistryOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.Registry, "registry", "r", "", "registry for references without one (env WASH_REG_URL)")
	f.StringVarP(&o.User, "user", "u", "", "registry username (env WASH_REG_USER)")
	f.StringVarP(&o.Password, "password", "p", "", "registry password (env WASH_REG_PASSWORD)")
	f.BoolVar(&o.Insecure, "insecure", false, "use plain HTTP")
	f.BoolVar(&o.InsecureSkipTLSVerify, "insecure-skip-tls-verify", false, "accept any TLS certificate")
	f.BoolVar(&o.AllowLatest, "allow-latest", false, "allow the tag 'latest' (explicit or implied)")
}

var registryEnv = map[string]string{"registry": "WASH_REG_URL", "user": "WASH_REG_USER", "password": "WASH_REG_PASSWORD"}

func (o *RegistryOptions) client(env *cli.Env) (*oci.Client, error) {
	if (o.User == "") != (o.Password == "") {
		return nil, cli.Usage(fmt.Errorf("--user and --password must be given together"))
	}
	cache := o.CacheDir
	if cache == "" {
		h, err := env.Home()
		if err != nil {
			return nil, err
		}
		cache = filepath.Join(h.Path, "oci-cache")
	}
	opts := oci.Options{
		CacheDir:              cache,
		AllowLatest:           o.AllowLatest,
		Insecure:              o.Insecure,
		InsecureSkipTLSVerify: o.InsecureSkipTLSVerify,
		UserAgent:             "wash/" + env.Version,
	}
	if o.User != "" {
		opts.Credentials = map[string]oci.Credential{"*": {Username: o.User, Password: o.Password}}
	}
	return oci.New(opts)
}

func (o *RegistryOptions) parse(ref string) (oci.Reference, error) {
	r, err := oci.ParseReferenceDefault(ref, o.Registry)
	if err != nil {
		return r, cli.Usage(err)
	}
	return r, nil
}

// progressThreshold: smaller transfers finish before a bar is worth drawing.
const progressThreshold = 1 << 20

// Bounds on local files the artifact commands read: a component or provider archive (several
// platforms' binaries) and a small side file (provider config, JSON schema). They keep a
// mistaken path such as /dev/zero from eating the machine's memory.
const (
	maxArtifactFile = 1 << 30
	maxSmallFile    = 16 << 20
)

// transfer reports progress of one transfer: a bar on a terminal, one plain line when piped.
type transfer struct {
	io    *output.IO
	verb  string
	mu    sync.Mutex
	bar   progress.Model
	last  time.Time
	shown bool
	done  bool
}

func newTransfer(io *output.IO, verb string) *transfer {
	return &transfer{io: io, verb: verb, bar: progress.New(progress.WithDefaultGradient(), progress.WithWidth(40))}
}

func (t *transfer) update(p oci.Progress) {
	if t.io.JSON() || p.Total < progressThreshold {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.io.Terminal {
		if !t.shown {
			t.shown = true
			fmt.Fprintf(t.io.Err, "%s %s (%s)\n", t.verb, p.Digest, humanBytes(p.Total))
		}
		return
	}
	if p.Done < p.Total && time.Since(t.last) < 100*time.Millisecond {
		return
	}
	t.last, t.shown = time.Now(), true
	frac := float64(p.Done) / float64(p.Total)
	fmt.Fprintf(t.io.Err, "\r%s %s %s / %s", t.verb, t.bar.ViewAs(frac), humanBytes(p.Done), humanBytes(p.Total))
	if p.Done >= p.Total && !t.done {
		t.done = true
		fmt.Fprintln(t.io.Err)
	}
}

func (t *transfer) finish() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.io.Terminal && t.shown && !t.done {
		fmt.Fprintln(t.io.Err)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func trimExt(name string) string {
	for _, ext := range []string{".par.gz", ".wasm", ".par", ".gz", ".exe"} {
		if strings.HasSuffix(name, ext) {
			return strings.TrimSuffix(name, ext)
		}
	}
	return strings.TrimSuffix(name, filepath.Ext(name))
}
