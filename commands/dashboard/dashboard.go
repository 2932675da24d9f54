// Package dashboard implements `wash dashboard` (alias `wash dash`), the live terminal view of a
// lattice; the screens themselves live in tui/.
package dashboard

import (
	"errors"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/tui"
)

// Options are the flags of `wash dashboard`.
type Options struct {
	Conn    conn.Options
	View    string
	Refresh time.Duration
}

// NewCmd builds `wash dashboard`.
func NewCmd(env *cli.Env) *cobra.Command { return newCmd(env, nil) }

func newCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:     "dashboard",
		Aliases: []string{"dash"},
		Short:   "Watch a lattice live in the terminal: hosts, components, providers, apps, links, config, events",
		Long: `A live terminal dashboard of one lattice, updated from its events and a periodic inventory
refresh. Switch views with tab/shift+tab or 1-8, open a row with enter, filter with /, show the
keys with ?, quit with q. Scaling components, stopping providers, deleting links and deploying or
undeploying apps ask for confirmation first. NATS outages show a banner; the dashboard
reconnects by itself.`,
		Example: `  wash dashboard
  wash dash -x prod --view apps`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return Run(env, o)
		},
	}
	o.Conn.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&o.View, "view", "overview", "view to start in: overview, hosts, components, providers, apps, links, config or events")
	cmd.Flags().DurationVar(&o.Refresh, "refresh", 5*time.Second, "period of the full inventory refresh (events update the screen in between)")
	return cmd
}

// Run starts the dashboard and blocks until the user quits.
func Run(env *cli.Env, o *Options) error {
	if !env.IO.Terminal {
		return cli.Usage(errors.New("wash dashboard needs a terminal: run it in an interactive shell (for scripts use `wash get` with -o json)"))
	}
	view, err := tui.ParseView(o.View)
	if err != nil {
		return cli.Usage(err)
	}
	if o.Refresh < 500*time.Millisecond {
		return cli.Usage(fmt.Errorf("invalid --refresh %s: use at least 500ms", o.Refresh))
	}
	r, err := env.Resolve(&o.Conn)
	if err != nil {
		return err
	}
	// Keep reconnecting for as long as the dashboard runs; the banner tells the user.
	nc, err := r.Connect("wash dashboard", nats.MaxReconnects(-1), nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(100*time.Millisecond, time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	m, err := tui.New(tui.Options{
		Conn: nc, Lattice: r.Lattice, TopicPrefix: ctl.TopicPrefixFromEnv(), JSDomain: r.JSDomain,
		Timeout: r.Timeout, ServerURL: r.URL(), Color: env.IO.Color, Output: env.IO.Out, RefreshInterval: o.Refresh, View: view,
	})
	if err != nil {
		return err
	}
	defer m.Close()
	opts := append(tui.ProgramOptions(), tea.WithAltScreen(), tea.WithInput(env.IO.In), tea.WithOutput(env.IO.Out))
	p := tea.NewProgram(m, opts...)
	if _, err := p.Run(); err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	return nil
}
