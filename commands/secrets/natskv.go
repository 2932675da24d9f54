package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/lattice/secrets"
)

// Keys are the NATS-KV backend's two xkey seeds: transit (requests are sealed to it) and
// encryption (every stored value is sealed with it; losing it loses the secrets).
type Keys struct {
	TransitSeed    string `json:"transit_xkey_seed"`
	EncryptionSeed string `json:"encryption_xkey_seed"`
}

// KeysPath is where wash keeps the local backend's keys.
func KeysPath(d home.Dir) string { return filepath.Join(d.Path, "secrets", "nats-kv.json") }

// LoadKeys reads the local backend's keys; ok is false when there are none yet.
func LoadKeys(d home.Dir) (k Keys, ok bool, err error) {
	b, err := os.ReadFile(KeysPath(d))
	if errors.Is(err, os.ErrNotExist) {
		return Keys{}, false, nil
	}
	if err != nil {
		return Keys{}, false, err
	}
	if err := json.Unmarshal(b, &k); err != nil || k.TransitSeed == "" || k.EncryptionSeed == "" {
		return Keys{}, false, fmt.Errorf("%s is not a wash secrets key file", KeysPath(d))
	}
	return k, true, nil
}

// EnsureKeys returns the local backend's keys, generating and saving them (0600) on first use.
func EnsureKeys(d home.Dir) (Keys, error) {
	if k, ok, err := LoadKeys(d); ok || err != nil {
		return k, err
	}
	seed := func() (string, error) {
		kp, err := nkeys.CreateCurveKeys()
		if err != nil {
			return "", err
		}
		s, err := kp.Seed()
		return string(s), err
	}
	var k Keys
	var err error
	if k.TransitSeed, err = seed(); err != nil {
		return k, err
	}
	if k.EncryptionSeed, err = seed(); err != nil {
		return k, err
	}
	b, _ := json.MarshalIndent(k, "", "  ")
	if err := home.WriteFileAtomic(KeysPath(d), b, 0o600); err != nil {
		return k, fmt.Errorf("saving secrets backend keys: %w", err)
	}
	return k, nil
}

// NatsKVOptions are the flags of `wash secrets nats-kv …`, named as upstream's secrets-nats-kv.
type NatsKVOptions struct {
	Conn           conn.Options
	TransitSeed    string
	EncryptionSeed string
	SubjectBase    string
	Name           string
	Bucket         string
	MaxHistory     int
	QueueBase      string

	Secret        string // put/get: the secret's key
	String        string
	BinaryFile    string
	SecretVersion string
	Kind          string
	PublicKey     string
	Secrets       []string
}

func newNatsKVCmd(env *cli.Env) *cobra.Command {
	return cli.Parent(&cobra.Command{
		Use:   "nats-kv",
		Short: "Run the NATS-KV secrets backend and manage the secrets it holds",
		Long: `The NATS-KV backend keeps secrets sealed with an encryption xkey in the JetStream KV bucket
WASMCLOUD_SECRETS and serves them to hosts on wasmcloud.secrets.v1alpha1.nats-kv.* (the same
protocol, bucket and commands as upstream's secrets-nats-kv). An entity (a component's M… or a
provider's V… key) reads only the secrets mapped to it.

Keys: --transit-xkey-seed/--encryption-xkey-seed (env TRANSIT_XKEY_SEED/ENCRYPTION_XKEY_SEED),
else the ones wash keeps in $WASH_HOME/secrets/nats-kv.json (made by 'run' or 'wash up
--secrets-nats-kv'). 'put' needs neither: it asks the backend for its transit key.`,
	}, "missing subcommand: run, put, get, add-mapping or remove-mapping",
		newRunCmd(env, nil), newKVPutCmd(env, nil), newKVGetCmd(env, nil),
		newMappingCmd(env, "add-mapping", "Let a component (M…) or provider (V…) read secrets", true),
		newMappingCmd(env, "remove-mapping", "Take back a component's or provider's access to secrets", false))
}

// addFlags registers the connection and backend flags; keys adds the key and bucket flags.
func (o *NatsKVOptions) addFlags(c *cobra.Command, keys bool) *cobra.Command {
	fs := c.Flags()
	o.Conn.AddFlags(fs)
	fs.StringVarP(&o.SubjectBase, "subject-base", "s", secrets.DefaultTopic, "subject prefix of the secrets API")
	fs.StringVarP(&o.Name, "name", "n", secrets.NatsKVName, "backend name")
	if keys {
		fs.StringVar(&o.TransitSeed, "transit-xkey-seed", "", "transit xkey seed (env TRANSIT_XKEY_SEED)")
		fs.StringVarP(&o.EncryptionSeed, "encryption-xkey-seed", "e", "", "encryption xkey seed (env ENCRYPTION_XKEY_SEED)")
		fs.StringVarP(&o.Bucket, "secrets-bucket", "b", secrets.NatsKVBucket, "KV bucket of the secrets")
	}
	return c
}

func newRunCmd(env *cli.Env, runF func(*NatsKVOptions) error) *cobra.Command {
	o := &NatsKVOptions{}
	c := o.addFlags(&cobra.Command{
		Use:   "run",
		Short: "Serve secrets to hosts until interrupted",
		Args:  cli.Args(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, _ []string) error { return cli.Run(cmd.Context(), env, o, runF, RunNatsKV) },
	}, true)
	c.Flags().IntVar(&o.MaxHistory, "max-secret-history", secrets.NatsKVMaxHistory, "versions kept per secret (at most 64)")
	c.Flags().StringVar(&o.QueueBase, "nats-queue-base", secrets.NatsKVQueueBase, "queue group prefix shared by backend instances")
	return c
}

func newKVPutCmd(env *cli.Env, runF func(*NatsKVOptions) error) *cobra.Command {
	o := &NatsKVOptions{}
	c := o.addFlags(cli.OneArg(env, &cobra.Command{
		Use:     "put SECRET (--string VALUE | --binary FILE)",
		Short:   "Store a secret in the backend (a new version if it exists)",
		Example: "  wash secrets nats-kv put api-token --string \"$TOKEN\"\n  wash secrets nats-kv put tls-key --binary ./key.der",
	}, &o.Secret, o, runF, RunNatsKVPut), true)
	c.Flags().StringVar(&o.String, "string", "", "the secret, as text (env SECRET_STRING_VALUE keeps it out of shell history)")
	c.Flags().StringVar(&o.BinaryFile, "binary", "", "file holding the secret as bytes (env SECRET_BINARY_FILE)")
	c.Flags().StringVar(&o.SecretVersion, "secret-version", "", "version label sent with the secret")
	c.MarkFlagsMutuallyExclusive("string", "binary")
	return c
}

func newKVGetCmd(env *cli.Env, runF func(*NatsKVOptions) error) *cobra.Command {
	o := &NatsKVOptions{}
	c := o.addFlags(cli.OneArg(env, &cobra.Command{
		Use:   "get SECRET",
		Short: "Read a secret straight from the bucket with the encryption key",
	}, &o.Secret, o, runF, RunNatsKVGet), true)
	c.Flags().StringVar(&o.SecretVersion, "secret-version", "", "revision to read (default: the latest)")
	c.Flags().StringVar(&o.Kind, "kind", "string", "expected kind: string or binary (binary is written to stdout as is)")
	return c
}

func newMappingCmd(env *cli.Env, use, short string, add bool) *cobra.Command {
	o := &NatsKVOptions{}
	c := o.addFlags(&cobra.Command{
		Use:   use + " PUBLIC_KEY --secret NAME...",
		Short: short,
		Args:  cli.Args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.PublicKey = args[0]
			return RunNatsKVMapping(cmd.Context(), env, o, add)
		},
	}, false)
	c.Flags().StringArrayVar(&o.Secrets, "secret", nil, "secret name (repeatable)")
	return c
}

// keys resolves the seeds: flags, then TRANSIT_XKEY_SEED/ENCRYPTION_XKEY_SEED, then wash's own.
func (o *NatsKVOptions) keys(d home.Dir, create bool) (Keys, error) {
	k := Keys{TransitSeed: o.TransitSeed, EncryptionSeed: o.EncryptionSeed}
	if k.TransitSeed == "" {
		k.TransitSeed = os.Getenv("TRANSIT_XKEY_SEED")
	}
	if k.EncryptionSeed == "" {
		k.EncryptionSeed = os.Getenv("ENCRYPTION_XKEY_SEED")
	}
	if k.TransitSeed != "" && k.EncryptionSeed != "" {
		return k, nil
	}
	var own Keys
	var ok bool
	var err error
	if create {
		own, err = EnsureKeys(d)
		ok = err == nil
	} else {
		own, ok, err = LoadKeys(d)
	}
	if err != nil {
		return k, err
	}
	if ok {
		if k.TransitSeed == "" {
			k.TransitSeed = own.TransitSeed
		}
		if k.EncryptionSeed == "" {
			k.EncryptionSeed = own.EncryptionSeed
		}
	}
	return k, nil
}

// RunNatsKV serves the backend in the foreground.
func RunNatsKV(ctx context.Context, env *cli.Env, o *NatsKVOptions) error {
	d, err := env.Home()
	if err != nil {
		return err
	}
	k, err := o.keys(d, true)
	if err != nil {
		return err
	}
	_, nc, _, err := o.Conn.Dial(d, "wash-secrets-nats-kv")
	if err != nil {
		return err
	}
	defer nc.Close()
	srv, err := secrets.StartNatsKV(ctx, nc, secrets.NatsKVConfig{
		TransitSeed: k.TransitSeed, EncryptionSeed: k.EncryptionSeed, Topic: o.SubjectBase, Name: o.Name,
		Bucket: o.Bucket, MaxHistory: o.MaxHistory, QueueBase: o.QueueBase,
	})
	if err != nil {
		return err
	}
	defer srv.Stop()
	if env.IO.JSON() {
		_ = env.IO.PrintResult(output.Result{"backend": o.Name, "subject": secrets.Subject(o.SubjectBase, o.Name, ">"), "transit_xkey": srv.TransitPublicKey()})
	} else {
		env.IO.Printf("%s secrets backend %q serving on %s (transit xkey %s)\nPress Ctrl+C to stop.\n",
			env.IO.OK("✓"), o.Name, secrets.Subject(o.SubjectBase, o.Name, ">"), srv.TransitPublicKey())
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	select {
	case <-sigs:
	case <-ctx.Done():
	}
	return nil
}

// RunNatsKVPut stores a secret.
func RunNatsKVPut(ctx context.Context, env *cli.Env, o *NatsKVOptions) error {
	req := secrets.PutSecretRequest{Key: o.Secret, Version: o.SecretVersion}
	str, bin := o.String, o.BinaryFile
	if str == "" && bin == "" {
		str, bin = os.Getenv("SECRET_STRING_VALUE"), os.Getenv("SECRET_BINARY_FILE")
	}
	switch {
	case str != "" && bin != "":
		return cli.Usage(errors.New("give the secret as --string or --binary, not both"))
	case str != "":
		req.StringSecret = &str
	case bin != "":
		b, err := os.ReadFile(bin)
		if err != nil {
			return fmt.Errorf("failed to read binary secret from file %q: %w", bin, errors.Unwrap(err))
		}
		req.BinarySecret = b
	default:
		return cli.Usage(errors.New("missing the secret: --string VALUE or --binary FILE (or SECRET_STRING_VALUE / SECRET_BINARY_FILE)"))
	}
	d, err := env.Home()
	if err != nil {
		return err
	}
	transit := o.TransitSeed
	if transit == "" {
		transit = os.Getenv("TRANSIT_XKEY_SEED")
	}
	_, nc, _, err := o.Conn.Dial(d, "wash")
	if err != nil {
		return err
	}
	defer nc.Close()
	kv := secrets.NatsKVClient{NC: nc, Topic: o.SubjectBase, Backend: o.Name}
	rev, err := kv.PutSecret(ctx, transit, req)
	if err != nil {
		return err
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"secret": o.Secret, "revision": rev})
	}
	env.IO.Printf("Secret '%s' put successfully (revision %d).\n", o.Secret, rev)
	return nil
}

// RunNatsKVGet reads a secret with the encryption key.
func RunNatsKVGet(ctx context.Context, env *cli.Env, o *NatsKVOptions) error {
	if o.Kind != "string" && o.Kind != "binary" {
		return cli.Usage(fmt.Errorf("invalid --kind %q: use string or binary", o.Kind))
	}
	d, err := env.Home()
	if err != nil {
		return err
	}
	k, err := o.keys(d, false)
	if err != nil {
		return err
	}
	if k.EncryptionSeed == "" {
		return cli.Usage(fmt.Errorf("no encryption key: give --encryption-xkey-seed (or ENCRYPTION_XKEY_SEED); wash keeps its own in %s once the backend ran", KeysPath(d)))
	}
	_, nc, _, err := o.Conn.Dial(d, "wash")
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	var version *string
	if o.SecretVersion != "" {
		version = &o.SecretVersion
	}
	sec, err := secrets.ReadStored(ctx, js, o.Bucket, k.EncryptionSeed, o.Secret, version)
	if err != nil {
		return err
	}
	switch {
	case o.Kind == "string" && sec.StringSecret == nil:
		return errors.New("secret was in binary format, but string format was requested (use --kind binary)")
	case o.Kind == "binary" && sec.StringSecret != nil:
		return errors.New("secret was in string format, but binary format was requested (use --kind string)")
	}
	if env.IO.JSON() {
		r := output.Result{"secret": o.Secret, "version": sec.Version}
		if sec.StringSecret != nil {
			r["string"] = *sec.StringSecret
		} else {
			r["binary"] = []byte(sec.BinarySecret) // base64 in JSON
		}
		return env.IO.PrintResult(r)
	}
	if sec.StringSecret != nil {
		env.IO.Println(*sec.StringSecret)
		return nil
	}
	_, err = env.IO.Out.Write(sec.BinarySecret)
	return err
}

// RunNatsKVMapping grants or revokes access.
func RunNatsKVMapping(ctx context.Context, env *cli.Env, o *NatsKVOptions, add bool) error {
	if len(o.Secrets) == 0 {
		return cli.Usage(errors.New("name at least one secret with --secret"))
	}
	d, err := env.Home()
	if err != nil {
		return err
	}
	_, nc, _, err := o.Conn.Dial(d, "wash")
	if err != nil {
		return err
	}
	defer nc.Close()
	kv := secrets.NatsKVClient{NC: nc, Topic: o.SubjectBase, Backend: o.Name}
	verb := "can now read"
	if add {
		err = kv.AddMapping(ctx, o.PublicKey, o.Secrets)
	} else {
		verb = "can no longer read"
		err = kv.RemoveMapping(ctx, o.PublicKey, o.Secrets)
	}
	if err != nil {
		return err
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"public_key": o.PublicKey, "secrets": o.Secrets, "added": add})
	}
	env.IO.Printf("%s %s secrets: %s\n", o.PublicKey, verb, strings.Join(o.Secrets, ", "))
	return nil
}
