// Package version implements `wash version`.
package version

import (
	"context"
	"runtime"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/lattice/host"
)

// Info is what `wash version` reports.
type Info struct {
	Wash       string `json:"wash"`
	Commit     string `json:"commit,omitempty"`
	NATSServer string `json:"nats-server"`
	Wasmcloud  string `json:"wasmcloud"`
	Go         string `json:"go"`
}

// Collect gathers the versions of what is built into this binary.
func Collect(env *cli.Env) Info {
	return Info{Wash: env.Version, Commit: env.Commit, NATSServer: "v" + server.VERSION, Wasmcloud: "v" + host.Version, Go: runtime.Version()}
}

// Options are the flags of `wash version` (none of its own; -o json is global).
type Options struct{}

// NewCmd builds `wash version`.
func NewCmd(env *cli.Env) *cobra.Command { return newCmd(env, nil) }

func newCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the versions of wash and of the lattice parts built into it",
		Args:  cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.Run(cmd.Context(), env, o, runF, func(_ context.Context, env *cli.Env, _ *Options) error { return Run(env) })
		},
	}
}

// Run prints the version information.
func Run(env *cli.Env) error {
	info := Collect(env)
	if env.IO.JSON() {
		return env.IO.PrintJSON(info)
	}
	env.IO.Printf("wash          %s\n", info.Wash)
	env.IO.Printf("├ nats-server %s (embedded)\n", info.NATSServer)
	env.IO.Printf("├ wasmcloud   %s (built-in host, control interface v1)\n", info.Wasmcloud)
	env.IO.Printf("└ go          %s\n", info.Go)
	return nil
}
