// Package completions implements `wash completions`: upstream wash's way of installing shell
// completion, a file written into a directory (`wash completion SHELL` prints the script).
package completions

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/commands/output"
)

// shells maps upstream's shell names to the file clap_complete writes and a generator.
var shells = []struct {
	name, file string
	gen        func(root *cobra.Command, b *bytes.Buffer) error
}{
	{"zsh", "_wash", func(r *cobra.Command, b *bytes.Buffer) error { return r.GenZshCompletion(b) }},
	{"bash", "wash.bash", func(r *cobra.Command, b *bytes.Buffer) error { return r.GenBashCompletionV2(b, true) }},
	{"fish", "wash.fish", func(r *cobra.Command, b *bytes.Buffer) error { return r.GenFishCompletion(b, true) }},
	{"power-shell", "_wash.ps1", func(r *cobra.Command, b *bytes.Buffer) error { return r.GenPowerShellCompletionWithDesc(b) }},
}

// NewCmd builds `wash completions -d DIR SHELL`.
func NewCmd(env *cli.Env) *cobra.Command {
	var dir string
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
	cmd.PersistentFlags().StringVarP(&dir, "dir", "d", ".", "directory to write the completion file into")
	for _, s := range shells {
		cmd.AddCommand(&cobra.Command{
			Use:   s.name,
			Short: "Write " + s.file + " for " + s.name,
			Args:  cli.Args(cobra.NoArgs),
			RunE: func(c *cobra.Command, _ []string) error {
				var b bytes.Buffer
				if err := s.gen(c.Root(), &b); err != nil {
					return err
				}
				p := filepath.Join(dir, s.file)
				if err := home.WriteFileAtomic(p, b.Bytes(), 0o644); err != nil {
					return fmt.Errorf("generating shell completion file in folder '%s': %w", dir, err)
				}
				if env.IO.JSON() {
					return env.IO.PrintResult(output.Result{"path": p})
				}
				env.IO.Printf("Generated completion file: %s\n", p)
				return nil
			},
		})
	}
	return cmd
}
