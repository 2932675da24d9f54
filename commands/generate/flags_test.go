package generate

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
	"github.com/wasmlattice/wash/templates"
)

func newComponentCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	return newKindCmd(env, templates.Component, runF)
}

func newProviderCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	return newKindCmd(env, templates.Provider, runF)
}

// Flag parsing → options, without writing a project or running git.
func TestNewFlags(t *testing.T) {
	clitest.Check(t, newComponentCmd, clitest.Args("hello", "--template-name", "hello-world-typescript", "--no-git-init"), func(o *Options) bool {
		return o.Kind == templates.Component && o.Name == "hello" && o.TemplateName == "hello-world-typescript" && o.NoGitInit &&
			o.Path == "" && o.Git == "" && !o.Silent && !o.List && o.Dir == ""
	})
	clitest.Check(t, newProviderCmd, clitest.Args("kv", "-t", "keyvalue-provider-go", "-v", "values.toml", "--silent"), func(o *Options) bool {
		return o.Kind == templates.Provider && o.Name == "kv" && o.TemplateName == "keyvalue-provider-go" && o.Values == "values.toml" && o.Silent
	})
	clitest.Check(t, newComponentCmd, clitest.Args("hello", "-p", "./tpl"), func(o *Options) bool { return o.Path == "./tpl" })
	// upstream's --subdir spelling of --subfolder
	clitest.Check(t, newComponentCmd, clitest.Args("hello", "--git", "owner/repo", "--subdir", "tpl", "--branch", "dev"), func(o *Options) bool {
		return o.Git == "owner/repo" && o.Subfolder == "tpl" && o.Branch == "dev"
	})
	// NAME is optional: it can come from --values or a prompt; --list needs none.
	clitest.Check(t, newComponentCmd, clitest.Args(), func(o *Options) bool { return o.Name == "" && !o.List })
	clitest.Check(t, newProviderCmd, clitest.Args("--list"), func(o *Options) bool { return o.List && o.Kind == templates.Provider })
	clitest.Check(t, newCmd, clitest.Args("--list"), func(o *ListOptions) bool { return o.Kind == "" })

	clitest.WantUsage(t, newComponentCmd, clitest.Args("a", "b"), clitest.Args("a", "--no-such-flag"))
	// `wash new` alone names neither kind nor --list
	clitest.WantUsage(t, newCmd, clitest.Args(), clitest.Args("component"))
}
