package artifact

import (
	"context"
	"fmt"
	"io"
	"path"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/internal/atomicfile"
	"github.com/wasmlattice/wash/oci"
	"github.com/wasmlattice/wash/oci/par"
)

// PullOptions are the inputs of `wash pull`.
type PullOptions struct {
	RegistryOptions
	Ref         string
	Destination string
	Digest      string
}

// NewPullCmd builds `wash pull`.
func NewPullCmd(env *cli.Env) *cobra.Command { return newPullCmd(env, nil) }

func newPullCmd(env *cli.Env, runF func(*PullOptions) error) *cobra.Command {
	o := &PullOptions{}
	cmd := &cobra.Command{
		Use:   "pull REF",
		Short: "Pull a component or provider archive from an OCI registry",
		Example: `  wash pull ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0
  wash pull --insecure localhost:5000/acme/hello:0.1.0 --destination hello.wasm`,
		Args: cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ref = args[0]
			return cli.RunWithEnv(cmd, registryEnv, env, o, runF, RunPull)
		},
	}
	o.bind(cmd)
	cmd.Flags().StringVarP(&o.Destination, "destination", "d", "", "output file (default: <repository name>.wasm or .par.gz)")
	cmd.Flags().StringVar(&o.Digest, "digest", "", "expected manifest digest (sha256:… or bare hex)")
	return cmd
}

// RunPull pulls o.Ref and writes it to a file.
func RunPull(ctx context.Context, env *cli.Env, o *PullOptions) error {
	ref, err := o.parse(o.Ref)
	if err != nil {
		return err
	}
	c, err := o.client(env)
	if err != nil {
		return err
	}
	tr := newTransfer(env.IO, "Pulling")
	// NoData: the layers go straight into the cache and are copied from there to the
	// destination, never held in memory.
	a, err := c.PullReference(ctx, ref, oci.PullOptions{Digest: o.Digest, Progress: tr.update, NoData: true})
	tr.finish()
	if err != nil {
		return err
	}
	kind := a.Kind
	if kind == oci.KindProvider {
		data, err := a.Content()
		if err != nil {
			return err
		}
		if _, err := par.Load(data); err != nil {
			return fmt.Errorf("pulled %s but it is not a valid provider archive: %w", ref, err)
		}
	}
	if kind != oci.KindComponent && kind != oci.KindProvider && kind != oci.KindModule {
		return fmt.Errorf("pulled %s but it is neither a wasm component nor a provider archive", ref)
	}
	dest := o.Destination
	if dest == "" {
		dest = path.Base(ref.Repository) + kind.Extension()
	}
	if err := atomicfile.Write(dest, 0o644, func(w io.Writer) error {
		_, err := a.WriteTo(w)
		return err
	}); err != nil {
		return fmt.Errorf("writing %s: %w", dest, err)
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(map[string]any{"file": dest, "digest": a.Digest.String()})
	}
	env.IO.Printf("%s Successfully pulled and validated %s\n", env.IO.OK("✓"), dest)
	return nil
}
