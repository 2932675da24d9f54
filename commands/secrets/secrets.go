// Package secrets implements `wash secrets`: secret references (SECRET_<name> config that tells
// a host which backend holds a component's or provider's secret, as upstream wash) and the
// built-in NATS-KV backend (run it, store secrets in it, grant access to them), compatible with
// upstream's secrets-nats-kv and its CLI.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/config"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/secrets"
)

// NewCmd builds `wash secrets`.
func NewCmd(env *cli.Env) *cobra.Command {
	return cli.Parent(&cobra.Command{
		Use:     "secrets",
		Aliases: []string{"secret"},
		Short:   "Manage secret references and the built-in NATS-KV secrets backend",
		Long: `A secret reference (stored as config SECRET_<name>) tells hosts which backend holds a secret
and under which key. Attach it like config (--config SECRET_<name>, or a manifest's secrets);
a host with a secrets topic fetches the value when the component or provider starts, using the
workload's signed claims. Components read it through wasmcloud:secrets, providers get it in
their host data or sealed with their links.

'wash secrets nats-kv' runs and fills the NATS-KV backend (wash up --secrets-nats-kv runs it
inside the lattice process).`,
		Example: `  wash up -d --secrets-nats-kv
  wash secrets nats-kv put api-token --string "$TOKEN"
  wash secrets nats-kv add-mapping MBXYZ… --secret api-token
  wash secrets put api nats-kv api-token
  wash start component ./app_s.wasm app --config SECRET_api`,
	}, "missing subcommand: put, get, del or nats-kv",
		newPutCmd(env, nil), newGetCmd(env, nil), newDelCmd(env, nil), newNatsKVCmd(env))
}

// PutOptions are the flags of `wash secrets put`.
type PutOptions struct {
	Conn       conn.Options
	Name       string
	Backend    string
	Key        string
	Field      string
	Version    string
	Properties []string
	fieldSet   bool
	versionSet bool
}

func newPutCmd(env *cli.Env, runF func(*PutOptions) error) *cobra.Command {
	o := &PutOptions{}
	cmd := &cobra.Command{
		Use:     "put NAME BACKEND KEY",
		Aliases: []string{"create"},
		Short:   "Store a secret reference (config SECRET_NAME): secret NAME comes from KEY in BACKEND",
		Example: `  wash secrets put db-password nats-kv db-password
  wash secrets put api vault secret/data/api --field token --property role=reader`,
		Args: cli.Args(cobra.ExactArgs(3)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Name, o.Backend, o.Key = args[0], args[1], args[2]
			o.fieldSet, o.versionSet = cmd.Flags().Changed("field"), cmd.Flags().Changed("version")
			return cli.Run(cmd.Context(), env, o, runF, RunPut)
		},
	}
	fs := cmd.Flags()
	o.Conn.AddFlags(fs)
	fs.StringVar(&o.Field, "field", "", "field of the secret to read from the backend")
	fs.StringVarP(&o.Version, "version", "v", "", "version of the secret (default: the latest)")
	fs.StringArrayVar(&o.Properties, "property", nil, "policy property key=value handed to the backend (repeatable)")
	return cmd
}

// RunPut stores a reference the way upstream wash does (the same config map).
func RunPut(ctx context.Context, env *cli.Env, o *PutOptions) error {
	props, err := cli.ParseKV(o.Properties, "--property")
	if err != nil {
		return err
	}
	if strings.TrimSpace(o.Backend) == "" || strings.TrimSpace(o.Key) == "" {
		return cli.Usage(errors.New("backend and key must not be empty"))
	}
	var field, version *string
	if o.fieldSet {
		field = &o.Field
	}
	if o.versionSet {
		version = &o.Version
	}
	values, err := secrets.NewReference(o.Name, o.Backend, o.Key, field, version, props).ConfigMap()
	if err != nil {
		return err
	}
	name, err := configName(o.Name)
	if err != nil {
		return err
	}
	return config.PutValues(ctx, env, &config.Options{Conn: o.Conn, Name: name}, values)
}

func newGetCmd(env *cli.Env, runF func(*config.Options) error) *cobra.Command {
	return config.NewNameCmd(env, &cobra.Command{
		Use:   "get NAME",
		Short: "Show a secret reference (never the secret itself)",
	}, runF, RunGet)
}

// configName is the config name that holds secret reference name (SECRET_<name>), checked to
// be one subject token as config names must be.
func configName(name string) (string, error) {
	cfg := secrets.ConfigName(name)
	if !ctl.ValidToken(cfg) {
		return "", cli.Usage(fmt.Errorf("invalid secret name %q: it must be one word without '.', '*', '>' or spaces", name))
	}
	return cfg, nil
}

// RunGet prints a reference: a table for people, the stored map with -o json (as upstream).
// o.Name is the secret reference's name, without the SECRET_ prefix.
func RunGet(ctx context.Context, env *cli.Env, o *config.Options) error {
	name, err := configName(o.Name)
	if err != nil {
		return err
	}
	return config.Show(ctx, env, &config.Options{Conn: o.Conn, Name: name}, func(lattice string) error {
		return fmt.Errorf("no secret reference named %q in lattice %q (create it with `wash secrets put %s BACKEND KEY`)", o.Name, lattice, o.Name)
	})
}

func newDelCmd(env *cli.Env, runF func(*config.Options) error) *cobra.Command {
	return config.NewNameCmd(env, &cobra.Command{
		Use:     "del NAME",
		Aliases: []string{"delete"},
		Short:   "Delete a secret reference (the secret stays in its backend)",
	}, runF, RunDel)
}

// RunDel deletes the config entry that holds a secret reference.
func RunDel(ctx context.Context, env *cli.Env, o *config.Options) error {
	return config.RunDel(ctx, env, &config.Options{Conn: o.Conn, Name: secrets.ConfigName(o.Name)})
}
