// Package commands assembles the wash command tree. Each command group lives in its own
// package with an options struct, a cobra constructor and a Run function tests can call.
package commands

import (
	"context"
	"errors"
	"os"
	"slices"
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

// NewRoot builds the root command with every command.
func NewRoot(env *cli.Env) *cobra.Command { return newRoot(env, "") }

// topCommand is one top-level command: the names it answers to (its name, then its aliases;
// TestTopCommandNames pins them to what its constructor builds) and its constructor.
type topCommand struct {
	names []string
	build func(*cli.Env) *cobra.Command
}

// commandGroups lists the top-level commands in groups, in the order of a day's work, as
// upstream's help does; commands keep their order.
var commandGroups = []struct {
	id, title string
	cmds      []topCommand
}{
	{"build", "Build components:", []topCommand{{[]string{"new"}, generate.NewCmd}, {[]string{"build"}, build.NewCmd}, {[]string{"dev"}, dev.NewCmd}}},
	{"lattice", "Run a lattice:", []topCommand{{[]string{"up"}, up.NewCmd}, {[]string{"down"}, down.NewCmd}, {[]string{"wadm"}, wadm.NewCmd}}},
	{"apps", "Deploy applications:", []topCommand{{[]string{"app", "apps"}, app.NewCmd}}},
	{"observe", "Look at a lattice:", []topCommand{{[]string{"get"}, get.NewCmd}, {[]string{"events"}, events.NewCmd},
		{[]string{"logs"}, logs.NewCmd}, {[]string{"dashboard", "dash"}, dashboard.NewCmd}, {[]string{"ui"}, ui.NewCmd}}},
	{"control", "Control workloads:", []topCommand{{[]string{"start"}, start.NewCmd}, {[]string{"stop"}, stop.NewCmd},
		{[]string{"scale"}, scale.NewCmd}, {[]string{"update"}, update.NewCmd}, {[]string{"link", "links"}, link.NewCmd},
		{[]string{"config"}, config.NewCmd}, {[]string{"secrets", "secret"}, secrets.NewCmd}, {[]string{"label", "tag"}, label.NewCmd},
		{[]string{"call"}, call.NewCmd}}},
	{"artifacts", "Move artifacts:", []topCommand{{[]string{"push"}, artifact.NewPushCmd}, {[]string{"pull"}, artifact.NewPullCmd},
		{[]string{"inspect"}, artifact.NewInspectCmd}, {[]string{"par"}, artifact.NewParCmd}}},
	{"configure", "Configure wash:", []topCommand{{[]string{"ctx", "context", "contexts"}, ctx.NewCmd}, {[]string{"keys", "key"}, keys.NewCmd},
		{[]string{"claims"}, claims.NewCmd}, {[]string{"version"}, version.NewCmd},
		{[]string{"completion"}, func(*cli.Env) *cobra.Command { return newCompletionCmd() }},
		{[]string{"completions"}, completions.NewCmd}, {[]string{"drain"}, drain.NewCmd}}},
}

// newRoot builds the root command. With only set to a top-level command's name or alias, it
// builds that one command and no other: the process then never runs (and so never pages in)
// the constructors, flag sets and help texts of the thirty others, which matters most for the
// long-lived `wash up` process. Help and completion need the whole tree (see calledCommand).
func newRoot(env *cli.Env, only string) *cobra.Command {
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
	cobra.EnableCommandSorting = false // groups and commands in commandGroups' order
	for _, g := range commandGroups {
		root.AddGroup(&cobra.Group{ID: g.id, Title: g.title})
		for _, tc := range g.cmds {
			if only != "" && !slices.Contains(tc.names, only) {
				continue
			}
			c := tc.build(env)
			c.GroupID = g.id
			root.AddCommand(c)
		}
	}
	root.SetHelpCommandGroupID("configure")
	root.SetCompletionCommandGroupID("configure")
	if only != "" {
		root.CompletionOptions.DisableDefaultCmd = true // ours is "completion"; not called
	}
	return root
}

// calledCommand is the top-level command args call, when building only that one is enough:
// the first argument that is not a root flag (or a root flag's value) names a top-level
// command other than the completion ones, which print scripts for the whole tree. Otherwise
// (help, shell completion requests, an unknown or missing command) it returns "" and the
// whole tree is built, so help lists every command and typos get suggestions.
func calledCommand(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-o" || a == "--output":
			i++ // its value
			continue
		case a == "--":
			return ""
		case strings.HasPrefix(a, "-"):
			continue
		}
		if a == "completion" || a == "completions" {
			return ""
		}
		for _, g := range commandGroups {
			for _, tc := range g.cmds {
				if slices.Contains(tc.names, a) {
					return a
				}
			}
		}
		return ""
	}
	return ""
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
	root := newRoot(env, calledCommand(args))
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
