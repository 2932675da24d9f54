// Package app implements `wash app`: deploy, put, list, get, status, history, undeploy, delete
// and validate, talking to wadm only over its NATS API (so the same commands drive a remote
// upstream wadm).
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

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/output"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/deploy"
	"github.com/wasmlattice/wash/lattice/wadm/model"
	"github.com/wasmlattice/wash/oci"
)

// Options are shared by the app subcommands.
type Options struct {
	Conn    conn.Options
	Version string
	Timeout time.Duration
	NoWait  bool
	All     bool
	Watch   bool
	// upstream wash's flags: deploy --replace, delete --all-undeployed, list/get --watch[=interval]
	Replace       bool
	AllUndeployed bool
	WatchEvery    string
	// Args are the positional arguments as given (the source or name, a version).
	Args []string
}

// NewCmd builds `wash app`.
func NewCmd(env *cli.Env) *cobra.Command {
	return cli.Parent(&cobra.Command{
		Use:     "app",
		Aliases: []string{"apps"},
		Short:   "Deploy and manage applications (wadm manifests)",
	}, "missing subcommand: deploy, put, list, get, status, history, undeploy, delete or validate",
		newDeployCmd(env, nil), newPutCmd(env, nil), newListCmd(env, nil), newGetCmd(env, nil), newStatusCmd(env, nil),
		newHistoryCmd(env, nil), newUndeployCmd(env, nil), newDeleteCmd(env, nil), newValidateCmd(env, nil))
}

func (o *Options) addFlags(cmd *cobra.Command) {
	o.Conn.AddFlags(cmd.Flags())
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 0, "how long to wait for wadm (default: --timeout-ms, at least 2s; deploy waits 60s for the app to be deployed)")
}

// client connects to NATS and returns a wadm client for the resolved lattice.
func (o *Options) client(env *cli.Env) (*wadmclient.Client, *nats.Conn, error) {
	d, err := env.Home()
	if err != nil {
		return nil, nil, err
	}
	r, err := o.Conn.Resolve(d)
	if err != nil {
		return nil, nil, err
	}
	nc, err := r.Connect("wash")
	if err != nil {
		return nil, nil, err
	}
	timeout := r.Timeout
	if o.Timeout > 0 {
		timeout = o.Timeout
	}
	return wadmclient.New(nc, wadmclient.Options{Lattice: r.Lattice, Timeout: timeout}), nc, nil
}

// withClient runs fn with a wadm client for the options, or hands the options to runF (tests).
func withClient(env *cli.Env, o *Options, runF func(*Options) error, fn func(*wadmclient.Client) error) error {
	if runF != nil {
		return runF(o)
	}
	c, nc, err := o.client(env)
	if err != nil {
		return err
	}
	defer nc.Close()
	return fn(c)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ---- deploy / put -----------------------------------------------------------

func newDeployCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "deploy FILE|URL|-|NAME [VERSION]",
		Short: "Store (if given a manifest) and deploy an application, and wait until it is deployed",
		Long: `Deploy an application. FILE, URL or - (stdin) is stored first (relative file:// images
resolve against the manifest's directory); NAME deploys a version already stored.

The command waits until wadm reports the application deployed (--timeout, default 60s) and fails
if wadm reports it failed. With --no-wait it returns once wadm accepted the deployment.`,
		Args: cli.Args(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			if len(args) == 2 {
				if o.Version != "" && o.Version != args[1] {
					return cli.Usage(errors.New("give the version either as an argument or with --version"))
				}
				o.Version = args[1]
			}
			if runF != nil {
				return runF(o)
			}
			return RunDeploy(cmd.Context(), env, o, args[0])
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVar(&o.Version, "version", "", "version to deploy (default: the one just stored, or the latest)")
	cmd.Flags().BoolVar(&o.NoWait, "no-wait", false, "return once wadm accepted the deployment")
	cmd.Flags().BoolVar(&o.Replace, "replace", false, "delete the manifest's name and version first (upstream's optimistic replace)")
	return cmd
}

// RunDeploy puts (when given a manifest) and deploys, then waits for the outcome.
func RunDeploy(ctx context.Context, env *cli.Env, o *Options, target string) error {
	name, version := target, o.Version
	var data []byte
	if deploy.IsSource(target) {
		m, b, err := deploy.Load(ctx, env.IO.In, oci.HTTPClient(), target)
		if err != nil {
			return err
		}
		if o.Version != "" && m.Version() != "" && m.Version() != o.Version {
			return cli.Usage(fmt.Errorf("--version %s differs from the manifest's version annotation %s", o.Version, m.Version()))
		}
		if o.Version != "" && m.Version() == "" {
			m.Metadata.Annotations[model.VersionAnnotationKey] = o.Version
			if b, err = m.MarshalCanonical(); err != nil {
				return err
			}
		}
		name, data = m.Metadata.Name, b
	}
	c, nc, err := o.client(env)
	if err != nil {
		return err
	}
	defer nc.Close()
	r := deploy.Request{Name: name, Version: version, Manifest: data, Replace: o.Replace,
		ReplaceFailed: func(err error) {
			env.IO.Progress("%s failed to delete %s during --replace: %v", env.IO.Warn("warning:"), name, err)
		}}
	if !o.NoWait {
		r.Wait = o.Timeout
		if r.Wait <= 0 {
			r.Wait = 60 * time.Second
		}
	}
	res, err := deploy.Deploy(ctx, c, nc, r)
	if err != nil {
		return err
	}
	version, final := res.Version, res.Status
	if env.IO.JSON() {
		r := output.Result{"model_name": name, "model_version": version, "deployed": final != nil, "accepted": true}
		if final != nil {
			r["status"] = final
		}
		return env.IO.PrintResult(r)
	}
	if final == nil {
		env.IO.Printf("Deploy of application %q, version %q accepted; follow it with `wash app status %s --watch`\n", name, version, name)
		return nil
	}
	env.IO.Printf("%s Deployed application %q, version %q\n", env.IO.OK("✓"), name, version)
	return nil
}

func newPutCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "put [FILE|URL|-]",
		Short: "Store a manifest version without deploying it",
		Args:  cli.Args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			src := "-"
			if len(args) == 1 {
				src = args[0]
			}
			if runF != nil {
				return runF(o)
			}
			return RunPut(cmd.Context(), env, o, src)
		},
	}
	o.addFlags(cmd)
	return cmd
}

// RunPut stores a manifest.
func RunPut(ctx context.Context, env *cli.Env, o *Options, target string) error {
	m, b, err := deploy.Load(ctx, env.IO.In, oci.HTTPClient(), target)
	if err != nil {
		return err
	}
	return withClient(env, o, nil, func(c *wadmclient.Client) error {
		put, err := c.Put(ctx, b, "application/json")
		if err != nil {
			return fmt.Errorf("storing %s: %w", m.Metadata.Name, err)
		}
		if env.IO.JSON() {
			return env.IO.PrintResult(output.Result{"model_name": put.Name, "model_version": put.CurrentVersion, "total_versions": put.TotalVersions, "deployed": false})
		}
		env.IO.Printf("Put application %q, version %q (%d version(s) stored; deploy with `wash app deploy %s %s`)\n",
			put.Name, put.CurrentVersion, put.TotalVersions, put.Name, put.CurrentVersion)
		return nil
	})
}

// ---- list / get / status / history ------------------------------------------

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
			return withClient(env, o, runF, func(c *wadmclient.Client) error {
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
			return withClient(env, o, runF, func(c *wadmclient.Client) error {
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
			return withClient(env, o, runF, func(c *wadmclient.Client) error { return RunStatus(cmd.Context(), env, c, args[0], o.Watch) })
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
			return withClient(env, o, runF, func(c *wadmclient.Client) error {
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

// ---- undeploy / delete ------------------------------------------------------

func newUndeployCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "undeploy NAME | --all",
		Short: "Stop an application (its versions stay stored)",
		Args:  cli.Args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			if (len(args) == 1) == o.All {
				return cli.Usage(errors.New("name one application or give --all"))
			}
			return withClient(env, o, runF, func(c *wadmclient.Client) error {
				ctx := cmd.Context()
				names := args
				if o.All {
					models, err := c.List(ctx)
					if err != nil {
						return err
					}
					names = nil
					for _, m := range models {
						if m.DeployedVersion != nil {
							names = append(names, m.Name)
						}
					}
				}
				for _, n := range names {
					if _, err := c.Undeploy(ctx, n); err != nil {
						return notFound(err, c, n)
					}
				}
				if env.IO.JSON() {
					return env.IO.PrintResult(output.Result{"undeployed_application_names": nonNil(names)})
				}
				if o.All {
					env.IO.Printf("Undeployed %d application(s)\n", len(names))
				} else {
					env.IO.Printf("Undeployed application: %s\n", names[0])
				}
				return nil
			})
		},
	}
	o.addFlags(cmd)
	cmd.Flags().BoolVar(&o.All, "all", false, "undeploy every deployed application of the lattice")
	return cmd
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func newDeleteCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:     "delete NAME [VERSION | --all] | --all-undeployed",
		Aliases: []string{"del", "rm"},
		Short:   "Delete one stored version of an application, or all of them (undeploying it)",
		Args:    cli.Args(cobra.RangeArgs(0, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			if o.AllUndeployed {
				if len(args) > 0 {
					return cli.Usage(errors.New("give either NAME or --all-undeployed"))
				}
				return withClient(env, o, runF, func(c *wadmclient.Client) error { return deleteUndeployed(cmd.Context(), env, c) })
			}
			if len(args) == 0 {
				return cli.Usage(errors.New("missing NAME (or --all-undeployed)"))
			}
			if len(args) == 2 && o.All {
				return cli.Usage(errors.New("give either a VERSION or --all"))
			}
			name, version := args[0], ""
			if len(args) == 2 {
				version = args[1]
			}
			if deploy.IsSource(name) {
				src, err := deploy.ReadSource(cmd.Context(), env.IO.In, oci.HTTPClient(), name)
				if err != nil {
					return err
				}
				m, err := model.ParseManifest(src.Data)
				if err != nil {
					return fmt.Errorf("%s: %s", src.Name, oneLine(err.Error()))
				}
				name = m.Metadata.Name
			}
			return withClient(env, o, runF, func(c *wadmclient.Client) error {
				r, err := c.Delete(cmd.Context(), name, version)
				if err != nil {
					return err
				}
				if env.IO.JSON() {
					return env.IO.PrintResult(output.Result{"deleted": r.Result == model.DeleteDeleted, "model_name": name, "version": version, "undeployed": r.Undeploy, "message": r.Message})
				}
				switch {
				case r.Result == model.DeleteNoop && version == "":
					env.IO.Printf("Already deleted application: %s\n", name)
				case r.Result == model.DeleteNoop:
					return fmt.Errorf("application %s has no version %s; see `wash app history %s`", name, version, name)
				case version != "":
					env.IO.Printf("Deleted version %s of application: %s\n", version, name)
				default:
					env.IO.Printf("Deleted application: %s\n", name)
				}
				return nil
			})
		},
	}
	o.addFlags(cmd)
	cmd.Flags().BoolVar(&o.All, "all", false, "delete every version (the default without VERSION)")
	cmd.Flags().BoolVar(&o.AllUndeployed, "all-undeployed", false, "delete every application that is not deployed (all their versions)")
	return cmd
}

// deleteUndeployed deletes each application whose status is undeployed.
func deleteUndeployed(ctx context.Context, env *cli.Env, c *wadmclient.Client) error {
	models, err := c.List(ctx)
	if err != nil {
		return err
	}
	type deleted struct {
		Name    string `json:"model_name"`
		Version string `json:"version"`
	}
	out := []deleted{}
	for _, m := range models {
		if m.DetailedStatus.Info.Type != model.StatusUndeployed && m.DetailedStatus.Info.Type != "" {
			continue
		}
		r, err := c.Delete(ctx, m.Name, "")
		if err != nil {
			return fmt.Errorf("deleting %s: %w", m.Name, err)
		}
		if r.Result == model.DeleteDeleted {
			out = append(out, deleted{Name: m.Name, Version: m.Version})
		}
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"deleted_applications": out})
	}
	env.IO.Printf("Deleted [%d] applications\n", len(out))
	return nil
}
