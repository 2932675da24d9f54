package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/output"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

func newListCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List applications with their deployed version and status",
		Args:    cli.Args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			if len(args) == 1 {
				// upstream's `-w 5s`: the interval after a bare -w
				if !cmd.Flags().Changed("watch") {
					return cli.Usage(fmt.Errorf("unexpected argument %q", args[0]))
				}
				o.WatchEvery = args[0]
			}
			if runF != nil {
				return runF(o)
			}
			return withClient(env, o, func(c *wadmclient.Client) error {
				if cmd.Flags().Changed("watch") {
					return o.watchList(cmd.Context(), env, c)
				}
				return RunList(cmd.Context(), env, c)
			})
		},
	}
	o.addFlags(cmd)
	o.addWatchFlag(cmd)
	return cmd
}

// addWatchFlag registers upstream's -w/--watch [INTERVAL] (bare: every second).
func (o *Options) addWatchFlag(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.WatchEvery, "watch", "w", "", "redraw the list every INTERVAL (ms or a duration such as 5s; bare -w: 1s) until Ctrl+C")
	cmd.Flags().Lookup("watch").NoOptDefVal = "1s"
}

// watchList redraws the application list until interrupted: a table in place on a terminal,
// one table (or one JSON line with -o json) per refresh otherwise.
func (o *Options) watchList(ctx context.Context, env *cli.Env, c *wadmclient.Client) error {
	every, err := parseWatchInterval(o.WatchEvery)
	if err != nil {
		return cli.Usage(err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	for {
		if env.IO.Terminal && !env.IO.JSON() {
			env.IO.Printf("\x1b[H\x1b[2J")
		}
		if env.IO.JSON() {
			models, err := c.List(ctx)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				return err
			}
			if models == nil {
				models = []model.ModelSummary{}
			}
			b, _ := json.Marshal(output.Result{"applications": models, "success": true})
			if _, err := env.IO.Out.Write(append(b, '\n')); err != nil {
				return err
			}
		} else if err := RunList(ctx, env, c); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}

// parseWatchInterval reads upstream's interval: milliseconds, or a duration such as 5s.
func parseWatchInterval(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return time.Duration(n) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid --watch interval %q: use milliseconds or a duration such as 5s", s)
	}
	return d, nil
}

// StatusWord is the capitalised status type (Deployed, Failed, …).
func StatusWord(t model.StatusType) string {
	s := string(t)
	if s == "" {
		s = string(model.StatusUndeployed)
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// RunList prints the applications.
func RunList(ctx context.Context, env *cli.Env, c *wadmclient.Client) error {
	models, err := c.List(ctx)
	if err != nil {
		return err
	}
	if env.IO.JSON() {
		if models == nil {
			models = []model.ModelSummary{}
		}
		return env.IO.PrintResult(output.Result{"applications": models})
	}
	if len(models) == 0 {
		env.IO.Printf("No applications in lattice %q. Deploy one with `wash app deploy <manifest>`.\n", c.Lattice())
		return nil
	}
	t := env.IO.NewTable("Name", "Deployed Version", "Status", "Description")
	for _, m := range models {
		dv := "N/A"
		if m.DeployedVersion != nil {
			dv = *m.DeployedVersion
		}
		desc := ""
		if m.Description != nil {
			desc = *m.Description
		}
		t.Row(m.Name, dv, colorStatus(env, m.DetailedStatus.Info.Type), desc)
	}
	return t.Render()
}

func colorStatus(env *cli.Env, t model.StatusType) string {
	w := StatusWord(t)
	switch t {
	case model.StatusDeployed:
		return env.IO.OK(w)
	case model.StatusFailed, model.StatusUnhealthy:
		return env.IO.Bad(w)
	case model.StatusReconciling, model.StatusWaiting:
		return env.IO.Warn(w)
	}
	return w
}

func newGetCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "get [NAME] [VERSION]",
		Short: "Show an application's manifest (the list of applications without NAME)",
		Args:  cli.Args(cobra.MaximumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			if runF != nil {
				return runF(o)
			}
			return withClient(env, o, func(c *wadmclient.Client) error {
				if cmd.Flags().Changed("watch") {
					// upstream watches the application list, whatever NAME says
					return o.watchList(cmd.Context(), env, c)
				}
				if len(args) == 0 {
					return RunList(cmd.Context(), env, c)
				}
				v := ""
				if len(args) == 2 {
					v = args[1]
				}
				return RunGet(cmd.Context(), env, c, args[0], v)
			})
		},
	}
	o.addFlags(cmd)
	o.addWatchFlag(cmd)
	return cmd
}

// RunGet prints one manifest as YAML (JSON with -o json).
func RunGet(ctx context.Context, env *cli.Env, c *wadmclient.Client, name, version string) error {
	m, err := c.Get(ctx, name, version)
	if err != nil {
		return notFound(err, c, name)
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"application": m})
	}
	b, err := m.MarshalCanonical()
	if err != nil {
		return err
	}
	var v yaml.Node
	if err := yaml.Unmarshal(b, &v); err != nil {
		return err
	}
	clearStyle(&v)
	enc := yaml.NewEncoder(env.IO.Out)
	enc.SetIndent(2)
	if err := enc.Encode(&v); err != nil {
		return err
	}
	return enc.Close()
}

// clearStyle drops the JSON flow style so the manifest prints as block YAML.
func clearStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		clearStyle(c)
	}
}

func notFound(err error, c *wadmclient.Client, name string) error {
	var nf *wadmclient.NotFoundError
	if errors.As(err, &nf) {
		return fmt.Errorf("%s (lattice %q); see `wash app list`", nf.Message, c.Lattice())
	}
	return err
}

func newStatusCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show the status of an application and of each of its scalers",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			if runF != nil {
				return runF(o)
			}
			return withClient(env, o, func(c *wadmclient.Client) error { return RunStatus(cmd.Context(), env, c, args[0], o.Watch) })
		},
	}
	o.addFlags(cmd)
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "print every status change until Ctrl+C")
	return cmd
}

// RunStatus prints an app's status; with watch it follows wadm's status updates.
func RunStatus(ctx context.Context, env *cli.Env, c *wadmclient.Client, name string, watch bool) error {
	versions, err := c.Versions(ctx, name)
	if err != nil {
		return notFound(err, c, name)
	}
	deployed := ""
	for _, v := range versions {
		if v.Deployed {
			deployed = v.Version
		}
	}
	st, err := c.Status(ctx, name)
	if err != nil {
		return notFound(err, c, name)
	}
	if err := printStatus(env, name, deployed, st); err != nil || !watch {
		return err
	}
	ch := make(chan model.Status, 16)
	stop, err := c.WatchStatus(name, func(s model.Status) { ch <- s })
	if err != nil {
		return err
	}
	defer stop()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	for {
		select {
		case s := <-ch:
			if !env.IO.JSON() {
				env.IO.Println()
			}
			if err := printStatus(env, name, deployed, &s); err != nil {
				return err
			}
		case <-sigs:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

func printStatus(env *cli.Env, name, deployed string, st *model.Status) error {
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"name": name, "deployed_version": deployed, "status": st})
	}
	ver := deployed
	if ver == "" {
		ver = "not deployed"
	} else {
		ver = "version " + ver
	}
	env.IO.Printf("%s (%s): %s\n", env.IO.Bold(name), ver, colorStatus(env, st.Info.Type))
	if st.Info.Message != "" {
		env.IO.Printf("  %s\n", st.Info.Message)
	}
	if len(st.Scalers) == 0 {
		return nil
	}
	env.IO.Println()
	prefix := model.Sanitize(name) + "-"
	t := env.IO.NewTable("Scaler", "Kind", "Status", "Message")
	scalers := append([]model.ScalerStatus(nil), st.Scalers...)
	sort.SliceStable(scalers, func(i, j int) bool { return scalers[i].Kind > scalers[j].Kind })
	for _, s := range scalers {
		t.Row(strings.ReplaceAll(s.Name, prefix, ""), s.Kind, colorStatus(env, s.Status.Type), s.Status.Message)
	}
	return t.Render()
}

func newHistoryCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "history NAME",
		Short: "List the stored versions of an application",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			if runF != nil {
				return runF(o)
			}
			return withClient(env, o, func(c *wadmclient.Client) error {
				vs, err := c.Versions(cmd.Context(), args[0])
				if err != nil {
					return notFound(err, c, args[0])
				}
				if env.IO.JSON() {
					if vs == nil {
						vs = []model.VersionInfo{}
					}
					return env.IO.PrintResult(output.Result{"revisions": vs})
				}
				t := env.IO.NewTable("Version", "Deployed")
				for _, v := range vs {
					d := "false"
					if v.Deployed {
						d = env.IO.OK("true")
					}
					t.Row(v.Version, d)
				}
				return t.Render()
			})
		},
	}
	o.addFlags(cmd)
	return cmd
}
