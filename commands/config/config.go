// Package config implements `wash config put|get|del`: named configuration stored in the
// lattice (CONFIGDATA_<lattice>) and attached to components, providers and links by name.
package config

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/commands/placement"
	"github.com/wasmlattice/wash/lattice/ctl"
)

// NewCmd builds `wash config`.
func NewCmd(env *cli.Env) *cobra.Command {
	return cli.Parent(&cobra.Command{
		Use:   "config",
		Short: "Store, show and delete named configuration in the lattice",
	}, "missing subcommand: put, get or del",
		newPutCmd(env, nil), newGetCmd(env, nil), newDelCmd(env, nil))
}

// Options are the flags of the config subcommands.
type Options struct {
	Conn   conn.Options
	Name   string
	Values []string
}

func validName(name string) error {
	if err := ctl.CheckName("config name", name); err != nil {
		return cli.Usage(err)
	}
	if !ctl.ValidToken(name) {
		return cli.Usage(fmt.Errorf("invalid config name %q: it must be one word without '.', '*', '>' or spaces", name))
	}
	return nil
}

func newPutCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:     "put NAME KEY=VALUE...",
		Aliases: []string{"create"},
		Short:   "Store named configuration (replacing any under that name)",
		Example: `  wash config put http-addr address=0.0.0.0:8080
  wash config put greeting message="hello world" lang=en`,
		Args: cli.Args(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name, o.Values = args[0], args[1:]
			return cli.Run(cmd.Context(), env, o, runF, RunPut)
		},
	}
	o.Conn.AddFlags(cmd.Flags())
	return cmd
}

// RunPut stores configuration.
func RunPut(ctx context.Context, env *cli.Env, o *Options) error {
	if err := validName(o.Name); err != nil {
		return err
	}
	if strings.HasPrefix(o.Name, "SECRET") {
		return cli.Usage(fmt.Errorf("config names starting with SECRET are reserved for secret references: choose another name than %q", o.Name))
	}
	values, err := parseValues(o.Values)
	if err != nil {
		return err
	}
	return PutValues(ctx, env, o, values)
}

// PutValues stores values under o.Name (secret references included: `wash secrets put` stores
// them through here).
func PutValues(ctx context.Context, env *cli.Env, o *Options, values map[string]string) error {
	s, err := placement.Open(env, &o.Conn)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Client.PutConfig(ctx, o.Name, values); err != nil {
		return explain(err, "config.put", s.Lattice())
	}
	text := fmt.Sprintf("Configuration '%s' put successfully.", o.Name)
	return env.IO.PrintOutcome("message", text, output.Result{"name": o.Name})
}

// parseValues splits k=v pairs at the first '=' (values may contain '=', e.g. base64).
func parseValues(pairs []string) (map[string]string, error) {
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, cli.Usage(fmt.Errorf("invalid config value %q: expected key=value", p))
		}
		out[k] = v
	}
	return out, nil
}

func explain(err error, op, lattice string) error {
	var he *ctl.HostError
	if errors.As(err, &he) {
		return fmt.Errorf("lattice %q refused %s: %s", lattice, op, strings.TrimSpace(he.Message))
	}
	if errors.Is(err, ctl.ErrNoResponders) {
		return fmt.Errorf("no host answered %s in lattice %q: start one with `wash up`", op, lattice)
	}
	return err
}

func newGetCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	return NewNameCmd(env, &cobra.Command{
		Use:   "get NAME",
		Short: "Show named configuration",
	}, runF, RunGet)
}

// NewNameCmd completes cmd as a subcommand over one stored NAME with the lattice connection
// flags: config get|del and secrets get|del (a secret reference is config under another name).
func NewNameCmd(env *cli.Env, cmd *cobra.Command, runF func(*Options) error, run func(context.Context, *cli.Env, *Options) error) *cobra.Command {
	o := &Options{}
	cmd = cli.OneArg(env, cmd, &o.Name, o, runF, run)
	o.Conn.AddFlags(cmd.Flags())
	return cmd
}

// RunGet prints configuration: a Key/Value table, or with -o json the bare map (as upstream).
func RunGet(ctx context.Context, env *cli.Env, o *Options) error {
	if err := validName(o.Name); err != nil {
		return err
	}
	return Show(ctx, env, o, func(lattice string) error {
		return fmt.Errorf("no configuration named %q in lattice %q (create it with `wash config put %s KEY=VALUE`)", o.Name, lattice, o.Name)
	})
}

// Show prints the config stored under o.Name, or missing's error when there is none (`wash
// secrets get` shows references through here).
func Show(ctx context.Context, env *cli.Env, o *Options, missing func(lattice string) error) error {
	s, err := placement.Open(env, &o.Conn)
	if err != nil {
		return err
	}
	defer s.Close()
	values, found, err := s.Client.GetConfig(ctx, o.Name)
	if err != nil {
		return explain(err, "config.get", s.Lattice())
	}
	if !found {
		return missing(s.Lattice())
	}
	if env.IO.JSON() {
		if values == nil {
			values = map[string]string{}
		}
		return env.IO.PrintJSON(values)
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 && env.IO.Terminal {
		env.IO.Printf("Configuration %q is empty.\n", o.Name)
		return nil
	}
	t := env.IO.NewTable("Key", "Value")
	for _, k := range keys {
		t.Row(k, values[k])
	}
	return t.Render()
}

func newDelCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	return NewNameCmd(env, &cobra.Command{
		Use:     "del NAME",
		Aliases: []string{"delete", "rm"},
		Short:   "Delete named configuration",
	}, runF, RunDel)
}

// RunDel deletes configuration (deleting a missing name succeeds, as on the host).
func RunDel(ctx context.Context, env *cli.Env, o *Options) error {
	if err := validName(o.Name); err != nil {
		return err
	}
	s, err := placement.Open(env, &o.Conn)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Client.DeleteConfig(ctx, o.Name); err != nil {
		return explain(err, "config.del", s.Lattice())
	}
	text := fmt.Sprintf("Configuration '%s' deleted successfully.", o.Name)
	return env.IO.PrintOutcome("message", text, output.Result{"name": o.Name})
}
