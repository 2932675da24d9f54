// Package templates holds the project templates of `wash new`, embedded in the binary, and the
// generator that turns a template directory (embedded, a local path or a git checkout) into a
// new project.
//
// A template is a directory with a project-generate.toml at its root, in the format upstream
// wash uses: [template] exclude/raw/rename lists and [[placeholders]] the user is asked for.
// Files are rendered with the Handlebars subset in Render; the values project-name,
// project-type and crate_name (project-name in snake_case) are always defined.
package templates

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	wash "github.com/wasmlattice/wash"
)

// ConfigFile is the template description every template has at its root.
const ConfigFile = "project-generate.toml"

//go:embed all:builtin
var builtin embed.FS

// Kinds of project.
const (
	Component = "component"
	Provider  = "provider"
)

// Template is one built-in template.
type Template struct {
	Name        string
	Kind        string
	Language    string
	Description string
	dir         string
	// shared lists directories under builtin/shared copied into the project: source → dest.
	shared [][2]string
	// providerSDK is where the Go provider SDK's source goes in the project ("" for none).
	providerSDK string
}

// ProviderSDKDir is where Go provider templates put the SDK (their go.mod replaces
// github.com/wasmlattice/wash with it).
const ProviderSDKDir = "wash-sdk"

var catalog = []Template{
	{Name: "hello-world-typescript", Kind: Component, Language: "typescript", dir: "hello-world-typescript",
		Description: "HTTP hello world in TypeScript (componentize-js)",
		shared:      [][2]string{{"wasi-http-0.2.10", "wit/deps"}}},
	{Name: "hello-world-rust", Kind: Component, Language: "rust", dir: "hello-world-rust",
		Description: "HTTP hello world in Rust (cargo, wasm32-wasip2)"},
	{Name: "hello-world-tinygo", Kind: Component, Language: "tinygo", dir: "hello-world-tinygo",
		Description: "HTTP hello world in Go (TinyGo, wasip2)",
		shared:      [][2]string{{"wasi-0.2.0", "wit/deps"}}},
	{Name: "keyvalue-counter-typescript", Kind: Component, Language: "typescript", dir: "keyvalue-counter-typescript",
		Description: "HTTP counter on wasi:keyvalue in TypeScript (componentize-js)",
		shared:      [][2]string{{"wasi-http-0.2.10", "wit/deps"}}},
	{Name: "keyvalue-provider-go", Kind: Provider, Language: "go", dir: "keyvalue-provider-go",
		Description: "wasi:keyvalue capability provider in Go (the wash provider SDK)",
		providerSDK: ProviderSDKDir},
}

// List returns the built-in templates of kind ("" for all), in catalog order.
func List(kind string) []Template {
	var out []Template
	for _, t := range catalog {
		if kind == "" || t.Kind == kind {
			out = append(out, t)
		}
	}
	return out
}

// Lookup finds a built-in template by kind and name.
func Lookup(kind, name string) (Template, error) {
	var names []string
	for _, t := range List(kind) {
		if t.Name == name {
			return t, nil
		}
		names = append(names, t.Name)
	}
	return Template{}, fmt.Errorf("unknown %s template %q: choose one of %s (wash new --list)", kind, name, strings.Join(names, ", "))
}

// FS returns the template's own files.
func (t Template) FS() fs.FS {
	sub, err := fs.Sub(builtin, "builtin/"+t.dir)
	if err != nil {
		panic(err) // the catalog names embedded directories
	}
	return sub
}

// Mount is a directory copied into the project under Dest, as is (no rendering).
type Mount struct {
	FS   fs.FS
	Dest string
}

// Mounts are the shared files (WIT packages, the Go provider SDK) a built-in template adds to
// its own.
func (t Template) Mounts() []Mount {
	var out []Mount
	for _, s := range t.shared {
		m, err := fs.Sub(builtin, "builtin/shared/"+s[0])
		if err != nil {
			panic(err)
		}
		out = append(out, Mount{FS: m, Dest: s[1]})
	}
	if t.providerSDK != "" {
		out = append(out, Mount{FS: wash.ProviderSDK(), Dest: t.providerSDK})
	}
	return out
}

// Config is a parsed project-generate.toml.
type Config struct {
	Template struct {
		Exclude []string `toml:"exclude"`
		Raw     []string `toml:"raw"`
		Rename  []struct {
			From string `toml:"from"`
			To   string `toml:"to"`
		} `toml:"rename"`
	} `toml:"template"`
	Placeholders []Placeholder `toml:"placeholders"`
}

// Placeholder is a value a template asks for.
type Placeholder struct {
	Name    string   `toml:"name"`
	Type    string   `toml:"type"` // "string" (default) or "bool"
	Prompt  string   `toml:"prompt"`
	Default any      `toml:"default"`
	Choices []string `toml:"choices"`
	Regex   string   `toml:"regex"`
}

// reserved values a template may not redefine.
var reserved = map[string]bool{"project-name": true, "project-type": true, "crate_name": true, "authors": true, "os-arch": true}

// LoadConfig reads project-generate.toml from the template root.
func LoadConfig(src fs.FS) (*Config, error) {
	b, err := fs.ReadFile(src, ConfigFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("invalid template folder: required configuration file %s is missing", ConfigFile)
		}
		return nil, err
	}
	var c Config
	if _, err := toml.Decode(string(b), &c); err != nil {
		return nil, fmt.Errorf("parsing %s: %v", ConfigFile, err)
	}
	for _, p := range c.Placeholders {
		if p.Name == "" {
			return nil, fmt.Errorf("%s: a placeholder has no name", ConfigFile)
		}
		if reserved[p.Name] {
			return nil, fmt.Errorf("%s: placeholder %q redefines a predefined value", ConfigFile, p.Name)
		}
		if p.Type != "" && p.Type != "string" && p.Type != "bool" {
			return nil, fmt.Errorf("%s: placeholder %q has type %q (string or bool)", ConfigFile, p.Name, p.Type)
		}
		if p.Regex != "" {
			if _, err := regexp.Compile(p.Regex); err != nil {
				return nil, fmt.Errorf("%s: placeholder %q: invalid regex: %v", ConfigFile, p.Name, err)
			}
		}
	}
	return &c, nil
}

var projectNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]+$`)

// ValidateProjectName applies upstream's rule for project names.
func ValidateProjectName(name string) error {
	if !projectNameRE.MatchString(name) {
		return fmt.Errorf("invalid project name %q: project names must begin with an ascii letter and contain letters, digits, underscores ('_') or dashes ('-'), at least 2 characters", name)
	}
	return nil
}

// KebabCase turns a project name into the directory name upstream uses (HelloWorld and
// hello_world both become hello-world).
func KebabCase(s string) string { return joinWords(s, '-') }

// SnakeCase is the crate_name form (hello_world).
func SnakeCase(s string) string { return joinWords(s, '_') }

func joinWords(s string, sep rune) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r == '-' || r == '_' || r == ' ':
			if b.Len() > 0 && !strings.HasSuffix(b.String(), string(sep)) {
				b.WriteRune(sep)
			}
			continue
		case unicode.IsUpper(r):
			prevLower := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			nextLower := i > 0 && i+1 < len(rs) && unicode.IsUpper(rs[i-1]) && unicode.IsLower(rs[i+1])
			if (prevLower || nextLower) && b.Len() > 0 && !strings.HasSuffix(b.String(), string(sep)) {
				b.WriteRune(sep)
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSuffix(b.String(), string(sep))
}

// Asker asks the user for a placeholder's value; nil means never ask (--silent).
type Asker func(p Placeholder, def any) (any, error)

// Values fills the template's placeholders: given values first, then the asker, then defaults
// (rendered with the values known so far). It returns the names still undefined.
func (c *Config) Values(values map[string]any, ask Asker) ([]string, error) {
	var undefined []string
	for _, p := range c.Placeholders {
		if v, ok := values[p.Name]; ok {
			if err := p.check(v); err != nil {
				return nil, err
			}
			continue
		}
		def := p.Default
		if s, ok := def.(string); ok {
			r, err := Render(s, values)
			if err != nil {
				return nil, fmt.Errorf("default of placeholder %q: %v", p.Name, err)
			}
			def = r
		}
		if ask != nil {
			v, err := ask(p, def)
			if err != nil {
				return nil, err
			}
			if err := p.check(v); err != nil {
				return nil, err
			}
			values[p.Name] = v
			continue
		}
		if def == nil {
			undefined = append(undefined, p.Name)
			continue
		}
		values[p.Name] = def
	}
	return undefined, nil
}

func (p Placeholder) check(v any) error {
	if p.Type == "bool" {
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("placeholder %q must be true or false, got %v", p.Name, v)
		}
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("placeholder %q must be a string, got %v", p.Name, v)
	}
	if len(p.Choices) > 0 {
		found := false
		for _, c := range p.Choices {
			found = found || c == s
		}
		if !found {
			return fmt.Errorf("placeholder %q: %q is not one of %s", p.Name, s, strings.Join(p.Choices, ", "))
		}
	}
	if p.Regex != "" && !regexp.MustCompile(p.Regex).MatchString(s) {
		return fmt.Errorf("placeholder %q: %q does not match %s", p.Name, s, p.Regex)
	}
	return nil
}

// BaseValues are the predefined values of a project.
func BaseValues(name, kind string) map[string]any {
	return map[string]any{"project-name": name, "project-type": kind, "crate_name": SnakeCase(name)}
}

// Generate renders the template src into the new directory dest. Nothing is left behind on
// failure: the project is written into a temporary directory beside dest and renamed into place.
// It returns the files written, relative to dest.
func Generate(src fs.FS, cfg *Config, dest string, values map[string]any, mounts ...Mount) ([]string, error) {
	if _, err := os.Lstat(dest); err == nil {
		return nil, fmt.Errorf("target directory %s already exists: choose another name or remove it", dest)
	}
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dest)+".tmp-")
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(tmp)
		}
	}()
	var written []string
	err = fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." || p == ConfigFile {
			return nil
		}
		if d.Name() == ".git" && d.IsDir() {
			return fs.SkipDir
		}
		if matchAny(cfg.Template.Exclude, p, d.IsDir()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s: symbolic links are not supported in templates", p)
		}
		rel := p
		for _, r := range cfg.Template.Rename {
			if path.Clean(r.From) == p {
				to, err := Render(r.To, values)
				if err != nil {
					return fmt.Errorf("rename of %s: %v", p, err)
				}
				rel = path.Clean(to)
			}
		}
		if rel == ".." || strings.HasPrefix(rel, "../") || path.IsAbs(rel) {
			return fmt.Errorf("%s: renamed outside the project (%s)", p, rel)
		}
		data, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		if !matchAny(cfg.Template.Raw, p, false) && utf8.Valid(data) {
			out, err := Render(string(data), values)
			if err != nil {
				return fmt.Errorf("rendering template file %s: %v", p, err)
			}
			data = []byte(out)
		}
		target := filepath.Join(tmp, filepath.FromSlash(rel))
		if _, err := os.Stat(target); err == nil {
			return fmt.Errorf("%s: two template files map to %s", p, rel)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if info, err := d.Info(); err == nil && info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		if err := os.WriteFile(target, data, mode); err != nil {
			return err
		}
		written = append(written, rel)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, m := range mounts {
		err := fs.WalkDir(m.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(m.FS, p)
			if err != nil {
				return err
			}
			rel := path.Join(m.Dest, p)
			target := filepath.Join(tmp, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			written = append(written, rel)
			return os.WriteFile(target, data, 0o644)
		})
		if err != nil {
			return nil, err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dest); err != nil {
		return nil, err
	}
	done = true
	sort.Strings(written)
	return written, nil
}

// matchAny matches gitignore-style patterns: a pattern without a slash matches a name at any
// depth, one with a slash matches the path from the template root; "dir/" matches directories.
func matchAny(patterns []string, p string, isDir bool) bool {
	for _, pat := range patterns {
		pat = strings.TrimPrefix(pat, "./")
		dirOnly := strings.HasSuffix(pat, "/")
		pat = strings.TrimSuffix(pat, "/")
		if dirOnly && !isDir {
			// a file below a matched directory is skipped with the directory itself
			continue
		}
		if strings.Contains(pat, "/") {
			if ok, _ := path.Match(strings.TrimPrefix(pat, "/"), p); ok {
				return true
			}
			continue
		}
		if ok, _ := path.Match(pat, path.Base(p)); ok {
			return true
		}
	}
	return false
}
