// Package link implements `wash link put|del|query`.
package link

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/get"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/commands/placement"
	"github.com/wasmlattice/wash/lattice/ctl"
)

// NewCmd builds `wash link`.
func NewCmd(env *cli.Env) *cobra.Command {
	return cli.Parent(&cobra.Command{
		Use:     "link",
		Aliases: []string{"links"},
		Short:   "Create, delete and list links between components and providers",
	}, "missing subcommand: put, del or query",
		newPutCmd(env, nil), newDelCmd(env, nil), newQueryCmd(env, nil))
}

// PutOptions are the flags of `wash link put`.
type PutOptions struct {
	Conn         conn.Options
	Link         ctl.Link
	SourceConfig []string
	TargetConfig []string
}

func newPutCmd(env *cli.Env, runF func(*PutOptions) error) *cobra.Command {
	o := &PutOptions{}
	cmd := &cobra.Command{
		Use:   "put SOURCE_ID TARGET WIT_NAMESPACE WIT_PACKAGE --interface NAME...",
		Short: "Link a source to a target on a WIT interface",
		Long: `Store a link: calls from SOURCE_ID on WIT_NAMESPACE:WIT_PACKAGE/<interface> go to TARGET.

Config names given with --source-config / --target-config must already exist (wash config put).`,
		Example: `  wash link put http-server hello wasi http --interface incoming-handler --source-config http-addr
  wash link put hello kv-redis wasi keyvalue --interface store --interface atomics --link-name cache`,
		Args: cli.Args(cobra.ExactArgs(4)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Link.SourceID, o.Link.Target, o.Link.WitNamespace, o.Link.WitPackage = args[0], args[1], args[2], args[3]
			return cli.Run(cmd.Context(), env, o, runF, RunPut)
		},
	}
	fs := cmd.Flags()
	o.Conn.AddFlags(fs)
	fs.StringArrayVar(&o.Link.Interfaces, "interface", nil, "WIT interface of the package to link (required, repeatable)")
	fs.StringArrayVar(&o.SourceConfig, "source-config", nil, "named config for the source side (repeatable)")
	fs.StringArrayVar(&o.TargetConfig, "target-config", nil, "named config for the target side (repeatable)")
	fs.StringVarP(&o.Link.Name, "link-name", "l", "default", "link name, to link the same interface to several targets")
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "interfaces" {
			name = "interface"
		}
		return pflag.NormalizedName(name)
	})
	return cmd
}

// RunPut stores a link.
func RunPut(ctx context.Context, env *cli.Env, o *PutOptions) error {
	l := o.Link
	for _, f := range []struct{ what, v string }{{"source", l.SourceID}, {"target", l.Target}} {
		if err := placement.ValidateID(f.what, f.v); err != nil {
			return err
		}
	}
	if strings.TrimSpace(l.WitNamespace) == "" || strings.TrimSpace(l.WitPackage) == "" {
		return cli.Usage(errors.New("empty WIT namespace or package: give both, e.g. wasi http"))
	}
	if len(l.Interfaces) == 0 {
		return cli.Usage(fmt.Errorf("missing --interface: name at least one interface of %s:%s (e.g. --interface incoming-handler)", l.WitNamespace, l.WitPackage))
	}
	if strings.TrimSpace(l.Name) == "" {
		return cli.Usage(errors.New("empty --link-name"))
	}
	if err := ctl.CheckName("--link-name", l.Name); err != nil {
		return cli.Usage(err)
	}
	for _, n := range append(append([]string{}, o.SourceConfig...), o.TargetConfig...) {
		if err := ctl.CheckName("config name", n); err != nil {
			return cli.Usage(err)
		}
		if !ctl.ValidToken(n) {
			return cli.Usage(fmt.Errorf("invalid config name %q: it must be one word without '.', '*', '>' or spaces", n))
		}
	}
	l.SourceConfig, l.TargetConfig = o.SourceConfig, o.TargetConfig
	s, err := placement.Open(env, &o.Conn)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Client.PutLink(ctx, l); err != nil {
		return explain(err, "link.put", s.Lattice())
	}
	text := fmt.Sprintf("Published link (%s) -> (%s) successfully", l.SourceID, l.Target)
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"source_id": l.SourceID, "target": l.Target, "name": l.Name})
	}
	env.IO.Println(text)
	return nil
}

// explain turns a failed link request into one line: no host answering, or the host's reason.
func explain(err error, op, lattice string) error {
	var he *ctl.HostError
	if errors.As(err, &he) {
		return fmt.Errorf("lattice %q refused the link: %s", lattice, strings.TrimSpace(he.Message))
	}
	if errors.Is(err, ctl.ErrNoResponders) {
		return fmt.Errorf("no host answered %s in lattice %q: start one with `wash up`", op, lattice)
	}
	return err
}

// DelOptions are the flags of `wash link del`.
type DelOptions struct {
	Conn     conn.Options
	SourceID string
	NS, Pkg  string
	Name     string
	All      bool
	Force    bool
}

func newDelCmd(env *cli.Env, runF func(*DelOptions) error) *cobra.Command {
	o := &DelOptions{}
	cmd := &cobra.Command{
		Use:     "del SOURCE_ID WIT_NAMESPACE WIT_PACKAGE | --all",
		Aliases: []string{"delete", "rm"},
		Short:   "Delete a link (or every link with --all)",
		Long: `Delete the link from SOURCE_ID on WIT_NAMESPACE:WIT_PACKAGE named --link-name.

Without --link-name, the one link from the source on that package is deleted; if there are several
(under different names), wash lists them and asks you to pick one with --link-name.`,
		Example: `  wash link del http-server wasi http
  wash link del hello wasi keyvalue --link-name cache
  wash link del --all --force`,
		Args: cli.Args(cobra.RangeArgs(0, 3)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.All {
				if len(args) != 0 {
					return cli.Usage(errors.New("--all takes no arguments"))
				}
				return cli.Run(cmd.Context(), env, o, runF, RunDelAll)
			}
			if len(args) != 3 {
				return cli.Usage(fmt.Errorf("expected SOURCE_ID WIT_NAMESPACE WIT_PACKAGE (got %d argument(s)), or --all", len(args)))
			}
			o.SourceID, o.NS, o.Pkg = args[0], args[1], args[2]
			if !cmd.Flags().Changed("link-name") {
				o.Name = ""
			}
			return cli.Run(cmd.Context(), env, o, runF, RunDel)
		},
	}
	o.Conn.AddFlags(cmd.Flags())
	cmd.Flags().StringVarP(&o.Name, "link-name", "l", "default", "name of the link to delete")
	cmd.Flags().BoolVar(&o.All, "all", false, "delete every link in the lattice")
	cmd.Flags().BoolVar(&o.Force, "force", false, "with --all, do not ask for confirmation")
	return cmd
}

// openLinks connects and reads the links of the lattice.
func openLinks(ctx context.Context, env *cli.Env, o *conn.Options) (*placement.Session, []ctl.Link, error) {
	s, err := placement.Open(env, o)
	if err != nil {
		return nil, nil, err
	}
	links, err := s.Client.GetLinks(ctx)
	if err != nil {
		s.Close()
		return nil, nil, explain(err, "link.get", s.Lattice())
	}
	return s, links, nil
}

// RunDel deletes one link. An empty Name means "the only link on that package".
func RunDel(ctx context.Context, env *cli.Env, o *DelOptions) error {
	s, links, err := openLinks(ctx, env, &o.Conn)
	if err != nil {
		return err
	}
	defer s.Close()
	var names []string
	for _, l := range links {
		if l.SourceID == o.SourceID && l.WitNamespace == o.NS && l.WitPackage == o.Pkg {
			names = append(names, l.Name)
		}
	}
	sort.Strings(names)
	name := o.Name
	switch {
	case name == "" && len(names) == 1:
		name = names[0]
	case name == "" && len(names) > 1:
		return fmt.Errorf("%s has %d links on %s:%s (named %s): pick one with --link-name", o.SourceID, len(names), o.NS, o.Pkg, strings.Join(names, ", "))
	case name == "":
		name = "default"
	}
	found := false
	for _, n := range names {
		found = found || n == name
	}
	if !found {
		return fmt.Errorf("no link from %s on %s:%s named %q in lattice %q (see `wash link query`)", o.SourceID, o.NS, o.Pkg, name, s.Lattice())
	}
	if _, err := s.Client.DeleteLink(ctx, ctl.DeleteLinkRequest{SourceID: o.SourceID, Name: name, WitNamespace: o.NS, WitPackage: o.Pkg}); err != nil {
		return explain(err, "link.del", s.Lattice())
	}
	text := fmt.Sprintf("Deleted link for %s on %s:%s (%s) successfully", o.SourceID, o.NS, o.Pkg, name)
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"source_id": o.SourceID, "wit_namespace": o.NS, "wit_package": o.Pkg, "name": name})
	}
	env.IO.Println(text)
	return nil
}

// RunDelAll deletes every link of the lattice, after confirmation on a terminal.
func RunDelAll(ctx context.Context, env *cli.Env, o *DelOptions) error {
	s, links, err := openLinks(ctx, env, &o.Conn)
	if err != nil {
		return err
	}
	defer s.Close()
	if len(links) > 0 && !o.Force {
		if !env.IO.Terminal || env.IO.JSON() {
			return cli.Usage(fmt.Errorf("refusing to delete all %d links of lattice %q without confirmation: add --force", len(links), s.Lattice()))
		}
		fmt.Fprintf(env.IO.Err, "Delete all %d links of lattice %q? [y/N] ", len(links), s.Lattice())
		answer, _ := bufio.NewReader(env.IO.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return errors.New("aborted: no links deleted")
		}
	}
	deleted := []ctl.Link{}
	for _, l := range links {
		if _, err := s.Client.DeleteLink(ctx, ctl.DeleteLinkRequest{SourceID: l.SourceID, Name: l.Name, WitNamespace: l.WitNamespace, WitPackage: l.WitPackage}); err != nil {
			return fmt.Errorf("deleted %d of %d links, then: %w", len(deleted), len(links), explain(err, "link.del", s.Lattice()))
		}
		deleted = append(deleted, l)
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"deleted": deleted})
	}
	env.IO.Printf("Deleted %d link(s) from lattice %q\n", len(deleted), s.Lattice())
	return nil
}

// QueryOptions are the flags of `wash link query`.
type QueryOptions struct{ Conn conn.Options }

func newQueryCmd(env *cli.Env, runF func(*QueryOptions) error) *cobra.Command {
	o := &QueryOptions{}
	cmd := &cobra.Command{
		Use:     "query",
		Aliases: []string{"get", "list", "ls"},
		Short:   "List the links of the lattice (same as wash get links)",
		Args:    cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.Run(cmd.Context(), env, o, runF, RunQuery)
		},
	}
	o.Conn.AddFlags(cmd.Flags())
	return cmd
}

// RunQuery lists the links of the lattice.
func RunQuery(ctx context.Context, env *cli.Env, o *QueryOptions) error {
	s, err := placement.Open(env, &o.Conn)
	if err != nil {
		return err
	}
	defer s.Close()
	return get.RunLinks(ctx, env, s.Client)
}
