package artifact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/wasmlattice/wash/internal/atomicfile"
	"github.com/wasmlattice/wash/internal/bounded"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/keys"
	"github.com/wasmlattice/wash/oci/par"
	"github.com/wasmlattice/wash/wascap"
)

// ParCreateOptions are the inputs of `wash par create`.
type ParCreateOptions struct {
	keys.Signing
	Binary      string
	Target      string
	Name        string
	Vendor      string
	Version     string
	Revision    int
	Schema      string
	Destination string
	Compress    bool
}

// NewParCmd builds `wash par` with create, inspect and insert.
func NewParCmd(env *cli.Env) *cobra.Command {
	cmd := &cobra.Command{Use: "par", Short: "Create, inspect and modify provider archives"}
	cmd.AddCommand(newParCreateCmd(env, nil), newParInspectCmd(env, nil), newParInsertCmd(env, nil))
	return cmd
}

func newParCreateCmd(env *cli.Env, runF func(*ParCreateOptions) error) *cobra.Command {
	o := &ParCreateOptions{}
	cmd := &cobra.Command{
		Use:     "create --binary FILE --name NAME --vendor VENDOR",
		Short:   "Create a provider archive from a native binary",
		Example: "  wash par create --binary target/release/my-provider --name 'My Provider' --vendor acme --compress",
		Args:    cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.Run(cmd.Context(), env, o, runF, RunParCreate)
		},
	}
	f := cmd.Flags()
	// Short flags as upstream's par create: -v is the vendor, -r the revision.
	f.StringVarP(&o.Binary, "binary", "b", "", "provider executable")
	f.StringVarP(&o.Target, "arch", "a", par.NativeTarget(), "target of the binary, <arch>-<os>")
	f.StringVarP(&o.Name, "name", "n", "", "provider name")
	f.StringVarP(&o.Vendor, "vendor", "v", "", "vendor")
	f.StringVar(&o.Version, "version", "", "version string")
	f.IntVarP(&o.Revision, "revision", "r", 0, "revision number")
	f.StringVarP(&o.Schema, "schema", "j", "", "JSON schema file for link/config values")
	f.StringVar(&o.Destination, "destination", "", "output file (default <binary stem>.par[.gz])")
	f.BoolVar(&o.Compress, "compress", false, "gzip the archive")
	_ = cmd.MarkFlagRequired("binary")
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("vendor")
	o.Signing.Bind(cmd, "service", "directory")
	return cmd
}

// RunParCreate writes a new signed provider archive.
func RunParCreate(_ context.Context, env *cli.Env, o *ParCreateOptions) error {
	bin, err := bounded.ReadFile(o.Binary, maxArtifactFile)
	if err != nil {
		return fmt.Errorf("reading provider binary: %w", err)
	}
	a := par.New(o.Name, o.Vendor)
	if err := a.AddBinary(o.Target, bin); err != nil {
		return cli.Usage(err)
	}
	if o.Version != "" {
		a.Ver = &o.Version
	}
	if o.Revision != 0 {
		r := int32(o.Revision)
		a.Rev = &r
	}
	if o.Schema != "" {
		s, err := bounded.ReadFile(o.Schema, maxSmallFile)
		if err != nil {
			return fmt.Errorf("reading schema: %w", err)
		}
		if !json.Valid(s) {
			return fmt.Errorf("schema %s is not valid JSON", o.Schema)
		}
		a.Schema = s
	}
	stem := trimExt(filepath.Base(o.Binary))
	iss, err := o.IssuerKey(env)
	if err != nil {
		return err
	}
	sub, err := o.SubjectKey(env, stem, wascap.KindService)
	if err != nil {
		return err
	}
	res, err := par.Create(a, par.Keys{Issuer: iss, Subject: sub}, o.Compress)
	if err != nil {
		return err
	}
	dest := o.Destination
	if dest == "" {
		dest = stem + ".par"
	}
	if o.Compress && filepath.Ext(dest) != ".gz" {
		dest += ".gz"
	}
	if err := atomicfile.WriteFile(dest, res.Bytes, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", dest, err)
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(map[string]any{"file": dest, "service": res.Token.Claims.Subject, "issuer": res.Token.Claims.Issuer})
	}
	env.IO.Printf("Successfully created %s\n", dest)
	return nil
}

func newParInspectCmd(env *cli.Env, runF func(*InspectOptions) error) *cobra.Command {
	o := &InspectOptions{}
	cmd := &cobra.Command{
		Use:   "inspect ARCHIVE|REF",
		Short: "Show the claims and targets of a provider archive",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Target = args[0]
			return cli.RunWithEnv(cmd, registryEnv, env, o, runF, RunParInspect)
		},
	}
	o.bind(cmd)
	cmd.Flags().BoolVar(&o.JWTOnly, "jwt-only", false, "print only the raw JWT")
	return cmd
}

// RunParInspect prints a provider archive's claims.
func RunParInspect(ctx context.Context, env *cli.Env, o *InspectOptions) error {
	data, err := o.load(ctx, env, o.Target)
	if err != nil {
		return err
	}
	a, err := par.Load(data)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Target, err)
	}
	return printProvider(env, a, o.JWTOnly)
}

// ParInsertOptions are the inputs of `wash par insert`.
type ParInsertOptions struct {
	keys.Signing
	Archive string
	Binary  string
	Target  string
}

func newParInsertCmd(env *cli.Env, runF func(*ParInsertOptions) error) *cobra.Command {
	o := &ParInsertOptions{}
	cmd := cli.OneArg(env, &cobra.Command{
		Use:   "insert ARCHIVE --binary FILE [--arch TARGET]",
		Short: "Add a target binary to a provider archive and sign it again",
	}, &o.Archive, o, runF, RunParInsert)
	cmd.Flags().StringVarP(&o.Binary, "binary", "b", "", "provider executable to add")
	cmd.Flags().StringVarP(&o.Target, "arch", "a", par.NativeTarget(), "target of the binary, <arch>-<os>")
	_ = cmd.MarkFlagRequired("binary")
	o.Signing.Bind(cmd, "service", "directory")
	return cmd
}

// RunParInsert adds a binary to an archive in place.
func RunParInsert(_ context.Context, env *cli.Env, o *ParInsertOptions) error {
	data, err := bounded.ReadFile(o.Archive, maxArtifactFile)
	if err != nil {
		return fmt.Errorf("reading archive: %w", err)
	}
	bin, err := bounded.ReadFile(o.Binary, maxArtifactFile)
	if err != nil {
		return fmt.Errorf("reading provider binary: %w", err)
	}
	iss, err := o.IssuerKey(env)
	if err != nil {
		return err
	}
	var sub wascap.Signer
	if o.Subject != "" {
		if sub, err = wascap.LoadKey(o.Subject); err != nil {
			return err
		}
	}
	res, err := par.Insert(data, o.Target, bin, par.Keys{Issuer: iss, Subject: sub})
	if err != nil {
		if errors.Is(err, par.ErrHashMismatch) || errors.Is(err, par.ErrIncomplete) {
			return fmt.Errorf("%s: %w", o.Archive, err)
		}
		return err
	}
	if err := atomicfile.WriteFile(o.Archive, res.Bytes, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", o.Archive, err)
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(map[string]any{"file": o.Archive, "target": o.Target, "service": res.Token.Claims.Subject})
	}
	env.IO.Printf("Successfully inserted %s into %s\n", o.Target, o.Archive)
	return nil
}
