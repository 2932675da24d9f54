// Package generate implements `wash new component|provider NAME`: a project from a built-in template
// (embedded in wash, no network), a local template directory (--path) or a git repository
// (--git, the only case that runs git besides the final `git init`).
package generate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/templates"
)

// Options are the flags of `wash new component|provider`.
type Options struct {
	Kind         string // templates.Component or templates.Provider
	Name         string
	TemplateName string
	Path         string // local template directory
	Git          string // git repository of the template
	Subfolder    string
	Branch       string
	Values       string // TOML file with a [values] table
	Silent       bool
	NoGitInit    bool
	// List prints the built-in templates of Kind instead of creating a project.
	List bool
	// Dir is where the project directory is created (default: the current directory).
	Dir string
}

// ListOptions are the flags of `wash new` itself (only --list; the work is in its subcommands).
type ListOptions struct {
	Kind string // "" for every kind
}

// NewCmd builds `wash new`.
func NewCmd(env *cli.Env) *cobra.Command {
	cmd := newCmd(env, nil)
	cmd.AddCommand(newKindCmd(env, templates.Component, nil), newKindCmd(env, templates.Provider, nil))
	return cmd
}

func newCmd(env *cli.Env, runF func(*ListOptions) error) *cobra.Command {
	var list bool
	cmd := &cobra.Command{
		Use:   "new component|provider NAME",
		Short: "Create a component or provider project from a template",
		Long: `Create a new project from a template. Built-in templates are part of wash (no network
needed); --path uses a template directory on disk and --git clones one (both in upstream wash's
project-generate.toml format).`,
		Example: `  wash new component hello --template-name hello-world-typescript
  wash new component hello --template-name hello-world-rust --no-git-init
  wash new provider kvstore --template-name keyvalue-provider-go
  wash new --list`,
		Args: cli.Args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if list {
				return cli.Run(cmd.Context(), env, &ListOptions{}, runF, runList)
			}
			return cli.Usage(errors.New("name what to create: wash new component NAME or wash new provider NAME (wash new --list shows the templates)"))
		},
	}
	cmd.Flags().BoolVar(&list, "list", false, "list the built-in templates")
	return cmd
}

func newKindCmd(env *cli.Env, kind string, runF func(*Options) error) *cobra.Command {
	o := &Options{Kind: kind}
	cmd := &cobra.Command{
		Use:     kind + " [NAME]",
		Short:   "Create a " + kind + " project from a template",
		Example: kindExamples[kind],
		Args:    cli.Args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Name = args[0]
			}
			return cli.Run(cmd.Context(), env, o, runF, Run)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.TemplateName, "template-name", "t", "", "built-in template to use (wash new "+kind+" --list)")
	f.StringVarP(&o.Path, "path", "p", "", "local template directory (instead of a built-in template)")
	f.StringVar(&o.Git, "git", "", "git repository of the template (owner/repo means GitHub); needs git")
	f.StringVar(&o.Subfolder, "subfolder", "", "template directory inside the --git repository")
	f.StringVar(&o.Branch, "branch", "", "branch of the --git repository (default: its default branch)")
	f.StringVarP(&o.Values, "values", "v", "", "TOML file whose [values] table answers the template's placeholders")
	f.BoolVar(&o.Silent, "silent", false, "ask nothing: take the first template and placeholder defaults")
	f.BoolVar(&o.NoGitInit, "no-git-init", false, "do not run git init in the new project")
	f.BoolVar(&o.List, "list", false, "list the built-in "+kind+" templates")
	f.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "subdir" { // upstream's alias
			name = "subfolder"
		}
		return pflag.NormalizedName(name)
	})
	return cmd
}

func runList(_ context.Context, env *cli.Env, o *ListOptions) error { return RunList(env, o.Kind) }

// RunList prints the built-in templates of kind ("" for all).
func RunList(env *cli.Env, kind string) error {
	ts := templates.List(kind)
	if env.IO.JSON() {
		var out []map[string]string
		for _, t := range ts {
			out = append(out, map[string]string{"name": t.Name, "kind": t.Kind, "language": t.Language, "description": t.Description})
		}
		return env.IO.PrintResult(map[string]any{"templates": out})
	}
	tb := env.IO.NewTable("NAME", "KIND", "LANGUAGE", "DESCRIPTION")
	for _, t := range ts {
		tb.Row(t.Name, t.Kind, t.Language, t.Description)
	}
	return tb.Render()
}

// Run creates the project (with List: prints the templates of o.Kind instead).
func Run(ctx context.Context, env *cli.Env, o *Options) error {
	if o.List {
		return RunList(env, o.Kind)
	}
	if o.Path != "" && (o.Git != "" || o.Subfolder != "" || o.Branch != "") {
		return cli.Usage(fmt.Errorf("use --path or --git (with --branch, --subfolder) to name a template source, not both"))
	}
	if o.TemplateName != "" && (o.Path != "" || o.Git != "") {
		return cli.Usage(fmt.Errorf("--template-name picks a built-in template; it cannot be combined with --path or --git"))
	}
	if (o.Git != "" || !o.NoGitInit) && !haveGit() {
		if o.Git != "" {
			return fmt.Errorf("--git needs git, which is not on PATH: install git")
		}
		return fmt.Errorf("git is not on PATH, so the new project cannot be made a repository: install git, or pass --no-git-init")
	}
	values := map[string]any{}
	if o.Values != "" {
		v, err := readValues(o.Values)
		if err != nil {
			return err
		}
		values = v
	}
	interactive := !o.Silent && env.IO.Terminal && isTerminal(env.IO.In)
	in := bufio.NewReader(env.IO.In)

	name := o.Name
	if name == "" {
		if s, ok := values["project-name"].(string); ok {
			name = s
		}
	}
	if name == "" {
		if !interactive {
			return cli.Usage(fmt.Errorf("a project name is required: wash new %s NAME", o.Kind))
		}
		s, err := prompt(env, in, "Project name", "")
		if err != nil {
			return err
		}
		name = s
	}
	if err := templates.ValidateProjectName(name); err != nil {
		return cli.Usage(err)
	}
	base := o.Dir
	if base == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		base = wd
	}
	src, mounts, cleanup, err := o.source(ctx, env, interactive, in)
	if err != nil {
		return err
	}
	defer cleanup()
	dest := filepath.Join(base, templates.KebabCase(name))
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("target directory %s already exists: choose another name or remove it", dest)
	}
	cfg, err := templates.LoadConfig(src)
	if err != nil {
		return err
	}
	for k, v := range templates.BaseValues(name, o.Kind) {
		values[k] = v
	}
	var ask templates.Asker
	if interactive {
		ask = func(p templates.Placeholder, def any) (any, error) { return askPlaceholder(env, in, p, def) }
	}
	undefined, err := cfg.Values(values, ask)
	if err != nil {
		return err
	}
	if len(undefined) > 0 {
		return fmt.Errorf("the template needs values for %s: add them to a --values file ([values] table) or drop --silent", strings.Join(undefined, ", "))
	}
	env.IO.Progress("%sGenerating template...", emoji(env, "🔧 "))
	files, err := templates.Generate(src, cfg, dest, values, mounts...)
	if err != nil {
		return fmt.Errorf("generating project from template: %w", err)
	}
	if !o.NoGitInit {
		git := exec.CommandContext(ctx, "git", "init", "--quiet", "--initial-branch", "main", ".")
		git.Dir = dest
		if out, err := git.CombinedOutput(); err != nil {
			return fmt.Errorf("git init in %s: %v: %s", dest, err, strings.TrimSpace(string(out)))
		}
	}
	if env.IO.JSON() {
		return env.IO.PrintResult(map[string]any{"project_path": dest, "files": files})
	}
	env.IO.Printf("%s%s New project created %s\n", emoji(env, "✨ "), env.IO.OK("Done!"), dest)
	next := "Next: cd " + relative(dest) + " && wash build"
	if _, err := os.Stat(filepath.Join(dest, "README.md")); err == nil {
		next += " (README.md there says what else to run)"
	}
	env.IO.Progress("%s", next)
	return nil
}

// kindExamples are the examples of wash new component and wash new provider.
var kindExamples = map[string]string{
	templates.Component: `  wash new component hello --template-name hello-world-typescript
  wash new component hello --path ../my-template --values answers.toml
  wash new component --list`,
	templates.Provider: `  wash new provider kvstore --template-name keyvalue-provider-go
  wash new provider --list`,
}

// relative is dest as the user reaches it from the current directory, when that is short.
func relative(dest string) string {
	wd, err := os.Getwd()
	if err != nil {
		return dest
	}
	if rel, err := filepath.Rel(wd, dest); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return dest
}

// source resolves the template to render: built-in, --path or --git.
func (o *Options) source(ctx context.Context, env *cli.Env, interactive bool, in *bufio.Reader) (fs.FS, []templates.Mount, func(), error) {
	nothing := func() {}
	switch {
	case o.Path != "":
		st, err := os.Stat(o.Path)
		if err != nil || !st.IsDir() {
			return nil, nil, nothing, cli.Usage(fmt.Errorf("--path %s is not an existing directory", o.Path))
		}
		return os.DirFS(o.Path), nil, nothing, nil
	case o.Git != "":
		return o.clone(ctx, env)
	}
	ts := templates.List(o.Kind)
	if len(ts) == 0 {
		return nil, nil, nothing, fmt.Errorf("wash has no built-in %s templates yet: use --path or --git", o.Kind)
	}
	t := ts[0]
	if o.TemplateName != "" {
		var err error
		if t, err = templates.Lookup(o.Kind, o.TemplateName); err != nil {
			return nil, nil, nothing, cli.Usage(err)
		}
	} else if interactive {
		env.IO.Progress("Select a project template:")
		for i, t := range ts {
			env.IO.Progress("  %d) %s: %s", i+1, t.Name, t.Description)
		}
		s, err := prompt(env, in, "Template", "1")
		if err != nil {
			return nil, nil, nothing, err
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > len(ts) {
			return nil, nil, nothing, cli.Usage(fmt.Errorf("no template number %q", s))
		}
		t = ts[n-1]
	}
	return t.FS(), t.Mounts(), nothing, nil
}

// clone fetches a --git template into a temporary directory.
func (o *Options) clone(ctx context.Context, env *cli.Env) (fs.FS, []templates.Mount, func(), error) {
	url := gitURL(o.Git)
	tmp, err := os.MkdirTemp("", "wash-template-")
	if err != nil {
		return nil, nil, func() {}, err
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	where := url
	if o.Subfolder != "" {
		where += " subfolder " + o.Subfolder
	}
	env.IO.Progress("%sCloning template from repo %s...", emoji(env, "🔧 "), where)
	args := []string{"clone", "--quiet", "--depth", "1"}
	if o.Branch != "" {
		args = append(args, "--branch", o.Branch)
	}
	args = append(args, url, tmp)
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return nil, nil, func() {}, fmt.Errorf("cloning template %s: %s", url, strings.TrimSpace(string(out)))
	}
	dir := tmp
	if o.Subfolder != "" {
		dir = filepath.Join(tmp, filepath.FromSlash(o.Subfolder))
		rel, err := filepath.Rel(tmp, dir)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			cleanup()
			return nil, nil, func() {}, cli.Usage(fmt.Errorf("--subfolder %s is outside the repository", o.Subfolder))
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			cleanup()
			return nil, nil, func() {}, fmt.Errorf("--subfolder %s is not a directory of %s", o.Subfolder, url)
		}
	}
	return os.DirFS(dir), nil, cleanup, nil
}

// gitURL expands upstream's shorthands: owner/repo and github.com/… mean GitHub over HTTPS;
// a query string is dropped.
func gitURL(s string) string {
	s, _, _ = strings.Cut(s, "?")
	switch {
	case strings.Contains(s, "://") || strings.HasPrefix(s, "git@") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "."):
		return s
	case strings.HasPrefix(s, "github.com/"):
		return "https://" + s
	case strings.Count(s, "/") == 1:
		return "https://github.com/" + s
	}
	return s
}

func readValues(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, cli.Usage(fmt.Errorf("--values %s: %v", path, err))
	}
	var doc map[string]any
	if _, err := toml.Decode(string(b), &doc); err != nil {
		return nil, cli.Usage(fmt.Errorf("--values %s: %v", path, err))
	}
	vals, _ := doc["values"].(map[string]any)
	if vals == nil {
		vals = map[string]any{}
	}
	return vals, nil
}

func haveGit() bool {
	_, err := exec.LookPath("git")
	return err == nil
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func prompt(env *cli.Env, in *bufio.Reader, question, def string) (string, error) {
	if def != "" {
		fmt.Fprintf(env.IO.Err, "%s [%s]: ", question, def)
	} else {
		fmt.Fprintf(env.IO.Err, "%s: ", question)
	}
	line, err := in.ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("no answer to %q", question)
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return def, nil
	}
	return line, nil
}

func askPlaceholder(env *cli.Env, in *bufio.Reader, p templates.Placeholder, def any) (any, error) {
	q := p.Prompt
	if q == "" {
		q = p.Name
	}
	if len(p.Choices) > 0 {
		q += " (" + strings.Join(p.Choices, ", ") + ")"
	}
	d := ""
	if def != nil {
		d = fmt.Sprint(def)
	}
	s, err := prompt(env, in, q, d)
	if err != nil {
		return nil, err
	}
	if p.Type == "bool" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, cli.Usage(fmt.Errorf("%s: answer true or false", p.Name))
		}
		return b, nil
	}
	return s, nil
}

// emoji returns e on a colour terminal (upstream's decoration), nothing otherwise.
func emoji(env *cli.Env, e string) string {
	if env.IO.Color {
		return e
	}
	return ""
}
