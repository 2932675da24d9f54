package artifact

import (
	"context"
	"fmt"
	"maps"

	"github.com/wasmlattice/wash/internal/bounded"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/oci"
)

// PushOptions are the inputs of `wash push`.
type PushOptions struct {
	RegistryOptions
	Ref         string
	File        string
	Annotations []string // k=v
	// Config is the provider-archive config blob file (-c); ignored for components.
	Config string
	// Monolithic is upstream's --monolithic-push. Uploads here are always monolithic (one
	// POST then one PUT per blob, never chunked PATCHes), so it changes nothing.
	Monolithic bool
}

// pushEnv are the environment variables of wash push: the registry's and WASH_MONOLITHIC_PUSH.
var pushEnv = func() map[string]string {
	vars := maps.Clone(registryEnv)
	vars["monolithic-push"] = "WASH_MONOLITHIC_PUSH"
	return vars
}()

// NewPushCmd builds `wash push`.
func NewPushCmd(env *cli.Env) *cobra.Command { return newPushCmd(env, nil) }

func newPushCmd(env *cli.Env, runF func(*PushOptions) error) *cobra.Command {
	o := &PushOptions{}
	cmd := &cobra.Command{
		Use:   "push REF FILE",
		Short: "Push a component or provider archive to an OCI registry",
		Example: `  wash push ghcr.io/acme/hello:0.1.0 build/hello_s.wasm
  wash push --insecure localhost:5000/acme/http-server:0.1.0 http-server.par.gz -a org.opencontainers.image.source=https://example.test`,
		Args: cli.Args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ref, o.File = args[0], args[1]
			return cli.RunWithEnv(cmd, pushEnv, env, o, runF, RunPush)
		},
	}
	o.bind(cmd)
	cmd.Flags().StringArrayVarP(&o.Annotations, "annotation", "a", nil, "manifest annotation key=value (repeatable)")
	cmd.Flags().StringVarP(&o.Config, "config", "c", "", "config blob file for a provider archive (default {})")
	cmd.Flags().BoolVar(&o.Monolithic, "monolithic-push", false, "upload each blob in one request (env WASH_MONOLITHIC_PUSH; uploads are always monolithic here)")
	return cmd
}

// RunPush pushes o.File to o.Ref.
func RunPush(ctx context.Context, env *cli.Env, o *PushOptions) error {
	ann, err := cli.ParseKV(o.Annotations, "annotation")
	if err != nil {
		return err
	}
	ref, err := o.parse(o.Ref)
	if err != nil {
		return err
	}
	data, err := bounded.ReadFile(o.File, maxArtifactFile)
	if err != nil {
		return fmt.Errorf("reading artifact: %w", err)
	}
	req := oci.PushRequest{Data: data, Annotations: ann}
	if o.Config != "" {
		if req.ProviderConfig, err = bounded.ReadFile(o.Config, maxSmallFile); err != nil {
			return fmt.Errorf("reading config: %w", err)
		}
	}
	// TODO(runtime): fill req.Component exports/imports from the component's WIT world once
	// runtime/ can decode it; until then the config lists are empty.
	c, err := o.client(env)
	if err != nil {
		return err
	}
	tr := newTransfer(env.IO, "Pushing")
	req.Progress = tr.update
	res, err := c.PushReference(ctx, ref, req)
	tr.finish()
	if err != nil {
		return err
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(map[string]any{"url": res.Ref.String(), "digest": res.Digest.String(), "tag": res.Ref.Tag})
	}
	if res.Ref.Tag != "" {
		env.IO.Printf("%s: digest: %s\n", res.Ref.Tag, res.Digest)
	} else {
		env.IO.Printf("digest: %s\n", res.Digest)
	}
	return nil
}
