// Package app implements `wash app`: deploy, put, list, get, status, history, undeploy, delete
// and validate, talking to wadm only over its NATS API (so the same commands drive a remote
// upstream wadm).
package app

import (
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
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
	cmd := &cobra.Command{
		Use:     "app",
		Aliases: []string{"apps"},
		Short:   "Deploy and manage applications (wadm manifests)",
		Args:    cli.Args(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			return cli.Usage(errors.New("missing subcommand: deploy, put, list, get, status, history, undeploy, delete or validate"))
		},
	}
	cmd.AddCommand(newDeployCmd(env, nil), newPutCmd(env, nil), newListCmd(env, nil), newGetCmd(env, nil), newStatusCmd(env, nil),
		newHistoryCmd(env, nil), newUndeployCmd(env, nil), newDeleteCmd(env, nil), newValidateCmd(env))
	return cmd
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

func withClient(env *cli.Env, o *Options, fn func(*wadmclient.Client) error) error {
	c, nc, err := o.client(env)
	if err != nil {
		return err
	}
	defer nc.Close()
	return fn(c)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
