// Package start implements `wash start component|provider`.
package start

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
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/workload"
)

// NewCmd builds `wash start`.
func NewCmd(env *cli.Env) *cobra.Command {
	return cli.Parent(&cobra.Command{
		Use:   "start",
		Short: "Start a component or provider on a host of the lattice",
	}, "missing what to start: component or provider",
		newComponentCmd(env, nil), newProviderCmd(env, nil))
}

// ComponentOptions are the flags of `wash start component`.
type ComponentOptions struct {
	Conn         conn.Options
	Place        placement.Flags
	Ref          string
	ID           string
	MaxInstances uint32
	AllowUpdate  bool
}

func newComponentCmd(env *cli.Env, runF func(*ComponentOptions) error) *cobra.Command {
	o := &ComponentOptions{}
	cmd := &cobra.Command{
		Use:   "component REF COMPONENT_ID",
		Short: "Start a component (placed by auction unless --host-id is given)",
		Long: `Start a component on one host and wait for the host to report it running.

REF is an OCI reference, a file:// URL or a local .wasm path (sent as an absolute file:// URL;
the host must allow file loads, which ` + "`wash up`" + ` does). Without --host-id, hosts bid in an
auction and the first host whose labels match every --constraint gets the component.`,
		Example: `  wash start component ./build/hello.wasm hello
  wash start component ghcr.io/acme/hello:0.1.0 hello --constraint region=eu --max-instances 10
  wash start component ./hello.wasm hello --host-id quiet-river --skip-wait`,
		Args: cli.Args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ref, o.ID = args[0], args[1]
			return cli.Run(cmd.Context(), env, o, runF, RunComponent)
		},
	}
	fs := cmd.Flags()
	o.Conn.AddFlags(fs)
	o.Place.AddStartFlags(fs, placement.StartComponentWait, "component_scaled")
	fs.Uint32Var(&o.MaxInstances, "max-instances", 1, "maximum concurrent invocations (aliases --max-concurrent, --max, --count)")
	fs.BoolVar(&o.AllowUpdate, "allow-update", false, "if the id already runs with another reference, update it")
	fs.SetNormalizeFunc(placement.MaxInstancesAliases)
	return cmd
}

// RunComponent starts a component.
func RunComponent(ctx context.Context, env *cli.Env, o *ComponentOptions) error {
	if o.MaxInstances == 0 {
		return cli.Usage(errors.New("--max-instances must be at least 1 (to stop a component use `wash stop component`)"))
	}
	s, err := placement.Prepare(env, &o.Conn, &o.Place, "component", o.ID, o.Ref)
	if err != nil {
		return err
	}
	defer s.Close()
	ref, annotations, config := s.Ref, s.Annotations, s.Config
	h, err := s.ChooseHost(ctx, &o.Place, "component", ref, o.ID)
	if err != nil {
		return err
	}
	if err := s.ScaleComponent(ctx, workload.ScaleRequest{
		Host: h, Verb: "start",
		Cmd: ctl.ScaleComponentCommand{ComponentRef: ref, ComponentID: o.ID, Annotations: annotations,
			Count: o.MaxInstances, Config: config, AllowUpdate: o.AllowUpdate},
		Wait: !o.Place.SkipWait, Timeout: o.Place.WaitTimeout(placement.StartComponentWait, s.Resolved.Timeout),
	}); err != nil {
		return err
	}
	return printStarted(env, "Component", o.ID, ref, h.ID, o.Place.SkipWait)
}

// ProviderOptions are the flags of `wash start provider`.
type ProviderOptions struct {
	Conn     conn.Options
	Place    placement.Flags
	Ref      string
	ID       string
	LinkName string
}

func newProviderCmd(env *cli.Env, runF func(*ProviderOptions) error) *cobra.Command {
	o := &ProviderOptions{}
	cmd := &cobra.Command{
		Use:   "provider REF PROVIDER_ID",
		Short: "Start a capability provider (placed by auction unless --host-id is given)",
		Long: `Start a capability provider on one host and wait for provider_started.

REF is an OCI reference, a file:// URL, a local provider archive path (sent as an absolute
file:// URL) or a builtin such as wasmcloud+builtin://http-server.`,
		Example: `  wash start provider ghcr.io/wasmcloud/http-server:0.23.0 http-server
  wash start provider ./build/my.par.gz my-provider --constraint zone=a`,
		Args: cli.Args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ref, o.ID = args[0], args[1]
			return cli.Run(cmd.Context(), env, o, runF, RunProvider)
		},
	}
	fs := cmd.Flags()
	o.Conn.AddFlags(fs)
	o.Place.AddStartFlags(fs, placement.StartProviderWait, "provider_started")
	// Upstream accepts -l/--link-name and (wrongly) sends it as the provider id; 1.x hosts
	// ignore link names on start, so it is accepted for compatibility and not used.
	fs.StringVarP(&o.LinkName, "link-name", "l", "default", "accepted for compatibility with older wash; unused")
	_ = fs.MarkHidden("link-name")
	return cmd
}

// RunProvider starts a provider.
func RunProvider(ctx context.Context, env *cli.Env, o *ProviderOptions) error {
	s, err := placement.Prepare(env, &o.Conn, &o.Place, "provider", o.ID, o.Ref)
	if err != nil {
		return err
	}
	defer s.Close()
	ref, annotations, config := s.Ref, s.Annotations, s.Config
	h, err := s.ChooseHost(ctx, &o.Place, "provider", ref, o.ID)
	if err != nil {
		return err
	}
	if err := s.StartProvider(ctx, workload.StartProviderRequest{
		Host: h, Cmd: ctl.StartProviderCommand{ProviderID: o.ID, ProviderRef: ref, Config: config, Annotations: annotations},
		Wait: !o.Place.SkipWait, Timeout: o.Place.WaitTimeout(placement.StartProviderWait, s.Resolved.Timeout),
	}); err != nil {
		return placement.WaitHint(err, "check `wash get inventory "+h.ID+"`, or raise --wait-timeout-ms")
	}
	return printStarted(env, "Provider", o.ID, ref, h.ID, o.Place.SkipWait)
}

// printStarted reports a started (or, with --skip-wait, starting) component or provider; the
// JSON keys are upstream's (component_ref/component_id, provider_ref/provider_id).
func printStarted(env *cli.Env, kind, id, ref, hostID string, skipWait bool) error {
	verb := "started"
	if skipWait {
		verb = "is starting"
	}
	key := strings.ToLower(kind)
	text := fmt.Sprintf("%s [%s] (ref: [%s]) %s on host [%s]", kind, id, ref, verb, hostID)
	return env.IO.PrintOutcome("result", text, output.Result{key + "_ref": ref, key + "_id": id, "host_id": hostID, "waited": !skipWait})
}
