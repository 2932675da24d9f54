// Package scale implements `wash scale component`.
package scale

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/commands/placement"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/workload"
)

// NewCmd builds `wash scale`.
func NewCmd(env *cli.Env) *cobra.Command {
	return cli.Parent(&cobra.Command{
		Use:   "scale",
		Short: "Change how many concurrent invocations a component may serve",
	}, "missing what to scale: component",
		newComponentCmd(env, nil))
}

// Options are the flags of `wash scale component`.
type Options struct {
	Conn         conn.Options
	Place        placement.Flags
	Ref          string
	ID           string
	MaxInstances uint32
	AllowUpdate  bool
}

func newComponentCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "component [HOST_ID] REF COMPONENT_ID",
		Short: "Scale a component (0 stops it; the default is unbounded concurrency)",
		Long: `Set a component's maximum concurrent invocations and wait for the host to confirm.

The host is HOST_ID or --host-id if given (upstream wash's order, HOST_ID REF COMPONENT_ID,
works as is); otherwise the host that already runs the component (an error if several do), or
else one chosen by auction with --constraint.`,
		Example: `  wash scale component ./hello.wasm hello --max-instances 20
  wash scale component ghcr.io/acme/hello:0.1.0 hello --host-id NBXY --max-instances 0
  wash scale component NBXY ghcr.io/acme/hello:0.1.0 hello -c 5`,
		Args: cli.Args(cobra.RangeArgs(2, 3)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 3 {
				if o.Place.HostID != "" && o.Place.HostID != args[0] {
					return cli.Usage(fmt.Errorf("host %s given twice, differently (argument and --host-id %s)", args[0], o.Place.HostID))
				}
				o.Place.HostID, args = args[0], args[1:]
			}
			o.Ref, o.ID = args[0], args[1]
			return cli.Run(cmd.Context(), env, o, runF, Run)
		},
	}
	fs := cmd.Flags()
	o.Conn.AddFlags(fs)
	o.Place.AddHostFlag(fs)
	// -c is --max-instances here, as in upstream's scale; the constraint flag is long only
	fs.StringArrayVar(&o.Place.Constraints, "constraint", nil, "label the chosen host must carry, key=value (repeatable; used for the auction when no host is given)")
	fs.IntVar(&o.Place.AuctionTimeoutMs, "auction-timeout-ms", 0, "upper bound for collecting auction bids (default: --timeout-ms)")
	o.Place.AddWorkloadFlags(fs)
	o.Place.AddWaitFlags(fs, placement.ScaleWait, "component_scaled")
	fs.Uint32VarP(&o.MaxInstances, "max-instances", "c", ctl.Unbounded, "maximum concurrent invocations; 0 stops the component (default unbounded; aliases --max-concurrent, --max, --count)")
	fs.SetNormalizeFunc(placement.MaxInstancesAliases)
	fs.BoolVar(&o.AllowUpdate, "allow-update", false, "if the component runs with another reference, update it")
	return cmd
}

// Run scales a component.
func Run(ctx context.Context, env *cli.Env, o *Options) error {
	s, err := placement.Prepare(env, &o.Conn, &o.Place, "component", o.ID, o.Ref)
	if err != nil {
		return err
	}
	defer s.Close()
	ref, annotations, config := s.Ref, s.Annotations, s.Config

	var h ctl.Host
	if o.Place.HostID != "" {
		if h, err = s.ChooseHost(ctx, &o.Place, "component", ref, o.ID); err != nil {
			return err
		}
	} else {
		// Auctions skip hosts that already run the id, so look for those first.
		running, err := s.FindRunning(ctx, "component", o.ID, "")
		if err != nil {
			return err
		}
		switch {
		case len(running) == 1:
			h = ctl.Host{ID: running[0].HostID, FriendlyName: running[0].FriendlyName}
		case len(running) > 1:
			return fmt.Errorf("component %s runs on %d hosts in lattice %q: pick one with --host-id", o.ID, len(running), s.Lattice())
		case o.MaxInstances == 0:
			return s.NotRunningError("component", o.ID, "")
		default:
			if h, err = s.ChooseHost(ctx, &o.Place, "component", ref, o.ID); err != nil {
				return err
			}
		}
	}

	if err := s.ScaleComponent(ctx, workload.ScaleRequest{
		Host: h, Verb: "scale",
		Cmd: ctl.ScaleComponentCommand{ComponentRef: ref, ComponentID: o.ID, Annotations: annotations,
			Count: o.MaxInstances, Config: config, AllowUpdate: o.AllowUpdate},
		Wait: !o.Place.SkipWait, Timeout: o.Place.WaitTimeout(placement.ScaleWait, s.Resolved.Timeout),
	}); err != nil {
		return err
	}
	to := strconv.FormatUint(uint64(o.MaxInstances), 10) + " max concurrent instances"
	if o.MaxInstances == ctl.Unbounded {
		to = "unbounded concurrency"
	}
	text := fmt.Sprintf("Component [%s] (ref: [%s]) scaled on host [%s] to %s", o.ID, ref, h.ID, to)
	return env.IO.PrintOutcome("result", text, output.Result{"component_ref": ref, "component_id": o.ID, "host_id": h.ID, "max_instances": o.MaxInstances, "waited": !o.Place.SkipWait})
}
