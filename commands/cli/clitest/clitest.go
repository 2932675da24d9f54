// Package clitest runs a command's flag and argument parsing without running the command: the
// tests of each command package build it through its newCmd(env, runF) seam and check that what
// a user types becomes the options it means, with no lattice and no state directory.
package clitest

import (
	"io"
	"testing"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/output"
)

// Seam is a command's seam: it builds the command, which hands its options to runF.
type Seam[O any] func(*cli.Env, func(*O) error) *cobra.Command

// Parse builds the command with newCmd, runs it on args and returns the options its run
// function would have received; an error is what wash would report instead (a usage error for
// a bad flag or argument).
func Parse[O any](newCmd Seam[O], args ...string) (*O, error) {
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

// Check fails the test unless args parse and check accepts the options they give.
func Check[O any](t testing.TB, newCmd Seam[O], args []string, check func(*O) bool) {
	t.Helper()
	o, err := Parse(newCmd, args...)
	switch {
	case err != nil:
		t.Errorf("%q: %v", args, err)
	case !check(o):
		t.Errorf("%q: options %+v", args, *o)
	}
}

// WantUsage fails the test unless each list of arguments is a usage error.
func WantUsage[O any](t testing.TB, newCmd Seam[O], argLists ...[]string) {
	t.Helper()
	for _, args := range argLists {
		if _, err := Parse(newCmd, args...); !cli.IsUsage(err) {
			t.Errorf("%q: want a usage error, got %v", args, err)
		}
	}
}

// Args is a list of arguments, to keep tables short.
func Args(a ...string) []string { return a }
