package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/output"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/deploy"
	"github.com/wasmlattice/wash/lattice/wadm/model"
	"github.com/wasmlattice/wash/oci"
)

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
		src, err := deploy.ReadSource(ctx, env.IO.In, oci.HTTPClient(), target)
		if err != nil {
			return err
		}
		m, b, err := deploy.Prepare(src)
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
	src, err := deploy.ReadSource(ctx, env.IO.In, oci.HTTPClient(), target)
	if err != nil {
		return err
	}
	m, b, err := deploy.Prepare(src)
	if err != nil {
		return err
	}
	return withClient(env, o, func(c *wadmclient.Client) error {
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
