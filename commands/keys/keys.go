// Package keys implements `wash keys gen|get|list` and the signing-key options shared by every
// command that signs (wash claims sign/token, wash build, wash par).
package keys

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/wascap"
)

// Dir resolves the keys directory: flag, else $WASH_KEYS, else $WASH_HOME/keys.
func Dir(env *cli.Env, flag string) (wascap.KeyDir, error) {
	if flag != "" {
		return wascap.KeyDir{Path: flag}, nil
	}
	if d := os.Getenv("WASH_KEYS"); d != "" {
		return wascap.KeyDir{Path: d}, nil
	}
	h, err := env.Home()
	if err != nil {
		return wascap.KeyDir{}, err
	}
	return wascap.KeyDir{Path: filepath.Join(h.Path, "keys")}, nil
}

// Signing locates the keys a command signs with: -i/-s (a seed or a file holding one), else
// <keys dir>/<user>_account.nk for the issuer and <name>_<kind>.nk for the subject, generated
// and saved on first use unless DisableKeygen — upstream wash's scheme.
type Signing struct {
	Issuer        string
	Subject       string
	KeysDir       string
	DisableKeygen bool
}

// Bind adds -i, -s, the keys directory flag (dirFlag, e.g. "directory") and --disable-keygen;
// subject says what the subject key is.
func (s *Signing) Bind(cmd *cobra.Command, subject, dirFlag string) {
	f := cmd.Flags()
	f.StringVarP(&s.Issuer, "issuer", "i", "", "account seed, or a file holding it, that signs the claims (env WASH_ISSUER_KEY)")
	f.StringVarP(&s.Subject, "subject", "s", "", subject+" seed, or a file holding it (env WASH_SUBJECT_KEY)")
	f.StringVar(&s.KeysDir, dirFlag, "", "keys directory (env WASH_KEYS, default $WASH_HOME/keys)")
	f.BoolVar(&s.DisableKeygen, "disable-keygen", false, "fail instead of generating missing keys")
}

// Env are the environment variables of the Bind flags.
var Env = map[string]string{"issuer": "WASH_ISSUER_KEY", "subject": "WASH_SUBJECT_KEY", "directory": "WASH_KEYS", "keys-directory": "WASH_KEYS"}

// IssuerKey is the account key that signs.
func (s *Signing) IssuerKey(env *cli.Env) (wascap.Signer, error) {
	return s.Key(env, s.Issuer, AccountName(), wascap.KindAccount)
}

// SubjectKey is the subject's key: a seed or file given with -s, else <name>_<kind>.nk.
func (s *Signing) SubjectKey(env *cli.Env, name string, kind wascap.KeyKind) (wascap.Signer, error) {
	return s.Key(env, s.Subject, name+"_"+KindName(kind), kind)
}

// Key loads flag (seed or file), else the key called name in the keys directory, generating it
// when missing unless DisableKeygen.
func (s *Signing) Key(env *cli.Env, flag, name string, kind wascap.KeyKind) (wascap.Signer, error) {
	if flag != "" {
		k, err := wascap.LoadKey(flag)
		if err != nil {
			return nil, cli.Usage(fmt.Errorf("%s key: %w", KindName(kind), err))
		}
		return k, nil
	}
	dir, err := Dir(env, s.KeysDir)
	if err != nil {
		return nil, err
	}
	k, generated, err := dir.Ensure(name, kind, s.DisableKeygen)
	if err != nil {
		return nil, err
	}
	if generated {
		env.IO.Progress("No %s key found, generated one at %s", KindName(kind), dir.File(name))
	}
	return k, nil
}

// AccountName is the file name (without .nk) of the user's account key: <$USER>_account.
func AccountName() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); name == "" && err == nil {
		name = u.Username
	}
	if name == "" {
		name = "user"
	}
	return name + "_account"
}

// KindName is upstream's file-name word for a key kind.
func KindName(k wascap.KeyKind) string {
	switch k {
	case wascap.KindAccount:
		return "account"
	case wascap.KindModule:
		return "module"
	case wascap.KindService:
		return "service"
	case wascap.KindServer:
		return "server"
	case wascap.KindOperator:
		return "operator"
	case wascap.KindCluster:
		return "cluster"
	}
	return "key"
}

// NewCmd builds `wash keys`.
func NewCmd(env *cli.Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "keys",
		Aliases: []string{"key"},
		Short:   "Generate, show and list nkeys (the keys that sign claims and identify hosts)",
	}
	cmd.AddCommand(newGenCmd(env, nil), newGetCmd(env, nil), newListCmd(env, nil))
	return cmd
}

// keyTypes maps upstream's type names to key kinds; curve keys (x25519, "xkeys") are separate.
var keyTypes = map[string]wascap.KeyKind{
	"account": wascap.KindAccount, "user": wascap.KindUser,
	"module": wascap.KindModule, "component": wascap.KindModule,
	"service": wascap.KindService, "provider": wascap.KindService,
	"server": wascap.KindServer, "host": wascap.KindServer,
	"operator": wascap.KindOperator, "cluster": wascap.KindCluster,
}

// GenOptions are the argument of `wash keys gen`.
type GenOptions struct{ Type string }

func newGenCmd(env *cli.Env, runF func(*GenOptions) error) *cobra.Command {
	o := &GenOptions{}
	return &cobra.Command{
		Use:   "gen TYPE",
		Short: "Generate a key pair: account, user, module (component), service (provider), server (host), operator, cluster or curve (x25519)",
		Example: `  wash keys gen account
  wash keys gen curve -o json`,
		Args: cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Type = args[0]
			return cli.Run(cmd.Context(), env, o, runF, RunGen)
		},
	}
}

// RunGen prints a new key pair of the named type.
func RunGen(_ context.Context, env *cli.Env, o *GenOptions) error {
	typ := o.Type
	var pub, seed string
	switch t := strings.ToLower(typ); t {
	case "curve", "x25519", "xkey":
		kp, err := nkeys.CreateCurveKeys()
		if err != nil {
			return err
		}
		if pub, err = kp.PublicKey(); err != nil {
			return err
		}
		b, err := kp.Seed()
		if err != nil {
			return err
		}
		seed = string(b)
	default:
		kind, ok := keyTypes[t]
		if !ok {
			return cli.Usage(fmt.Errorf("invalid key type %q: must be one of account, user, module (or component), service (or provider), server (or host), operator, cluster, curve (or x25519)", typ))
		}
		k, err := wascap.NewKey(kind)
		if err != nil {
			return err
		}
		pub, seed = k.Public(), k.Seed()
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(map[string]any{"public_key": pub, "seed": seed})
	}
	env.IO.Printf("Public Key: %s\nSeed: %s\n\nRemember that the seed is private, treat it as a secret.\n", pub, seed)
	return nil
}

// GetOptions are the flags and argument of `wash keys get`.
type GetOptions struct {
	Dir  string // --directory
	Name string
}

func newGetCmd(env *cli.Env, runF func(*GetOptions) error) *cobra.Command {
	o := &GetOptions{}
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Print the seed stored under NAME in the keys directory",
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name = args[0]
			return cli.RunWithEnv(cmd, map[string]string{"directory": "WASH_KEYS"}, env, o, runF, RunGet)
		},
	}
	cmd.Flags().StringVarP(&o.Dir, "directory", "d", "", "keys directory (env WASH_KEYS, default $WASH_HOME/keys)")
	return cmd
}

// RunGet prints one stored seed.
func RunGet(_ context.Context, env *cli.Env, o *GetOptions) error {
	name := o.Name
	dir, err := Dir(env, o.Dir)
	if err != nil {
		return err
	}
	seed, err := dir.Seed(name)
	if err != nil {
		return err
	}
	if seed == "" {
		return fmt.Errorf("key %s doesn't exist in %s (wash keys list shows the keys there)", strings.TrimSuffix(name, wascap.KeyExt), dir.Path)
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(map[string]any{"seed": seed})
	}
	env.IO.Println(seed)
	return nil
}

// ListOptions are the flags of `wash keys list`.
type ListOptions struct{ Dir string }

func newListCmd(env *cli.Env, runF func(*ListOptions) error) *cobra.Command {
	o := &ListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the keys in the keys directory",
		Args:  cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.RunWithEnv(cmd, map[string]string{"directory": "WASH_KEYS"}, env, o, runF, RunList)
		},
	}
	cmd.Flags().StringVarP(&o.Dir, "directory", "d", "", "keys directory (env WASH_KEYS, default $WASH_HOME/keys)")
	return cmd
}

// RunList prints the key names of the keys directory.
func RunList(_ context.Context, env *cli.Env, o *ListOptions) error {
	dir, err := Dir(env, o.Dir)
	if err != nil {
		return err
	}
	names, err := dir.List()
	if err != nil {
		return err
	}
	if names == nil {
		names = []string{}
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(map[string]any{"keys": names})
	}
	if env.IO.Terminal {
		env.IO.Printf("====== Keys found in %s ======\n", dir.Path)
	}
	for _, n := range names {
		env.IO.Println(n)
	}
	return nil
}
