// Package clitest runs a command's flag and argument parsing without running the command: the
// tests of each command package build it through its newCmd(env, runF) seam and check that what
// a user types becomes the options it means, with no lattice and no state directory.
package clitest

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/output"
)

// Parse builds the command with newCmd, runs it on args and returns the options its run
// function would have received; an error is what wash would report instead (a usage error for
// a bad flag or argument).
func Parse[O any](newCmd func(*cli.Env, func(*O) error) *cobra.Command, args ...string) (*O, error) {
	var got *O
	env := &cli.Env{IO: output.Buffered(io.Discard, io.Discard), Version: "test"}
	cmd := newCmd(env, func(o *O) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	// As the root command does: a flag wash cannot parse is a usage error.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.Usage(err) })
	if err := cmd.Execute(); err != nil {
		return nil, err
	}
	return got, nil
}
