// Package ctx implements `wash ctx list|new|default|edit|del`: saved connection settings
// (upstream's context files: <dir>/<name>.json plus a "default" file naming the default one).
package ctx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/commands/output"
)

// Options are shared by the ctx subcommands.
type Options struct {
	Directory string
	Name      string
	Editor    string
	New       conn.Context
	JSDomain  string
	CredsFile string
	TLSCAFile string
	TLSFirst  bool
}

// NewCmd builds `wash ctx`.
func NewCmd(env *cli.Env) *cobra.Command {
	return cli.Parent(&cobra.Command{
		Use:     "ctx",
		Aliases: []string{"context", "contexts"},
		Short:   "Manage contexts: saved NATS, lattice and timeout settings",
		Long: `A context saves connection settings (NATS host and port, credentials, lattice, timeouts,
JetStream domain). Every lattice command reads them from --context NAME, or else the default
context. For each setting the first of these wins: flag, environment variable, context, built-in
default.`,
	}, "missing subcommand: list, new, default, edit or del",
		newListCmd(env, nil), newNewCmd(env, nil), newDefaultCmd(env, nil), newEditCmd(env, nil), newDelCmd(env, nil))
}

func addDir(cmd *cobra.Command, o *Options) {
	cmd.Flags().StringVar(&o.Directory, "directory", "", "context directory (env WASH_CONTEXTS; default <WASH_HOME>/contexts)")
}

func (o *Options) store(env *cli.Env) (conn.Store, error) {
	var s conn.Store
	if o.Directory != "" {
		s = conn.Store{Dir: o.Directory}
	} else {
		d, err := home.Resolve()
		if err != nil {
			return s, err
		}
		s = conn.StoreFor(d)
	}
	return s, s.Ensure()
}

func newListCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List contexts, marking the default",
		Args:    cli.Args(cobra.NoArgs),
		RunE:    func(cmd *cobra.Command, _ []string) error { return cli.Run(cmd.Context(), env, o, runF, RunList) },
	}
	addDir(cmd, o)
	return cmd
}

// RunList lists contexts.
func RunList(_ context.Context, env *cli.Env, o *Options) error {
	s, err := o.store(env)
	if err != nil {
		return err
	}
	names, err := s.List()
	if err != nil {
		return err
	}
	def := s.DefaultName()
	if env.IO.JSON() {
		if names == nil {
			names = []string{}
		}
		return env.IO.PrintResult(output.Result{"contexts": names, "default": def, "directory": s.Dir})
	}
	env.IO.Printf("== Contexts found in %s ==\n", s.Dir)
	for _, n := range names {
		if n == def {
			env.IO.Printf("%s %s\n", n, env.IO.OK("(default)"))
		} else {
			env.IO.Println(n)
		}
	}
	return nil
}

func newNewCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{New: conn.DefaultContext("")}
	cmd := cli.OneArg(env, &cobra.Command{
		Use:   "new NAME",
		Short: "Create a context (it does not become the default)",
		Example: `  wash ctx new prod --ctl-host nats.example.com --ctl-credsfile ~/prod.creds --lattice prod
  wash ctx default prod`,
	}, &o.Name, o, runF, RunNew)
	addDir(cmd, o)
	fs := cmd.Flags()
	fs.StringVarP(&o.New.CtlHost, "ctl-host", "r", o.New.CtlHost, "NATS host")
	fs.IntVarP(&o.New.CtlPort, "ctl-port", "p", o.New.CtlPort, "NATS port")
	fs.StringVarP(&o.New.Lattice, "lattice", "x", o.New.Lattice, "lattice name")
	fs.IntVar(&o.New.CtlTimeout, "timeout-ms", o.New.CtlTimeout, "request timeout in milliseconds (ctl_timeout)")
	fs.StringVar(&o.JSDomain, "js-domain", "", "JetStream domain")
	fs.StringVar(&o.CredsFile, "ctl-credsfile", "", "NATS credentials file")
	fs.StringVar(&o.New.CtlJWT, "ctl-jwt", "", "NATS user JWT (literal or file path)")
	fs.StringVar(&o.New.CtlSeed, "ctl-seed", "", "NATS user nkey seed (literal or file path)")
	fs.StringVar(&o.TLSCAFile, "ctl-tls-ca-file", "", "CA certificate for TLS to NATS")
	fs.BoolVar(&o.TLSFirst, "ctl-tls-first", false, "start TLS before the NATS handshake")
	return cmd
}

// RunNew saves a new context.
func RunNew(_ context.Context, env *cli.Env, o *Options) error {
	if err := conn.ValidateName(o.Name); err != nil {
		return cli.Usage(err)
	}
	s, err := o.store(env)
	if err != nil {
		return err
	}
	if _, err := os.Stat(s.Path(o.Name)); err == nil {
		return fmt.Errorf("context %q already exists in %s: change it with `wash ctx edit %s` or delete it first", o.Name, s.Dir, o.Name)
	}
	c := o.New
	c.Name = o.Name
	if o.JSDomain != "" {
		c.JSDomain = &o.JSDomain
	}
	if o.CredsFile != "" {
		c.CtlCredsfile = &o.CredsFile
	}
	if o.TLSCAFile != "" {
		c.CtlTLSCAFile = &o.TLSCAFile
	}
	if o.TLSFirst {
		c.CtlTLSFirst = &o.TLSFirst
	}
	if err := c.Validate(); err != nil {
		return cli.Usage(err)
	}
	if err := s.Save(c); err != nil {
		return err
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"name": c.Name, "path": s.Path(c.Name)})
	}
	env.IO.Printf("Created context %s at %s. Make it the default with `wash ctx default %s`, or use it with --context %s.\n", c.Name, s.Path(c.Name), c.Name, c.Name)
	return nil
}

func newDefaultCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := cli.OptionalArg(env, &cobra.Command{
		Use:   "default [NAME]",
		Short: "Show the default context, or make NAME the default",
	}, &o.Name, o, runF, RunDefault)
	addDir(cmd, o)
	return cmd
}

// RunDefault shows or sets the default context.
func RunDefault(_ context.Context, env *cli.Env, o *Options) error {
	s, err := o.store(env)
	if err != nil {
		return err
	}
	if o.Name != "" {
		if err := s.SetDefault(o.Name); err != nil {
			return err
		}
	}
	def := s.DefaultName()
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"default": def})
	}
	if o.Name != "" {
		env.IO.Printf("Default context is now %s\n", def)
	} else {
		env.IO.Println(def)
	}
	return nil
}

func newEditCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := cli.OptionalArg(env, &cobra.Command{
		Use:   "edit [NAME]",
		Short: "Edit a context in $EDITOR (default: the default context)",
		Long: `Open the context file in --editor, $EDITOR or $VISUAL (else vi). After the editor exits the
file is checked; if it is not a valid context the previous version is restored.`,
	}, &o.Name, o, runF, RunEdit)
	addDir(cmd, o)
	cmd.Flags().StringVarP(&o.Editor, "editor", "e", "", "editor command (default $EDITOR, then $VISUAL, then vi)")
	return cmd
}

// RunEdit opens a context in an editor and validates the result.
func RunEdit(ctx context.Context, env *cli.Env, o *Options) error {
	s, err := o.store(env)
	if err != nil {
		return err
	}
	name := o.Name
	if name == "" {
		name = s.DefaultName()
	}
	path := s.Path(name)
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("context %q not found in %s: create it with `wash ctx new %s`", name, s.Dir, name)
	}
	editor := o.Editor
	for _, v := range []string{"EDITOR", "VISUAL"} {
		if editor == "" {
			editor = os.Getenv(v)
		}
	}
	if editor == "" {
		editor = "vi"
	}
	argv := strings.Fields(editor)
	if name == conn.DefaultContextName {
		env.IO.Progress("note: editing %s, the built-in context", conn.DefaultContextName)
	}
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], path)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = env.IO.In, env.IO.Err, env.IO.Err
	if f, ok := env.IO.Out.(*os.File); ok && !env.IO.JSON() {
		cmd.Stdout = f // editors draw on the terminal
	}
	if err := cmd.Run(); err != nil {
		_ = home.WriteFileAtomic(path, old, 0o600)
		return fmt.Errorf("editor %q failed: %v; context %s left unchanged", editor, err, name)
	}
	edited, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var c conn.Context
	verr := json.Unmarshal(edited, &c)
	if verr == nil {
		verr = c.Validate()
	}
	if verr == nil && c.Name != "" && c.Name != name {
		verr = fmt.Errorf("name %q does not match the file name %q", c.Name, name)
	}
	if verr != nil {
		if err := home.WriteFileAtomic(path, old, 0o600); err != nil {
			return fmt.Errorf("context %s is invalid after editing (%v), and restoring it failed: %v", name, verr, err)
		}
		return fmt.Errorf("context %s is invalid after editing (%v); the previous version was restored", name, verr)
	}
	changed := !bytes.Equal(old, edited)
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"name": name, "path": path, "changed": changed})
	}
	if changed {
		env.IO.Printf("Context %s saved.\n", name)
	} else {
		env.IO.Printf("Context %s unchanged.\n", name)
	}
	return nil
}

func newDelCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := cli.OneArg(env, &cobra.Command{
		Use:     "del NAME",
		Aliases: []string{"delete", "rm"},
		Short:   "Delete a context (if it was the default, host_config becomes the default)",
	}, &o.Name, o, runF, RunDel)
	addDir(cmd, o)
	return cmd
}

// RunDel deletes a context.
func RunDel(_ context.Context, env *cli.Env, o *Options) error {
	if err := conn.ValidateName(o.Name); err != nil {
		return cli.Usage(err)
	}
	s, err := o.store(env)
	if err != nil {
		return err
	}
	if err := s.Delete(o.Name); err != nil {
		return err
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(output.Result{"deleted": o.Name, "default": s.DefaultName()})
	}
	env.IO.Printf("Deleted context %s (default is %s)\n", o.Name, s.DefaultName())
	return nil
}
