package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/output"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/deploy"
	"github.com/wasmlattice/wash/lattice/wadm/model"
	"github.com/wasmlattice/wash/oci"
)

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
			if runF != nil {
				return runF(o)
			}
			return withClient(env, o, func(c *wadmclient.Client) error {
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
				if runF != nil {
					return runF(o)
				}
				return withClient(env, o, func(c *wadmclient.Client) error { return deleteUndeployed(cmd.Context(), env, c) })
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
			if runF != nil {
				return runF(o)
			}
			return withClient(env, o, func(c *wadmclient.Client) error {
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
