// Package stop implements `wash stop component|provider|host`.
package stop

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/commands/placement"
	"github.com/wasmlattice/wash/lattice/workload"
)

// NewCmd builds `wash stop`.
func NewCmd(env *cli.Env) *cobra.Command {
	return cli.Parent(&cobra.Command{
		Use:   "stop",
		Short: "Stop a component, provider or host",
	}, "missing what to stop: component, provider or host",
		newComponentCmd(env, nil), newProviderCmd(env, nil), newHostCmd(env, nil))
}

// Options are the flags of `wash stop component|provider`.
type Options struct {
	Conn  conn.Options
	Place placement.Flags
	ID    string
}

func newComponentCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	return newWorkloadCmd(env, &cobra.Command{
		Use:   "component COMPONENT_ID",
		Short: "Stop a component on every host that runs it (or on --host-id)",
		Example: `  wash stop component hello
  wash stop component hello --host-id quiet-river`,
	}, "component_scaled", runF, RunComponent)
}

// newWorkloadCmd completes stop component|provider: one ID, the connection and --host-id flags,
// and the wait flags for the event that confirms the stop.
func newWorkloadCmd(env *cli.Env, cmd *cobra.Command, event string, runF func(*Options) error, run func(context.Context, *cli.Env, *Options) error) *cobra.Command {
	o := &Options{}
	cmd = cli.OneArg(env, cmd, &o.ID, o, runF, run)
	o.Conn.AddFlags(cmd.Flags())
	o.Place.AddHostFlag(cmd.Flags())
	o.Place.AddWaitFlags(cmd.Flags(), 0, event)
	return cmd
}

// RunComponent scales a component to zero on each host that runs it (the only way to stop one).
func RunComponent(ctx context.Context, env *cli.Env, o *Options) error {
	s, running, err := placement.OpenRunning(ctx, env, &o.Conn, &o.Place, "component", o.ID)
	if err != nil {
		return err
	}
	defer s.Close()
	hosts, err := s.StopComponent(ctx, o.ID, running, !o.Place.SkipWait, o.Place.WaitTimeout(0, s.Resolved.Timeout))
	if err != nil {
		return placement.WaitHint(err, "check `wash get inventory`, or raise --wait-timeout-ms")
	}
	text := fmt.Sprintf("Component [%s] stopped", o.ID)
	if o.Place.SkipWait {
		text = fmt.Sprintf("Component [%s] is stopping", o.ID)
	}
	if len(hosts) > 1 {
		text += fmt.Sprintf(" on %d hosts", len(hosts))
	}
	return env.IO.PrintOutcome("result", text, output.Result{"component_id": o.ID, "host_ids": hosts, "waited": !o.Place.SkipWait})
}

func newProviderCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	return newWorkloadCmd(env, &cobra.Command{
		Use:     "provider PROVIDER_ID",
		Short:   "Stop a provider on every host that runs it (or on --host-id)",
		Example: `  wash stop provider http-server`,
	}, "provider_stopped", runF, RunProvider)
}

// RunProvider stops a provider. The host answers provider.stop only after the provider is down
// (and after publishing provider_stopped), so the reply itself is the confirmation.
func RunProvider(ctx context.Context, env *cli.Env, o *Options) error {
	s, running, err := placement.OpenRunning(ctx, env, &o.Conn, &o.Place, "provider", o.ID)
	if err != nil {
		return err
	}
	defer s.Close()
	hosts, err := s.StopProvider(ctx, o.ID, running)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("Provider [%s] stopped successfully", o.ID)
	if len(hosts) > 1 {
		text += fmt.Sprintf(" on %d hosts", len(hosts))
	}
	return env.IO.PrintOutcome("result", text, output.Result{"provider_id": o.ID, "host_ids": hosts})
}

// HostOptions are the flags of `wash stop host`.
type HostOptions struct {
	Conn        conn.Options
	Place       placement.Flags
	HostID      string
	HostTimeout int
}

func newHostCmd(env *cli.Env, runF func(*HostOptions) error) *cobra.Command {
	o := &HostOptions{}
	cmd := cli.OneArg(env, &cobra.Command{
		Use:   "host HOST_ID",
		Short: "Stop a host (give its id, a unique id prefix or its friendly name)",
		Long: `Ask a host to shut down gracefully and wait for its host_stopped event.

This stops only the host. To also stop the NATS server ` + "`wash up`" + ` started, use ` + "`wash down`" + `.`,
		Example: `  wash stop host NBXY
  wash stop host quiet-river-0042 --host-timeout 30000`,
	}, &o.HostID, o, runF, RunHost)
	o.Conn.AddFlags(cmd.Flags())
	o.Place.AddWaitFlags(cmd.Flags(), 0, "host_stopped")
	cmd.Flags().IntVar(&o.HostTimeout, "host-timeout", 10000, "milliseconds the host may take to stop gracefully (sent to the host)")
	return cmd
}

// RunHost stops one host.
func RunHost(ctx context.Context, env *cli.Env, o *HostOptions) error {
	if o.HostTimeout <= 0 {
		return cli.Usage(fmt.Errorf("invalid --host-timeout %d: must be positive", o.HostTimeout))
	}
	if err := o.Place.Validate(); err != nil {
		return err
	}
	s, h, err := placement.OpenHost(ctx, env, &o.Conn, o.HostID)
	if err != nil {
		return err
	}
	defer s.Close()
	grace := time.Duration(o.HostTimeout) * time.Millisecond
	timeout := o.Place.WaitTimeout(grace+2*time.Second, s.Resolved.Timeout)
	if err := s.StopHost(ctx, h, grace, !o.Place.SkipWait, timeout); err != nil {
		return err
	}
	text := fmt.Sprintf("Host %s acknowledged stop request", h.ID)
	if !o.Place.SkipWait {
		text = fmt.Sprintf("Host %s stopped", workload.HostLabel(h))
	}
	return env.IO.PrintOutcome("result", text, output.Result{"host_id": h.ID, "waited": !o.Place.SkipWait})
}
