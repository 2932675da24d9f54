// Package update implements `wash update component`.
package update

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/commands/placement"
	"github.com/wasmlattice/wash/lattice/workload"
)

// NewCmd builds `wash update`.
func NewCmd(env *cli.Env) *cobra.Command {
	return cli.Parent(&cobra.Command{
		Use:   "update",
		Short: "Update a running component to a new image",
	}, "missing what to update: component",
		newComponentCmd(env, nil))
}

// Options are the flags of `wash update component`.
type Options struct {
	Conn   conn.Options
	Place  placement.Flags
	ID     string
	NewRef string
}

func newComponentCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "component COMPONENT_ID NEW_REF",
		Short: "Swap a running component to NEW_REF on every host that runs it (or on --host-id)",
		Example: `  wash update component hello ghcr.io/acme/hello:0.2.0
  wash update component hello ./build/hello.wasm --host-id quiet-river`,
		Args: cli.Args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ID, o.NewRef = args[0], args[1]
			return cli.Run(cmd.Context(), env, o, runF, Run)
		},
	}
	fs := cmd.Flags()
	o.Conn.AddFlags(fs)
	o.Place.AddHostFlag(fs)
	fs.StringArrayVarP(&o.Place.Annotations, "annotations", "a", nil, "annotation key=value for the updated component (repeatable)")
	o.Place.AddWaitFlags(fs, placement.UpdateWait, "component_scaled")
	return cmd
}

// Run updates a component.
func Run(ctx context.Context, env *cli.Env, o *Options) error {
	ref, err := placement.ResolveRef(o.NewRef)
	if err != nil {
		return err
	}
	annotations, _ := o.Place.ParsedAnnotations() // checked by OpenRunning's validation
	s, running, err := placement.OpenRunning(ctx, env, &o.Conn, &o.Place, "component", o.ID)
	if err != nil {
		return err
	}
	defer s.Close()
	hosts, notes, err := s.UpdateComponent(ctx, workload.UpdateRequest{
		ComponentID: o.ID, Ref: ref, Annotations: annotations, Running: running,
		Wait: !o.Place.SkipWait, Timeout: o.Place.WaitTimeout(placement.UpdateWait, s.Resolved.Timeout),
	})
	if err != nil {
		return placement.WaitHint(err, "check `wash get inventory`, or raise --wait-timeout-ms")
	}
	text := fmt.Sprintf("Component [%s] updated to [%s] on host [%s]", o.ID, ref, strings.Join(hosts, ", "))
	if len(notes) == len(hosts) {
		text = fmt.Sprintf("Component [%s] already runs [%s] on host [%s]; nothing to update", o.ID, ref, strings.Join(hosts, ", "))
	} else if o.Place.SkipWait {
		text = fmt.Sprintf("Component [%s] is updating to [%s] on host [%s]", o.ID, ref, strings.Join(hosts, ", "))
	}
	return env.IO.PrintOutcome("result", text, output.Result{"component_id": o.ID, "component_ref": ref, "host_ids": hosts, "waited": !o.Place.SkipWait})
}
