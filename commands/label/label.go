// Package label implements `wash label HOST k=v…` and `wash label HOST k… --delete`.
package label

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/commands/placement"
	"github.com/wasmlattice/wash/lattice/workload"
)

// Options are the flags of `wash label`.
type Options struct {
	Conn   conn.Options
	Host   string
	Labels []string
	Delete bool
}

// NewCmd builds `wash label`.
func NewCmd(env *cli.Env) *cobra.Command { return newCmd(env, nil) }

func newCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:     "label HOST KEY=VALUE... | label HOST KEY... --delete",
		Aliases: []string{"tag"},
		Short:   "Set or delete labels on a running host (used by auction constraints)",
		Long: `Set labels on a host (give its id, a unique id prefix or its friendly name), or with --delete
remove them. Several labels may also be given comma-separated (a=1,b=2). hostcore.* labels
belong to the host and cannot be changed.`,
		Example: `  wash label quiet-river zone=eu-west
  wash label NBXY zone,tier --delete`,
		Args: cli.Args(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Host, o.Labels = args[0], args[1:]
			return cli.Run(cmd.Context(), env, o, runF, Run)
		},
	}
	o.Conn.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&o.Delete, "delete", false, "delete the given label keys instead of setting labels")
	return cmd
}

// pair is one processed label.
type pair struct{ k, v string }

func parse(args []string, del bool) ([]pair, error) {
	var out []pair
	for _, a := range args {
		for _, item := range strings.Split(a, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			k, v := item, ""
			if del {
				if strings.Contains(item, "=") {
					return nil, cli.Usage(fmt.Errorf("invalid label key %q: with --delete give only keys", item))
				}
			} else {
				var ok bool
				if k, v, ok = strings.Cut(item, "="); !ok || strings.TrimSpace(k) == "" {
					return nil, cli.Usage(fmt.Errorf("invalid label %q: expected key=value (or use --delete to remove a key)", item))
				}
			}
			if strings.HasPrefix(strings.ToLower(k), "hostcore.") {
				return nil, cli.Usage(fmt.Errorf("label %q: hostcore.* labels are set by the host and cannot be changed", k))
			}
			out = append(out, pair{k, v})
		}
	}
	if len(out) == 0 {
		return nil, cli.Usage(errors.New("no labels given"))
	}
	return out, nil
}

// Run sets or deletes labels.
func Run(ctx context.Context, env *cli.Env, o *Options) error {
	pairs, err := parse(o.Labels, o.Delete)
	if err != nil {
		return err
	}
	s, h, err := placement.OpenHost(ctx, env, &o.Conn, o.Host)
	if err != nil {
		return err
	}
	defer s.Close()
	processed := [][]string{}
	var shown []string
	for _, p := range pairs {
		if o.Delete {
			_, err = s.Client.DeleteLabel(ctx, h.ID, p.k)
			shown = append(shown, p.k)
		} else {
			_, err = s.Client.PutLabel(ctx, h.ID, p.k, p.v)
			shown = append(shown, p.k+"="+p.v)
		}
		if err != nil {
			return fmt.Errorf("label %s on host %s: %w", p.k, workload.HostLabel(h), err)
		}
		processed = append(processed, []string{p.k, p.v})
	}
	verb := "labeled with"
	if o.Delete {
		verb = "unlabeled"
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"deleted": o.Delete, "processed": processed, "host_id": h.ID})
	}
	env.IO.Printf("Host `%s` %s `%s`\n", h.FriendlyName, verb, strings.Join(shown, ","))
	return nil
}
