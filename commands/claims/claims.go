// Package claims implements `wash claims sign|inspect|token`: signing components with embedded
// claims (a JWT in a wasmcloud_jwt custom section), showing them, and minting claims tokens for
// components, providers, accounts and operators.
package claims

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/artifact"
	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/commands/keys"
	"github.com/wasmlattice/wash/internal/bounded"
	"github.com/wasmlattice/wash/project"
	"github.com/wasmlattice/wash/wascap"
)

// Metadata are the component claims flags shared by sign and token component.
type Metadata struct {
	keys.Signing
	Name      string
	Tags      []string
	Rev       int32
	Ver       string
	CallAlias string
	// ExpiresDays and NotBeforeDays count from now; 0 means unset.
	ExpiresDays   uint64
	NotBeforeDays uint64
}

func (m *Metadata) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&m.Name, "name", "n", "", "component name (required)")
	f.StringSliceVarP(&m.Tags, "tag", "t", nil, "tag to add to the claims (repeatable)")
	f.Int32VarP(&m.Rev, "rev", "r", 0, "revision number")
	f.StringVarP(&m.Ver, "ver", "v", "", "human-readable version (e.g. 0.1.0)")
	f.StringVarP(&m.CallAlias, "call-alias", "a", "", "call alias (lowercase letters, digits, '_' and '/')")
	f.Uint64VarP(&m.ExpiresDays, "expires", "x", 0, "days until the claims expire (default: never)")
	f.Uint64VarP(&m.NotBeforeDays, "nbf", "b", 0, "days until the claims become valid (default: immediately)")
	m.Signing.Bind(cmd, "component (module)", "directory")
}

func (m *Metadata) options(now time.Time) (wascap.SignOptions, error) {
	if err := checkAlias(m.CallAlias); err != nil {
		return wascap.SignOptions{}, err
	}
	o := wascap.SignOptions{Name: m.Name, Tags: m.Tags, Ver: m.Ver, CallAlias: m.CallAlias}
	rev := m.Rev
	o.Rev = &rev
	if m.ExpiresDays > 0 {
		o.Expires = now.Add(time.Duration(m.ExpiresDays) * 24 * time.Hour)
	}
	if m.NotBeforeDays > 0 {
		o.NotBefore = now.Add(time.Duration(m.NotBeforeDays) * 24 * time.Hour)
	}
	return o, nil
}

// checkAlias applies upstream's call-alias rule.
func checkAlias(a string) error {
	if a == "" {
		return nil
	}
	if len(a) == 56 && strings.IndexFunc(a, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') }) < 0 {
		return cli.Usage(fmt.Errorf("a public key cannot be used as a call alias"))
	}
	if strings.IndexFunc(a, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '/') }) >= 0 {
		return cli.Usage(fmt.Errorf("call alias %q contains invalid characters: use lowercase letters, digits, '_' and '/'", a))
	}
	return nil
}

// NewCmd builds `wash claims`.
func NewCmd(env *cli.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "claims",
		Short: "Sign components with claims, inspect claims, and generate claims tokens",
	}
	inspect := artifact.NewInspectCmd(env)
	inspect.Short = "Show the claims of a component or provider archive (same as wash inspect)"
	cmd.AddCommand(newSignCmd(env, nil), inspect, newToken(env))
	return cmd
}

// SignOptions are the inputs of `wash claims sign`.
type SignOptions struct {
	Metadata
	Source      string
	Destination string
}

func newSignCmd(env *cli.Env, runF func(*SignOptions) error) *cobra.Command {
	o := &SignOptions{}
	cmd := &cobra.Command{
		Use:   "sign FILE",
		Short: "Embed signed claims in a component (writes <name>_s.wasm next to it by default)",
		Example: `  wash claims sign build/hello.wasm --name hello --ver 0.1.0 --rev 1
  wash claims sign hello.wasm -n hello -d signed/hello.wasm -i ./account.nk`,
		Args: cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Source = args[0]
			return cli.RunWithEnv(cmd, keys.Env, env, o, runF, RunSign)
		},
	}
	cmd.Flags().StringVarP(&o.Destination, "destination", "d", "", "output file (default <dir>/<stem>_s.wasm)")
	o.bind(cmd)
	return cmd
}

// RunSign signs o.Source into o.Destination.
func RunSign(_ context.Context, env *cli.Env, o *SignOptions) error {
	if o.Name == "" {
		return cli.Usage(fmt.Errorf("a component name is required: pass --name"))
	}
	data, err := bounded.ReadFile(o.Source, project.MaxComponentSize)
	if err != nil {
		return fmt.Errorf("failed to open file for signing: %w", err)
	}
	stem := strings.TrimSuffix(filepath.Base(o.Source), filepath.Ext(o.Source))
	dest := o.Destination
	if dest == "" {
		dest = filepath.Join(filepath.Dir(o.Source), stem+"_s.wasm")
	}
	tok, err := SignFile(env, &o.Metadata, stem, data, dest)
	if err != nil {
		return err
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(map[string]any{"destination": dest, "component": tok.Claims.Subject, "account": tok.Claims.Issuer})
	}
	env.IO.Printf("Successfully signed %s\n", dest)
	return nil
}

// SignFile signs data as component subject key <stem>_module and writes it to dest atomically.
func SignFile(env *cli.Env, m *Metadata, stem string, data []byte, dest string) (*wascap.Token[wascap.Component], error) {
	opts, err := m.options(time.Now())
	if err != nil {
		return nil, err
	}
	iss, err := m.IssuerKey(env)
	if err != nil {
		return nil, err
	}
	sub, err := m.SubjectKey(env, stem, wascap.KindModule)
	if err != nil {
		return nil, err
	}
	signed, tok, err := wascap.Sign(data, iss, wascap.PublicKey(sub), opts)
	if err != nil {
		return nil, fmt.Errorf("signing %s: %w", stem, err)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return nil, err
	}
	if err := home.WriteFileAtomic(dest, signed, 0o644); err != nil {
		return nil, err
	}
	return tok, nil
}

func newToken(env *cli.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token component|provider|account|operator",
		Short: "Generate a signed claims token (JWT)",
	}
	cmd.AddCommand(newTokenComponentCmd(env, nil), newTokenProviderCmd(env, nil), newTokenAccountCmd(env, nil), newTokenOperatorCmd(env, nil))
	return cmd
}

func newTokenComponentCmd(env *cli.Env, runF func(*Metadata) error) *cobra.Command {
	m := &Metadata{}
	cmd := &cobra.Command{
		Use:   "component --name NAME",
		Short: "Generate component claims",
		Args:  cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.RunWithEnv(cmd, keys.Env, env, m, runF, RunTokenComponent)
		},
	}
	m.bind(cmd)
	return cmd
}

// RunTokenComponent prints a component claims token.
func RunTokenComponent(_ context.Context, env *cli.Env, m *Metadata) error {
	if m.Name == "" {
		return cli.Usage(fmt.Errorf("a component name is required: pass --name"))
	}
	opts, err := m.options(time.Now())
	if err != nil {
		return err
	}
	iss, err := m.IssuerKey(env)
	if err != nil {
		return err
	}
	sub, err := m.SubjectKey(env, m.Name, wascap.KindModule)
	if err != nil {
		return err
	}
	meta := &wascap.Component{Name: opts.Name, Tags: opts.Tags, Rev: opts.Rev, Ver: opts.Ver, CallAlias: wascap.NormalizeCallAlias(opts.CallAlias)}
	return printToken(env, iss, wascap.PublicKey(sub), meta, opts.Expires, opts.NotBefore)
}

// dates are the validity flags of provider, account and operator tokens.
type dates struct{ expires, nbf uint64 }

func (d *dates) bind(cmd *cobra.Command) {
	cmd.Flags().Uint64VarP(&d.expires, "expires", "x", 0, "days until the claims expire (default: never)")
	cmd.Flags().Uint64VarP(&d.nbf, "nbf", "b", 0, "days until the claims become valid (default: immediately)")
}

func (d dates) times() (exp, nbf time.Time) {
	now := time.Now()
	if d.expires > 0 {
		exp = now.Add(time.Duration(d.expires) * 24 * time.Hour)
	}
	if d.nbf > 0 {
		nbf = now.Add(time.Duration(d.nbf) * 24 * time.Hour)
	}
	return exp, nbf
}

// ProviderOptions are the flags of `wash claims token provider`.
type ProviderOptions struct {
	keys.Signing
	dates
	Name, Vendor, Version string
	Rev                   int32
	RevSet                bool // --revision was given (0 included)
}

func newTokenProviderCmd(env *cli.Env, runF func(*ProviderOptions) error) *cobra.Command {
	o := &ProviderOptions{}
	cmd := &cobra.Command{
		Use:   "provider --name NAME --vendor VENDOR",
		Short: "Generate capability provider claims",
		Args:  cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cli.BindEnv(cmd.Flags(), keys.Env); err != nil {
				return err
			}
			o.RevSet = cmd.Flags().Changed("revision")
			return cli.Run(cmd.Context(), env, o, runF, RunTokenProvider)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Name, "name", "n", "", "provider name (required)")
	f.StringVarP(&o.Vendor, "vendor", "v", "", "vendor (required)")
	f.Int32VarP(&o.Rev, "revision", "r", 0, "revision number")
	f.StringVarP(&o.Version, "version", "e", "", "version string")
	o.dates.bind(cmd)
	o.Signing.Bind(cmd, "service (provider)", "directory")
	return cmd
}

// RunTokenProvider prints a capability provider claims token.
func RunTokenProvider(_ context.Context, env *cli.Env, o *ProviderOptions) error {
	if o.Name == "" || o.Vendor == "" {
		return cli.Usage(fmt.Errorf("--name and --vendor are required"))
	}
	iss, err := o.IssuerKey(env)
	if err != nil {
		return err
	}
	sub, err := o.SubjectKey(env, o.Name, wascap.KindService)
	if err != nil {
		return err
	}
	name, rev, version := o.Name, o.Rev, o.Version
	meta := &wascap.Provider{Name: &name, Vendor: o.Vendor, TargetHashes: map[string]string{}}
	if o.RevSet {
		meta.Rev = &rev
	}
	if version != "" {
		meta.Ver = &version
	}
	exp, nbf := o.times()
	return printToken(env, iss, wascap.PublicKey(sub), meta, exp, nbf)
}

// AccountOptions are the flags of `wash claims token account`.
type AccountOptions struct {
	keys.Signing
	dates
	Name  string
	Extra []string // --additional-key
}

func newTokenAccountCmd(env *cli.Env, runF func(*AccountOptions) error) *cobra.Command {
	o := &AccountOptions{}
	cmd := &cobra.Command{
		Use:   "account --name NAME",
		Short: "Generate account claims, signed by an operator key",
		Args:  cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.RunWithEnv(cmd, keys.Env, env, o, runF, RunTokenAccount)
		},
	}
	cmd.Flags().StringVarP(&o.Name, "name", "n", "", "account name (required)")
	cmd.Flags().StringSliceVarP(&o.Extra, "additional-key", "a", nil, "another account seed or key file allowed to sign (repeatable)")
	o.dates.bind(cmd)
	o.Signing.Bind(cmd, "account", "directory")
	return cmd
}

// RunTokenAccount prints account claims signed by the operator key.
func RunTokenAccount(_ context.Context, env *cli.Env, o *AccountOptions) error {
	if o.Name == "" {
		return cli.Usage(fmt.Errorf("an account name is required: pass --name"))
	}
	iss, err := o.Key(env, o.Issuer, o.Name+"_operator", wascap.KindOperator)
	if err != nil {
		return err
	}
	sub, err := o.Key(env, o.Subject, keys.AccountName(), wascap.KindAccount)
	if err != nil {
		return err
	}
	signers, err := publicKeys(o.Extra, wascap.KindAccount)
	if err != nil {
		return err
	}
	exp, nbf := o.times()
	return printToken(env, iss, wascap.PublicKey(sub), &wascap.Account{Name: o.Name, ValidSigners: signers}, exp, nbf)
}

// OperatorOptions are the flags of `wash claims token operator` (-s is not one of them).
type OperatorOptions AccountOptions

func newTokenOperatorCmd(env *cli.Env, runF func(*OperatorOptions) error) *cobra.Command {
	o := &OperatorOptions{}
	cmd := &cobra.Command{
		Use:   "operator --name NAME",
		Short: "Generate self-signed operator claims",
		Args:  cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.RunWithEnv(cmd, keys.Env, env, o, runF, RunTokenOperator)
		},
	}
	cmd.Flags().StringVarP(&o.Name, "name", "n", "", "operator name (required)")
	cmd.Flags().StringSliceVarP(&o.Extra, "additional-key", "a", nil, "another operator seed or key file allowed to sign (repeatable)")
	o.dates.bind(cmd)
	cmd.Flags().StringVarP(&o.Issuer, "issuer", "i", "", "operator seed, or a file holding it (env WASH_ISSUER_KEY)")
	cmd.Flags().StringVar(&o.KeysDir, "directory", "", "keys directory (env WASH_KEYS, default $WASH_HOME/keys)")
	cmd.Flags().BoolVar(&o.DisableKeygen, "disable-keygen", false, "fail instead of generating missing keys")
	return cmd
}

// RunTokenOperator prints self-signed operator claims.
func RunTokenOperator(_ context.Context, env *cli.Env, o *OperatorOptions) error {
	if o.Name == "" {
		return cli.Usage(fmt.Errorf("an operator name is required: pass --name"))
	}
	k, err := o.Key(env, o.Issuer, o.Name+"_operator", wascap.KindOperator)
	if err != nil {
		return err
	}
	signers, err := publicKeys(o.Extra, wascap.KindOperator)
	if err != nil {
		return err
	}
	exp, nbf := o.times()
	return printToken(env, k, wascap.PublicKey(k), &wascap.Operator{Name: o.Name, ValidSigners: signers}, exp, nbf)
}

func publicKeys(seeds []string, kind wascap.KeyKind) ([]string, error) {
	var out []string
	for _, s := range seeds {
		k, err := wascap.LoadKey(s)
		if err != nil {
			return nil, cli.Usage(fmt.Errorf("--additional-key: %w", err))
		}
		pub := wascap.PublicKey(k)
		if got, _, err := wascap.DecodePublicKey(pub); err != nil || got != kind {
			return nil, cli.Usage(fmt.Errorf("--additional-key %s is not a %s key", pub, keys.KindName(kind)))
		}
		out = append(out, pub)
	}
	return out, nil
}

func printToken[T any](env *cli.Env, issuer wascap.Signer, subject string, meta *T, exp, nbf time.Time) error {
	c := wascap.NewClaims(wascap.PublicKey(issuer), subject, meta)
	if !exp.IsZero() {
		e := exp.Unix()
		c.Expires = &e
	}
	if !nbf.IsZero() {
		n := nbf.Unix()
		c.NotBefore = &n
	}
	jwt, err := wascap.Encode(&c, issuer)
	if err != nil {
		return err
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(map[string]any{"token": jwt})
	}
	env.IO.Println(jwt)
	return nil
}
