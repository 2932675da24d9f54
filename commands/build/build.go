// Package build implements `wash build`: read wasmcloud.toml, run the project's toolchain, then
// sign the component with claims into build/<name>_s.wasm, or pack and sign a provider's
// binaries into build/<bin>.par.gz (keys generated on first use).
package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/claims"
	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/keys"
	"github.com/wasmlattice/wash/internal/bounded"
	"github.com/wasmlattice/wash/project"
)

// ExperimentalTag is the tag upstream adds to components built for a WASI target.
const ExperimentalTag = "wasmcloud.com/experimental"

// Options are the flags of `wash build`.
type Options struct {
	keys.Signing
	ConfigPath string
	BuildOnly  bool
	SignOnly   bool
}

// NewCmd builds `wash build`.
func NewCmd(env *cli.Env) *cobra.Command { return newCmd(env, nil) }

func newCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build the project in this directory (wasmcloud.toml): a signed component or provider archive",
		Long: `Build the project described by wasmcloud.toml with its language's toolchain (npm and
componentize-js, cargo, TinyGo, or component.build_command), then embed signed claims:
the result is build/<name>_s.wasm unless component.destination says otherwise.

A provider project (type = "provider") is built with go build (once per target in
provider.targets; Go cross-compiles), cargo or provider.build_command, and packed into a
signed provider archive, build/<bin_name>.par.gz, as wash par create would.

Signing keys live in $WASH_HOME/keys and are generated on first use.`,
		Example: `  wash build
  wash build -p path/to/project
  wash build --build-only`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.RunWithEnv(cmd, keys.Env, env, o, runF, Run)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config-path", "p", "", "wasmcloud.toml, or the directory holding it (default: current directory)")
	f.BoolVar(&o.BuildOnly, "build-only", false, "build without signing (providers: binaries build/<bin>-<target>, no archive)")
	f.BoolVar(&o.SignOnly, "sign-only", false, "sign the existing build artifact without building (providers: pack the --build-only binaries)")
	o.Signing.Bind(cmd, "component (module) or provider (service)", "keys-directory")
	cmd.MarkFlagsMutuallyExclusive("build-only", "sign-only")
	return cmd
}

// Result is what a build produced.
type Result struct {
	Config *project.Config
	// Path is the signed component or provider archive (with BuildOnly: the unsigned
	// component, or the provider's first binary).
	Path   string
	Built  bool
	Signed bool
	// Providers only: the archive's targets, the binaries --build-only wrote, and the
	// provider's public key (the archive's subject).
	Targets  []string
	Binaries []string
	Service  string
}

// Run builds and prints where the component is.
func Run(ctx context.Context, env *cli.Env, o *Options) error {
	cfg, err := project.Load(o.ConfigPath)
	if err != nil {
		return err
	}
	res, err := Project(ctx, env, cfg, o)
	if err != nil {
		return err
	}
	if cfg.Type == project.TypeProvider {
		return printProvider(env, res)
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(map[string]any{"component_path": res.Path, "built": res.Built, "signed": res.Signed})
	}
	switch {
	case !res.Signed:
		env.IO.Printf("Component built and can be found at %s\n", res.Path)
	case !res.Built:
		env.IO.Printf("Component signed and can be found at %s\n", res.Path)
	default:
		env.IO.Printf("Component built and signed and can be found at %s\n", res.Path)
	}
	return nil
}

// Project builds and signs one loaded project. Tool output goes to stderr (never to stdout, so
// -o json stays parseable).
func Project(ctx context.Context, env *cli.Env, cfg *project.Config, o *Options) (*Result, error) {
	for _, w := range cfg.Warnings {
		env.IO.Progress("warning: %s: %s", cfg.File, w)
	}
	if cfg.Type == project.TypeProvider {
		return provider(ctx, env, cfg, o)
	}
	res := &Result{Config: cfg}
	artifact := cfg.ArtifactPath()
	if !o.SignOnly {
		b := &project.Builder{Out: env.IO.Err}
		a, err := b.Build(ctx, cfg)
		if err != nil {
			return nil, err
		}
		artifact, res.Built = a, true
	}
	if o.BuildOnly {
		res.Path = artifact
		return res, nil
	}
	data, err := bounded.ReadFile(artifact, project.MaxComponentSize)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && o.SignOnly {
			return nil, fmt.Errorf("nothing to sign: %s does not exist (run wash build first)", artifact)
		}
		return nil, err
	}
	m := &claims.Metadata{Signing: o.Signing, Name: cfg.Name, Ver: cfg.Version, Rev: cfg.Revision, Tags: append([]string(nil), cfg.Component.Tags...)}
	if m.KeysDir == "" && cfg.Component.KeyDirectory != "" {
		m.KeysDir = expandHome(cfg.Component.KeyDirectory)
	}
	if t := cfg.Component.WasmTargetResolved; t == "wasm32-wasip1" || t == "wasm32-wasip2" {
		m.Tags = appendUnique(m.Tags, ExperimentalTag)
	}
	stem := strings.TrimSuffix(filepath.Base(artifact), filepath.Ext(artifact))
	dest := cfg.SignedPath()
	if _, err := claims.SignFile(env, m, stem, data, dest); err != nil {
		return nil, err
	}
	res.Path, res.Signed = dest, true
	return res, nil
}

func printProvider(env *cli.Env, res *Result) error {
	if env.IO.JSON() {
		out := map[string]any{"path": res.Path, "built": res.Built, "signed": res.Signed, "targets": res.Targets}
		if res.Signed {
			out["service"] = res.Service
		} else {
			out["binaries"] = res.Binaries
		}
		return env.IO.PrintResult(out)
	}
	targets := strings.Join(res.Targets, ", ")
	switch {
	case !res.Signed:
		env.IO.Printf("Provider built for %s and can be found at %s\n", targets, strings.Join(res.Binaries, ", "))
	case !res.Built:
		env.IO.Printf("Provider archive (%s) signed and can be found at %s\n", targets, res.Path)
	default:
		env.IO.Printf("Provider built for %s, signed and packed, and can be found at %s\n", targets, res.Path)
	}
	return nil
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, rest)
		}
	}
	return p
}
