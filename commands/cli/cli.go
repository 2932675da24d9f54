// Package cli holds what every command receives: its I/O, the state directory and build
// information, plus the error kinds that map to exit codes.
package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/commands/output"
)

// Env is handed to every command constructor.
type Env struct {
	IO *output.IO
	// Executable is the wash binary, re-run for detached processes.
	Executable string
	Version    string
	Commit     string
}

// Home resolves and creates the state directory.
func (e *Env) Home() (home.Dir, error) {
	d, err := home.Resolve()
	if err != nil {
		return d, err
	}
	return d, d.Ensure()
}

// Resolve reads a command's connection settings (flags, environment, the chosen context in the
// state directory); a setting that cannot be used is a usage error, as a bad flag would be.
func (e *Env) Resolve(o *conn.Options) (conn.Resolved, error) {
	d, err := e.Home()
	if err != nil {
		return conn.Resolved{}, err
	}
	r, err := o.Resolve(d)
	if err != nil {
		return r, Usage(err)
	}
	return r, nil
}

// UsageError is a mistake in how the command was called (exit code 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usage wraps an error as a usage error.
func Usage(err error) error { return &UsageError{Err: err} }

// IsUsage reports whether err is a usage error.
func IsUsage(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}

// Args wraps a cobra argument validator so its failures are usage errors.
func Args(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return Usage(err)
		}
		return nil
	}
}

// Parent finishes cmd as a command that only groups subcommands: called bare, or with stray
// arguments, it fails with a usage error (exit 2) that names what is missing, rather than
// printing help and exiting 0, so a script that forgot the subcommand notices.
func Parent(cmd *cobra.Command, missing string, subs ...*cobra.Command) *cobra.Command {
	cmd.Args = Args(cobra.NoArgs)
	cmd.RunE = func(*cobra.Command, []string) error { return Usage(errors.New(missing)) }
	cmd.AddCommand(subs...)
	return cmd
}

// SilentError has already been reported to the user; only the exit code remains.
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return "" }

// Run is the seam between a command's flags and its work (`newCmd(env, runF)`, as in gh): tests
// pass runF to see the options flag parsing produced, without a lattice; wash passes nil and the
// command's run function does the work.
func Run[O any](ctx context.Context, env *Env, o *O, runF func(*O) error, run func(context.Context, *Env, *O) error) error {
	if runF != nil {
		return runF(o)
	}
	return run(ctx, env, o)
}

// OneArg completes cmd as a command over exactly one argument on the Run seam: the argument
// lands in *arg, then o goes to runF (tests) or run.
func OneArg[O any](env *Env, cmd *cobra.Command, arg *string, o *O, runF func(*O) error, run func(context.Context, *Env, *O) error) *cobra.Command {
	return argCmd(env, cmd, cobra.ExactArgs(1), arg, o, runF, run)
}

// OptionalArg is OneArg for an argument that may be left out (*arg then keeps its value).
func OptionalArg[O any](env *Env, cmd *cobra.Command, arg *string, o *O, runF func(*O) error, run func(context.Context, *Env, *O) error) *cobra.Command {
	return argCmd(env, cmd, cobra.MaximumNArgs(1), arg, o, runF, run)
}

func argCmd[O any](env *Env, cmd *cobra.Command, nargs cobra.PositionalArgs, arg *string, o *O, runF func(*O) error, run func(context.Context, *Env, *O) error) *cobra.Command {
	cmd.Args = Args(nargs)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 1 {
			*arg = args[0]
		}
		return Run(cmd.Context(), env, o, runF, run)
	}
	return cmd
}

// RunWithEnv is Run for a command whose flags may also come from environment variables (flag
// name → variable, as BindEnv takes them): flags left unset take the variables' values first.
func RunWithEnv[O any](cmd *cobra.Command, vars map[string]string, env *Env, o *O, runF func(*O) error, run func(context.Context, *Env, *O) error) error {
	if err := BindEnv(cmd.Flags(), vars); err != nil {
		return err
	}
	return Run(cmd.Context(), env, o, runF, run)
}

// RunUntilSignal is Run for commands that run until Ctrl+C (or SIGTERM) ends their context.
func RunUntilSignal[O any](ctx context.Context, env *Env, o *O, runF func(*O) error, run func(context.Context, *Env, *O) error) error {
	if runF != nil {
		return runF(o)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, env, o)
}
