// Package commands assembles the wash command tree. Each command group lives in its own
// package with an options struct, a cobra constructor and a Run function tests can call.
package commands

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/app"
	"github.com/wasmlattice/wash/commands/artifact"
	"github.com/wasmlattice/wash/commands/build"
	"github.com/wasmlattice/wash/commands/call"
	"github.com/wasmlattice/wash/commands/claims"
	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/completions"
	"github.com/wasmlattice/wash/commands/config"
	"github.com/wasmlattice/wash/commands/ctx"
	"github.com/wasmlattice/wash/commands/dashboard"
	"github.com/wasmlattice/wash/commands/dev"
	"github.com/wasmlattice/wash/commands/down"
	"github.com/wasmlattice/wash/commands/drain"
	"github.com/wasmlattice/wash/commands/events"
	"github.com/wasmlattice/wash/commands/generate"
	"github.com/wasmlattice/wash/commands/get"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/commands/keys"
	"github.com/wasmlattice/wash/commands/label"
	"github.com/wasmlattice/wash/commands/link"
	"github.com/wasmlattice/wash/commands/logs"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/commands/scale"
	"github.com/wasmlattice/wash/commands/secrets"
	"github.com/wasmlattice/wash/commands/start"
	"github.com/wasmlattice/wash/commands/stop"
	"github.com/wasmlattice/wash/commands/ui"
	"github.com/wasmlattice/wash/commands/up"
	"github.com/wasmlattice/wash/commands/update"
	"github.com/wasmlattice/wash/commands/version"
	"github.com/wasmlattice/wash/commands/wadm"
)

// NewRoot builds the root command.
func NewRoot(env *cli.Env) *cobra.Command {
	var format string
	var showVersion bool
	root := &cobra.Command{
		Use:   "wash",
		Short: "wash: run and manage wasmCloud lattices",
		Long: `wash starts local wasmCloud lattices (embedded NATS, a built-in host, wadm) and talks the
wasmCloud control interface to any lattice, local or remote.

Get started:
  wash new component hello -t hello-world-typescript
                        a component project; run wash dev inside it to build and serve it
  wash up -d            start a local lattice in the background
  wash get hosts        list its hosts
  wash down             stop it`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			f, err := output.ParseFormat(format)
			if err != nil {
				return cli.Usage(err)
			}
			env.IO.Format = f
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if showVersion {
				return version.Run(env)
			}
			_ = cmd.Help()
			return &cli.SilentError{Code: 2}
		},
	}
	root.PersistentFlags().StringVarP(&format, "output", "o", "text", "output format: text or json")
	// -V/--version prints the version tree, as upstream wash (also with -o json).
	root.Flags().BoolVarP(&showVersion, "version", "V", false, "print the versions of wash and of what is built into it")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.Usage(err) })
	// Groups in the order of a day's work, as upstream's help does; commands keep their order.
	cobra.EnableCommandSorting = false
	groups := []struct {
		id, title string
		cmds      []*cobra.Command
	}{
		{"build", "Build components:", []*cobra.Command{generate.NewCmd(env), build.NewCmd(env), dev.NewCmd(env)}},
		{"lattice", "Run a lattice:", []*cobra.Command{up.NewCmd(env), down.NewCmd(env), wadm.NewCmd(env)}},
		{"apps", "Deploy applications:", []*cobra.Command{app.NewCmd(env)}},
		{"observe", "Look at a lattice:", []*cobra.Command{get.NewCmd(env), events.NewCmd(env), logs.NewCmd(env), dashboard.NewCmd(env), ui.NewCmd(env)}},
		{"control", "Control workloads:", []*cobra.Command{start.NewCmd(env), stop.NewCmd(env), scale.NewCmd(env),
			update.NewCmd(env), link.NewCmd(env), config.NewCmd(env), secrets.NewCmd(env), label.NewCmd(env), call.NewCmd(env)}},
		{"artifacts", "Move artifacts:", []*cobra.Command{artifact.NewPushCmd(env), artifact.NewPullCmd(env),
			artifact.NewInspectCmd(env), artifact.NewParCmd(env)}},
		{"configure", "Configure wash:", []*cobra.Command{ctx.NewCmd(env), keys.NewCmd(env), claims.NewCmd(env), version.NewCmd(env), newCompletionCmd(), completions.NewCmd(env), drain.NewCmd(env)}},
	}
	for _, g := range groups {
		root.AddGroup(&cobra.Group{ID: g.id, Title: g.title})
		for _, c := range g.cmds {
			c.GroupID = g.id
			root.AddCommand(c)
		}
	}
	root.SetHelpCommandGroupID("configure")
	root.SetCompletionCommandGroupID("configure")
	return root
}

func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:       "completion bash|zsh|fish|powershell",
		Short:     "Print a shell completion script",
		Long:      "Print a completion script. For example: source <(wash completion bash)",
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      cli.Args(cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs)),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return cmd.Root().GenBashCompletionV2(out, true)
			case "zsh":
				return cmd.Root().GenZshCompletion(out)
			case "fish":
				return cmd.Root().GenFishCompletion(out, true)
			default:
				return cmd.Root().GenPowerShellCompletionWithDesc(out)
			}
		},
	}
}

// Execute runs wash with args and returns the process exit code: 0 ok, 1 failure, 2 usage.
func Execute(ctx context.Context, env *cli.Env, args []string) int {
	home.AdoptUpstreamDirs()
	root := NewRoot(env)
	root.SetArgs(args)
	root.SetOut(env.IO.Out)
	root.SetErr(env.IO.Err)
	// -o json must shape errors even when parsing fails before PersistentPreRun.
	for i, a := range args {
		if (a == "-o" || a == "--output") && i+1 < len(args) && args[i+1] == "json" || a == "--output=json" || a == "-ojson" {
			env.IO.Format = output.JSON
		}
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var silent *cli.SilentError
	if errors.As(err, &silent) {
		return silent.Code
	}
	env.IO.PrintError(err)
	if cli.IsUsage(err) || isCobraUsage(err) {
		if !env.IO.JSON() {
			env.IO.Progress("Run 'wash --help' for usage.")
		}
		return 2
	}
	return 1
}

func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "required flag", "if any flags in the group", "accepts ", "requires at least", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// ExecutablePath is this binary, for re-running detached processes.
func ExecutablePath() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return os.Args[0]
}
