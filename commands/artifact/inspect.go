package artifact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/wasmlattice/wash/internal/bounded"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/oci"
	"github.com/wasmlattice/wash/oci/par"
	"github.com/wasmlattice/wash/runtime/wit"
	"github.com/wasmlattice/wash/wascap"
)

// InspectOptions are the inputs of `wash inspect`.
type InspectOptions struct {
	RegistryOptions
	Target  string
	JWTOnly bool
	// WIT prints the component's world (decoded from its own types) instead of its claims.
	WIT bool
}

// NewInspectCmd builds `wash inspect`.
func NewInspectCmd(env *cli.Env) *cobra.Command { return newInspectCmd(env, nil) }

func newInspectCmd(env *cli.Env, runF func(*InspectOptions) error) *cobra.Command {
	o := &InspectOptions{}
	cmd := &cobra.Command{
		Use:   "inspect REF|FILE",
		Short: "Show the claims of a component or provider archive (local file or OCI reference)",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Target = args[0]
			return cli.RunWithEnv(cmd, registryEnv, env, o, runF, RunInspect)
		},
	}
	o.bind(cmd)
	cmd.Flags().BoolVar(&o.JWTOnly, "jwt-only", false, "print only the raw JWT")
	cmd.Flags().BoolVar(&o.WIT, "wit", false, "print the WIT world of the component (from its own type information)")
	cmd.Flags().SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "world" { // upstream's alias
			name = "wit"
		}
		return pflag.NormalizedName(name)
	})
	cmd.MarkFlagsMutuallyExclusive("jwt-only", "wit")
	return cmd
}

// load reads a local file, or pulls the reference when no such file exists.
func (o *RegistryOptions) load(ctx context.Context, env *cli.Env, target string) ([]byte, error) {
	if b, err := bounded.ReadFile(target, maxArtifactFile); err == nil {
		return b, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", target, err)
	}
	ref, err := o.parse(target)
	if err != nil {
		return nil, fmt.Errorf("%s is neither a local file nor a valid OCI reference: %w", target, err)
	}
	c, err := o.client(env)
	if err != nil {
		return nil, err
	}
	a, err := c.PullReference(ctx, ref, oci.PullOptions{})
	if err != nil {
		return nil, err
	}
	return a.Bytes(), nil
}

// RunInspect prints the claims of o.Target.
func RunInspect(ctx context.Context, env *cli.Env, o *InspectOptions) error {
	data, err := o.load(ctx, env, o.Target)
	if err != nil {
		return err
	}
	if o.WIT {
		return printWIT(env, o.Target, data)
	}
	switch oci.Identify(data) {
	case oci.KindComponent, oci.KindModule:
		return printComponent(env, o, data)
	case oci.KindProvider:
		a, err := par.Load(data)
		if err != nil {
			return fmt.Errorf("%s: %w", o.Target, err)
		}
		return printProvider(env, a, o.JWTOnly)
	}
	return fmt.Errorf("%s is neither a wasm component nor a provider archive", o.Target)
}

// printWIT prints the world of a component, or the WIT package a provider archive carries.
func printWIT(env *cli.Env, target string, data []byte) error {
	if oci.Identify(data) == oci.KindProvider {
		a, err := par.Load(data)
		if err != nil {
			return fmt.Errorf("%s: %w", target, err)
		}
		if len(a.World) == 0 {
			return fmt.Errorf("%s: the provider archive carries no WIT (world.wasm); wash par create --wit-directory adds one", target)
		}
		data = a.World
	}
	w, err := wit.Decode(data)
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	text := w.Print()
	if env.IO.JSON() {
		return env.IO.PrintResult(map[string]any{"wit": text})
	}
	env.IO.Printf("%s", text)
	return nil
}

func printComponent(env *cli.Env, o *InspectOptions, data []byte) error {
	tok, err := wascap.ExtractClaims(data)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Target, err)
	}
	if tok == nil {
		return fmt.Errorf("no capabilities discovered in %s: the component carries no signed claims (sign it with wash claims sign)", o.Target)
	}
	if o.JWTOnly {
		if env.IO.JSON() {
			return env.IO.PrintResult(map[string]any{"token": tok.JWT})
		}
		env.IO.Println(tok.JWT)
		return nil
	}
	c, m := tok.Claims, tok.Claims.Metadata
	v := tok.Validate(time.Now())
	canUse := "Yes"
	if v.CannotUseYet {
		canUse = v.NotBeforeHuman
	}
	var rev any
	revStr := "None"
	if m != nil && m.Rev != nil {
		rev, revStr = *m.Rev, fmt.Sprint(*m.Rev)
	}
	var tags []string
	ver := ""
	if m != nil {
		tags, ver = m.Tags, m.Ver
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(map[string]any{
			"name": m.DisplayName(), "account": c.Issuer, "component": c.Subject, "expires": v.ExpiresHuman,
			"can_be_used": canUse, "version": ver, "revision": rev, "tags": tags,
		})
	}
	env.IO.Printf("%s\n", env.IO.Bold(m.DisplayName()+" - Component"))
	t := env.IO.NewTable("", "")
	t.Row("Account", c.Issuer)
	t.Row("Component", c.Subject)
	t.Row("Expires", v.ExpiresHuman)
	t.Row("Can Be Used", canUse)
	t.Row("Version", fmt.Sprintf("%s (%s)", ver, revStr))
	if err := t.Render(); err != nil {
		return err
	}
	env.IO.Printf("%s\n", env.IO.Bold("Tags"))
	if len(tags) == 0 {
		env.IO.Println("None")
	}
	for _, tg := range tags {
		env.IO.Println(tg)
	}
	return nil
}

func printProvider(env *cli.Env, a *par.Archive, jwtOnly bool) error {
	c := a.Token.Claims
	if jwtOnly {
		if env.IO.JSON() {
			return env.IO.PrintResult(map[string]any{"token": a.Token.JWT})
		}
		env.IO.Println(a.Token.JWT)
		return nil
	}
	ver, rev := "None", "None"
	var verJ, revJ any
	if a.Ver != nil {
		ver, verJ = *a.Ver, *a.Ver
	}
	if a.Rev != nil {
		rev, revJ = fmt.Sprint(*a.Rev), *a.Rev
	}
	targets := a.Targets()
	if len(targets) == 0 { // loaded for one target only
		for k := range c.Metadata.TargetHashes {
			if k != par.WorldFile {
				targets = append(targets, k)
			}
		}
	}
	if env.IO.JSON() {
		res := map[string]any{"name": a.Name, "issuer": c.Issuer, "service": c.Subject, "vendor": a.Vendor,
			"version": verJ, "revision": revJ, "targets": targets}
		if len(a.Schema) > 0 {
			res["schema"] = json.RawMessage(a.Schema)
		}
		return env.IO.PrintResult(res)
	}
	env.IO.Printf("%s\n", env.IO.Bold(a.Name+" - Capability Provider"))
	t := env.IO.NewTable("", "")
	t.Row("Account", c.Issuer)
	t.Row("Service", c.Subject)
	t.Row("Vendor", a.Vendor)
	t.Row("Version", ver)
	t.Row("Revision", rev)
	if err := t.Render(); err != nil {
		return err
	}
	env.IO.Printf("%s\n", env.IO.Bold("Supported Architecture Targets"))
	env.IO.Println(strings.Join(targets, "\n"))
	if len(a.Schema) > 0 {
		env.IO.Printf("%s\n%s\n", env.IO.Bold("Link Definition Schema"), a.Schema)
	}
	return nil
}
