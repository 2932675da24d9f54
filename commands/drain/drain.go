// Package drain implements `wash drain`: empty the caches wash keeps (upstream's command, with
// upstream's cache names mapped to where this wash keeps them).
package drain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/commands/output"
)

// what is one drainable cache: the directories it empties and, for some, what is kept.
type what struct {
	name, short string
	dirs        func(d home.Dir) []string
	keep        map[string]bool // entries of a directory left alone
	needsIdle   bool            // refused while hosts recorded here run
}

// Caches, in upstream's names (crates/wash/src/lib/drain.rs:9-41). Upstream's own temp caches
// ($TMPDIR/wasmcloud_ocicache and wasmcloudcache) are emptied too when they exist.
var caches = []what{
	{name: "oci", short: "Remove artifacts pulled from OCI registries",
		dirs: func(d home.Dir) []string {
			return []string{filepath.Join(d.Path, "oci-cache"), filepath.Join(os.TempDir(), "wasmcloud_ocicache")}
		},
		keep: map[string]bool{"providers": true}},
	{name: "lib", short: "Remove provider binaries extracted from archives and compiled component code",
		dirs: func(d home.Dir) []string {
			return []string{filepath.Join(d.Path, "oci-cache", "providers"), filepath.Join(d.Path, "wasm-cache"), filepath.Join(os.TempDir(), "wasmcloudcache")}
		},
		needsIdle: true},
	{name: "dev", short: "Remove files and logs of wash dev sessions",
		dirs: func(d home.Dir) []string { return []string{filepath.Join(d.Path, "dev")} }},
	{name: "downloads", short: "Remove logs of lattices that wash up started (wash downloads no binaries)",
		dirs:      func(d home.Dir) []string { return []string{filepath.Join(d.Path, "logs")} },
		needsIdle: true},
}

// Options name the caches to drain (upstream's names; `all` names every one).
type Options struct{ Caches []string }

// NewCmd builds `wash drain`.
func NewCmd(env *cli.Env) *cobra.Command { return newCmd(env, nil) }

func newCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "drain all|oci|lib|dev|downloads",
		Short: "Empty wash's caches (artifacts, extracted providers, compiled code, logs)",
		Long: `Empty caches under $WASH_HOME. Lattice state (the JetStream store: links, config,
apps) is never touched; use 'wash down --purge-jetstream' for that. lib, downloads and all are
refused while hosts that wash up started from this WASH_HOME still run.`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			return cli.Usage(errors.New("missing what to drain: all, oci, lib, dev or downloads"))
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use: "all", Short: "Remove all cached files", Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, c := range caches {
				o.Caches = append(o.Caches, c.name)
			}
			return cli.Run(cmd.Context(), env, o, runF, Run)
		},
	})
	for _, c := range caches {
		cmd.AddCommand(&cobra.Command{
			Use: c.name, Short: c.short, Args: cli.Args(cobra.NoArgs),
			RunE: func(cmd *cobra.Command, _ []string) error {
				o.Caches = []string{c.name}
				return cli.Run(cmd.Context(), env, o, runF, Run)
			},
		})
	}
	return cmd
}

// Run empties the named caches.
func Run(_ context.Context, env *cli.Env, o *Options) error {
	var which []what
	for _, name := range o.Caches {
		i := slices.IndexFunc(caches, func(c what) bool { return c.name == name })
		if i < 0 {
			return cli.Usage(fmt.Errorf("unknown cache %q: all, oci, lib, dev or downloads", name))
		}
		which = append(which, caches[i])
	}
	return drain(env, which...)
}

// drain empties the directories of the given caches that exist and reports which.
func drain(env *cli.Env, which ...what) error {
	d, err := env.Home()
	if err != nil {
		return err
	}
	for _, w := range which {
		if !w.needsIdle {
			continue
		}
		if hosts, _ := d.Hosts(); len(hosts) > 0 {
			return fmt.Errorf("cannot drain %s: %d host(s) started from %s still run and may use it; stop them with `wash down` first", w.name, len(hosts), d.Path)
		}
	}
	drained := []string{}
	for _, w := range which {
		for _, dir := range w.dirs(d) {
			ok, err := empty(dir, w.keep)
			if err != nil {
				return fmt.Errorf("draining %s: %w", dir, err)
			}
			if ok {
				drained = append(drained, dir)
			}
		}
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"drained": drained})
	}
	if len(drained) == 0 {
		env.IO.Println("Nothing to drain.")
		return nil
	}
	env.IO.Printf("Successfully cleared caches at: %s\n", strings.Join(drained, ", "))
	return nil
}

// empty removes what dir holds (except keep); false when dir does not exist.
func empty(dir string, keep map[string]bool) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if keep[e.Name()] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return false, err
		}
	}
	return true, nil
}
