// Package update implements `wash update component`.
package update

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/commands/workload"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
)

// NewCmd builds `wash update`.
func NewCmd(env *cli.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Update a running component to a new image",
		Args:  cli.Args(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			return cli.Usage(errors.New("missing what to update: component"))
		},
	}
	cmd.AddCommand(newComponentCmd(env))
	return cmd
}

// Options are the flags of `wash update component`.
type Options struct {
	Conn   conn.Options
	Place  workload.Placement
	ID     string
	NewRef string
}

func newComponentCmd(env *cli.Env) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "component COMPONENT_ID NEW_REF",
		Short: "Swap a running component to NEW_REF on every host that runs it (or on --host-id)",
		Example: `  wash update component hello ghcr.io/acme/hello:0.2.0
  wash update component hello ./build/hello.wasm --host-id quiet-river`,
		Args: cli.Args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ID, o.NewRef = args[0], args[1]
			return Run(cmd.Context(), env, o)
		},
	}
	fs := cmd.Flags()
	o.Conn.AddFlags(fs)
	o.Place.AddHostFlag(fs)
	fs.StringArrayVarP(&o.Place.Annotations, "annotations", "a", nil, "annotation key=value for the updated component (repeatable)")
	o.Place.AddWaitFlags(fs, workload.UpdateWait, "component_scaled")
	return cmd
}

// Run updates a component.
func Run(ctx context.Context, env *cli.Env, o *Options) error {
	ref, err := workload.ResolveRef(o.NewRef)
	if err != nil {
		return err
	}
	annotations, _ := o.Place.ParsedAnnotations() // checked by OpenRunning's validation
	s, running, err := workload.OpenRunning(ctx, env, &o.Conn, &o.Place, "component", o.ID)
	if err != nil {
		return err
	}
	defer s.Close()
	var w *workload.Waiter
	if !o.Place.SkipWait {
		if w, err = s.Watch(events.ComponentScaled, events.ComponentScaleFailed); err != nil {
			return err
		}
		defer w.Close()
	}
	pending := map[string]bool{}
	var hosts, notes []string
	for _, r := range running {
		resp, err := s.Client.UpdateComponent(ctx, ctl.UpdateComponentCommand{ComponentID: o.ID, HostID: r.HostID, NewComponentRef: ref, Annotations: annotations})
		if err != nil {
			return fmt.Errorf("updating component %s on host %s: %w", o.ID, r.HostID, err)
		}
		hosts = append(hosts, r.HostID)
		if r.ImageRef == ref || strings.Contains(resp.Message, "already updated") {
			notes = append(notes, resp.Message)
			continue // nothing happens, so no event follows
		}
		pending[r.HostID] = true
	}
	if w != nil && len(pending) > 0 {
		timeout := o.Place.WaitTimeout(workload.UpdateWait, s.Resolved.Timeout)
		err := w.Wait(ctx, timeout, func(e events.Event) (bool, error) {
			if !pending[e.Source] {
				return false, nil
			}
			switch e.Name() {
			case events.ComponentScaled:
				var d events.ComponentScaledData
				if workload.Data(e, &d) && d.ComponentID == o.ID && d.ImageRef == ref && d.MaxInstances > 0 {
					delete(pending, e.Source)
				}
			case events.ComponentScaleFailed:
				var d events.ComponentScaleFailedData
				if workload.Data(e, &d) && d.ComponentID == o.ID {
					return true, fmt.Errorf("updating component %s on host %s failed: %s", o.ID, e.Source, d.Error)
				}
			}
			return len(pending) == 0, nil
		})
		if errors.Is(err, workload.ErrWaitTimeout) {
			return fmt.Errorf("component %s: %d host(s) did not confirm the update within %s; check `wash get inventory`, or raise --wait-timeout-ms", o.ID, len(pending), timeout)
		}
		if err != nil {
			return err
		}
	}
	text := fmt.Sprintf("Component [%s] updated to [%s] on host [%s]", o.ID, ref, strings.Join(hosts, ", "))
	if len(notes) == len(hosts) {
		text = fmt.Sprintf("Component [%s] already runs [%s] on host [%s]; nothing to update", o.ID, ref, strings.Join(hosts, ", "))
	} else if o.Place.SkipWait {
		text = fmt.Sprintf("Component [%s] is updating to [%s] on host [%s]", o.ID, ref, strings.Join(hosts, ", "))
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"result": text, "component_id": o.ID, "component_ref": ref, "host_ids": hosts, "waited": !o.Place.SkipWait})
	}
	env.IO.Println(text)
	return nil
}
