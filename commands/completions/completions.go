// Package completions implements `wash completions`: upstream wash's way of installing shell
// completion, a file written into a directory (`wash completion SHELL` prints the script).
package completions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/commands/output"
)

// shell is one of upstream's shell names, the file clap_complete writes for it and a generator.
type shell struct {
	name, file string
	gen        func(root *cobra.Command, b *bytes.Buffer) error
}

// shells are the shells `wash completions` writes files for.
var shells = []shell{
	{"zsh", "_wash", func(r *cobra.Command, b *bytes.Buffer) error { return r.GenZshCompletion(b) }},
	{"bash", "wash.bash", func(r *cobra.Command, b *bytes.Buffer) error { return r.GenBashCompletionV2(b, true) }},
	{"fish", "wash.fish", func(r *cobra.Command, b *bytes.Buffer) error { return r.GenFishCompletion(b, true) }},
	{"power-shell", "_wash.ps1", func(r *cobra.Command, b *bytes.Buffer) error { return r.GenPowerShellCompletionWithDesc(b) }},
}

// Options are the flag and the shell of `wash completions`.
type Options struct {
	Dir   string
	Shell string // one of shells' names
	root  *cobra.Command
}

// NewCmd builds `wash completions -d DIR SHELL`.
func NewCmd(env *cli.Env) *cobra.Command { return newCmd(env, nil) }

func newCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "completions [-d DIR] zsh|bash|fish|power-shell",
		Short: "Write a shell completion file into a directory (as upstream wash)",
		Example: `  wash completions -d ~/.zsh/completions zsh
  wash completions bash   # writes ./wash.bash`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			return cli.Usage(errors.New("missing shell: zsh, bash, fish or power-shell"))
		},
	}
	cmd.PersistentFlags().StringVarP(&o.Dir, "dir", "d", ".", "directory to write the completion file into")
	for _, s := range shells {
		cmd.AddCommand(&cobra.Command{
			Use:   s.name,
			Short: "Write " + s.file + " for " + s.name,
			Args:  cli.Args(cobra.NoArgs),
			RunE: func(c *cobra.Command, _ []string) error {
				o.Shell, o.root = s.name, c.Root()
				return cli.Run(c.Context(), env, o, runF, Run)
			},
		})
	}
	return cmd
}

// Run writes the completion file of o.Shell for the command tree wash runs in.
func Run(_ context.Context, env *cli.Env, o *Options) error {
	i := slices.IndexFunc(shells, func(s shell) bool { return s.name == o.Shell })
	if i < 0 {
		return cli.Usage(fmt.Errorf("unknown shell %q: zsh, bash, fish or power-shell", o.Shell))
	}
	s := shells[i]
	var b bytes.Buffer
	if err := s.gen(o.root, &b); err != nil {
		return err
	}
	p := filepath.Join(o.Dir, s.file)
	if err := home.WriteFileAtomic(p, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("generating shell completion file in folder '%s': %w", o.Dir, err)
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"path": p})
	}
	env.IO.Printf("Generated completion file: %s\n", p)
	return nil
}
