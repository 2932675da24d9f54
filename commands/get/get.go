// Package get implements `wash get hosts|inventory|links`.
package get

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
)

// NewCmd builds `wash get` and its subcommands.
func NewCmd(env *cli.Env) *cobra.Command {
	return cli.Parent(&cobra.Command{
		Use:   "get",
		Short: "Show hosts, inventories and links of a lattice",
	}, "missing what to get: hosts, inventory or links",
		newHostsCmd(env, nil), newInventoryCmd(env, nil), newLinksCmd(env, nil), newClaimsCmd(env, nil))
}

// Options are shared by the get subcommands.
type Options struct {
	Conn   conn.Options
	Watch  bool
	HostID string
}

func (o *Options) client(env *cli.Env) (*ctl.Client, *nats.Conn, error) {
	d, err := env.Home()
	if err != nil {
		return nil, nil, err
	}
	r, err := o.Conn.Resolve(d)
	if err != nil {
		return nil, nil, err
	}
	return r.Client("wash")
}

func newHostsCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:     "hosts",
		Aliases: []string{"host"},
		Short:   "List the hosts of the lattice",
		Args:    cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withWatch(cmd.Context(), env, o, runF, func(ctx context.Context, c *ctl.Client) error { return RunHosts(ctx, env, c) })
		},
	}
	o.Conn.AddFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "redraw whenever the lattice changes")
	return cmd
}

// RunHosts prints the hosts, longest-running first.
func RunHosts(ctx context.Context, env *cli.Env, c *ctl.Client) error {
	hosts, err := c.PingHosts(ctx, ctl.GatherOptions{})
	if err != nil {
		return err
	}
	sort.SliceStable(hosts, func(i, j int) bool {
		if hosts[i].UptimeSeconds != hosts[j].UptimeSeconds {
			return hosts[i].UptimeSeconds > hosts[j].UptimeSeconds
		}
		return hosts[i].ID < hosts[j].ID
	})
	if env.IO.JSON() {
		if hosts == nil {
			hosts = []ctl.Host{}
		}
		return env.IO.PrintResult(output.Result{"hosts": hosts})
	}
	if len(hosts) == 0 && env.IO.Terminal {
		env.IO.Printf("No hosts in lattice %q. Start one with `wash up`.\n", c.Lattice())
		return nil
	}
	t := env.IO.NewTable("Host ID", "Friendly name", "Uptime (seconds)", "Labels")
	for _, h := range hosts {
		t.Row(h.ID, h.FriendlyName, strconv.FormatUint(h.UptimeSeconds, 10), labelString(h.Labels, env.IO.Terminal))
	}
	return t.Render()
}

// labelString shows user labels on a terminal (hostcore.* are the same everywhere) and every
// label in pipes.
func labelString(labels map[string]string, terminal bool) string {
	if terminal {
		return events.LabelString(labels)
	}
	return strings.Join(ctl.Pairs(labels, nil), ",")
}

func newInventoryCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:     "inventory [HOST_ID]",
		Aliases: []string{"inv"},
		Short:   "Show what runs on each host (or on one host)",
		Args:    cli.Args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.HostID = args[0]
			}
			return withWatch(cmd.Context(), env, o, runF, func(ctx context.Context, c *ctl.Client) error { return RunInventory(ctx, env, c, o.HostID) })
		},
	}
	o.Conn.AddFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "redraw whenever the lattice changes")
	return cmd
}

// RunInventory prints inventories.
func RunInventory(ctx context.Context, env *cli.Env, c *ctl.Client, hostID string) error {
	invs, err := c.Inventories(ctx, hostID)
	if err != nil {
		return err
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"inventories": invs})
	}
	io := env.IO
	if !io.Terminal {
		// One line per workload: host, kind, id, image, max instances.
		for _, inv := range invs {
			for _, comp := range inv.Components {
				io.Printf("%s\tcomponent\t%s\t%s\t%d\n", inv.HostID, comp.ID, comp.ImageRef, comp.MaxInstances)
			}
			for _, p := range inv.Providers {
				io.Printf("%s\tprovider\t%s\t%s\t\n", inv.HostID, p.ID, p.ImageRef)
			}
		}
		return nil
	}
	for i, inv := range invs {
		if i > 0 {
			io.Println()
		}
		io.Printf("%s  %s  %s\n", io.Bold("Host"), inv.FriendlyName, io.Dim(inv.HostID))
		io.Printf("  %s %s\n", io.Dim("labels:"), sortedLabels(inv.Labels))
		io.Printf("  %s %s, %s %s\n", io.Dim("version:"), inv.Version, io.Dim("uptime:"), inv.UptimeHuman)
		if len(inv.Components) == 0 {
			io.Printf("  No components found\n")
		} else {
			t := io.NewTable("  Component ID", "Name", "Image", "Max count")
			for _, comp := range inv.Components {
				name := comp.Name
				if name == "" {
					name = "N/A"
				}
				max := strconv.FormatUint(uint64(comp.MaxInstances), 10)
				if comp.MaxInstances == ctl.Unbounded {
					max = "unbounded"
				}
				t.Row("  "+comp.ID, name, comp.ImageRef, max)
			}
			_ = t.Render()
		}
		if len(inv.Providers) == 0 {
			io.Printf("  No providers found\n")
		} else {
			t := io.NewTable("  Provider ID", "Name", "Image")
			for _, p := range inv.Providers {
				name := p.Name
				if name == "" {
					name = "N/A"
				}
				t.Row("  "+p.ID, name, p.ImageRef)
			}
			_ = t.Render()
		}
	}
	return nil
}

func sortedLabels(labels map[string]string) string {
	if len(labels) == 0 {
		return "No labels present"
	}
	return strings.Join(ctl.Pairs(labels, nil), " ")
}

func newLinksCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:     "links",
		Aliases: []string{"link"},
		Short:   "List the links of the lattice",
		Args:    cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withWatch(cmd.Context(), env, o, runF, func(ctx context.Context, c *ctl.Client) error { return RunLinks(ctx, env, c) })
		},
	}
	o.Conn.AddFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "redraw whenever the lattice changes")
	return cmd
}

// RunLinks prints links sorted by source id.
func RunLinks(ctx context.Context, env *cli.Env, c *ctl.Client) error {
	links, err := c.GetLinks(ctx)
	if err != nil {
		if isNoResponders(err) {
			return fmt.Errorf("no host answered link.get in lattice %q; start one with `wash up`", c.Lattice())
		}
		return err
	}
	sort.SliceStable(links, func(i, j int) bool {
		if links[i].SourceID != links[j].SourceID {
			return links[i].SourceID < links[j].SourceID
		}
		return links[i].Name < links[j].Name
	})
	if links == nil {
		links = []ctl.Link{}
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"links": links})
	}
	if len(links) == 0 && env.IO.Terminal {
		env.IO.Printf("No links in lattice %q.\n", c.Lattice())
		return nil
	}
	t := env.IO.NewTable("Source ID", "Target", "Interface(s)", "Name")
	for _, l := range links {
		t.Row(l.SourceID, l.Target, fmt.Sprintf("%s:%s/%s", l.WitNamespace, l.WitPackage, strings.Join(l.Interfaces, ",")), l.Name)
	}
	return t.Render()
}

func newClaimsCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "claims",
		Short: "List the claims of the signed components and providers running in the lattice",
		Args:  cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withWatch(cmd.Context(), env, o, runF, func(ctx context.Context, c *ctl.Client) error { return RunClaims(ctx, env, c) })
		},
	}
	o.Conn.AddFlags(cmd.Flags())
	return cmd
}

// RunClaims prints the claims hosts know (control interface claims.get), one block per entity.
func RunClaims(ctx context.Context, env *cli.Env, c *ctl.Client) error {
	claims, err := c.GetClaims(ctx)
	if err != nil {
		if isNoResponders(err) {
			return fmt.Errorf("no host answered claims.get in lattice %q; start one with `wash up`", c.Lattice())
		}
		return err
	}
	if claims == nil {
		claims = []map[string]string{}
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"claims": claims})
	}
	if len(claims) == 0 && env.IO.Terminal {
		env.IO.Printf("No claims in lattice %q (only signed components and providers have claims).\n", c.Lattice())
		return nil
	}
	first := func(m map[string]string, keys ...string) string {
		for _, k := range keys {
			if v := m[k]; v != "" {
				return v
			}
		}
		return ""
	}
	t := env.IO.NewTable("Name", "Subject", "Issuer", "Version", "Revision", "Tags")
	for _, m := range claims {
		t.Row(m["name"], first(m, "subject", "sub"), first(m, "issuer", "iss"), m["version"], first(m, "revision", "rev"), m["tags"])
	}
	return t.Render()
}

func isNoResponders(err error) bool {
	return err != nil && strings.Contains(err.Error(), ctl.ErrNoResponders.Error())
}

// withWatch runs fn once, or with --watch redraws it on every lattice event until Ctrl+C.
func withWatch(ctx context.Context, env *cli.Env, o *Options, runF func(*Options) error, fn func(context.Context, *ctl.Client) error) error {
	if runF != nil {
		return runF(o)
	}
	c, nc, err := o.client(env)
	if err != nil {
		return err
	}
	defer nc.Close()
	if !o.Watch {
		return fn(ctx, c)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	changed := make(chan struct{}, 1)
	sub, err := events.Subscribe(nc, c.Lattice(), func(events.Event) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	for {
		if env.IO.Terminal && !env.IO.JSON() {
			env.IO.Printf("\033[H\033[2J")
			env.IO.Printf("%s\n\n", env.IO.Dim(fmt.Sprintf("lattice %s · %s · Ctrl+C to stop", c.Lattice(), time.Now().Format("15:04:05"))))
		}
		if err := fn(ctx, c); err != nil && ctx.Err() == nil {
			env.IO.PrintError(err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
			// Coalesce bursts (a deploy emits many events) into one redraw.
			time.Sleep(50 * time.Millisecond)
			select {
			case <-changed:
			default:
			}
		}
	}
}
