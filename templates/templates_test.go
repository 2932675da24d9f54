package templates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestRender(t *testing.T) {
	vals := map[string]any{"name": "a<b", "on": true, "off": false, "empty": ""}
	for _, c := range []struct{ in, want string }{
		{"x {{name}} y", "x a&lt;b y"},
		{"{{{name}}}", "a<b"},
		{"{{ missing }}|", "|"},
		{`\{{name}}`, "{{name}}"},
		{"{{#if on}}yes{{else}}no{{/if}}", "yes"},
		{"{{#if off}}yes{{else}}no{{/if}}", "no"},
		{"{{#unless empty}}none{{/unless}}", "none"},
		{"a{{! note }}b{{!-- long }} note --}}c", "abc"},
		{"fn main() { println!(\"{}\", 1) }", "fn main() { println!(\"{}\", 1) }"},
	} {
		got, err := Render(c.in, vals)
		if err != nil || got != c.want {
			t.Errorf("Render(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"{{#if on}}open", "{{/if}}", "{{helper arg}}", "{{#each list}}x{{/each}}", "{{name"} {
		if _, err := Render(bad, vals); err == nil {
			t.Errorf("Render(%q) succeeded", bad)
		}
	}
}

func TestCaseConversion(t *testing.T) {
	for in, want := range map[string]string{"hello": "hello", "HelloWorld": "hello-world", "hello_world": "hello-world",
		"HTTPServer": "http-server", "my-App2": "my-app2"} {
		if got := KebabCase(in); got != want {
			t.Errorf("KebabCase(%q) = %q, want %q", in, got, want)
		}
	}
	if got := SnakeCase("hello-world"); got != "hello_world" {
		t.Errorf("SnakeCase = %q", got)
	}
	for _, bad := range []string{"", "a", "1abc", "has space", "dot.name", "../x"} {
		if ValidateProjectName(bad) == nil {
			t.Errorf("ValidateProjectName(%q) accepted", bad)
		}
	}
}

// Every built-in template renders, names its files after the project and leaves no
// placeholder behind.
func TestBuiltinTemplatesGenerate(t *testing.T) {
	for _, tpl := range List("") {
		t.Run(tpl.Name, func(t *testing.T) {
			cfg, err := LoadConfig(tpl.FS())
			if err != nil {
				t.Fatal(err)
			}
			vals := BaseValues("my-app", tpl.Kind)
			if undefined, err := cfg.Values(vals, nil); err != nil || len(undefined) > 0 {
				t.Fatalf("values: %v %v", undefined, err)
			}
			dest := filepath.Join(t.TempDir(), "my-app")
			files, err := Generate(tpl.FS(), cfg, dest, vals, tpl.Mounts()...)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]string{
				"hello-world-typescript":      {"package.json", "src/component.ts", "wit/world.wit", "wit/deps/http/package.wit", "wasmcloud.toml", "wadm.yaml", ".gitignore"},
				"keyvalue-counter-typescript": {"package.json", "src/component.ts", "wit/deps/keyvalue/package.wit", "wit/deps/http/package.wit", "wasmcloud.toml", "wadm.yaml"},
				"hello-world-rust":            {"Cargo.toml", "src/lib.rs", "wasmcloud.toml", "wadm.yaml", ".gitignore"},
				"hello-world-tinygo":          {"go.mod", "main.go", "wit/world.wit", "wit/deps/cli/package.wit", "wasmcloud.toml", "wadm.yaml"},
				"keyvalue-provider-go":        {"go.mod", "go.sum", "main.go", "wasmcloud.toml", "wadm.yaml", ".gitignore", "wash-sdk/go.mod", "wash-sdk/provider/provider.go", "wash-sdk/provider/keyvalue/keyvalue.go", "wash-sdk/lattice/wrpc/conn.go"},
			}[tpl.Name]
			for _, f := range want {
				if _, err := os.Stat(filepath.Join(dest, f)); err != nil {
					t.Errorf("missing %s (have %v)", f, files)
				}
			}
			for _, f := range files {
				if strings.HasSuffix(f, ".tmpl") || f == ConfigFile {
					t.Errorf("template file %s copied as is", f)
				}
				b, _ := os.ReadFile(filepath.Join(dest, f))
				if strings.Contains(string(b), "{{project-name}}") || strings.Contains(string(b), "{{crate_name}}") {
					t.Errorf("%s keeps a placeholder", f)
				}
			}
			toml, _ := os.ReadFile(filepath.Join(dest, "wasmcloud.toml"))
			manifest := string(toml)
			if tpl.Name == "hello-world-rust" {
				cargo, _ := os.ReadFile(filepath.Join(dest, "Cargo.toml"))
				manifest = string(cargo)
				if !strings.Contains(manifest, `name = "my_app"`) {
					t.Errorf("Cargo.toml lib name:\n%s", manifest)
				}
			}
			if !strings.Contains(manifest, `name = "my-app"`) {
				t.Errorf("project name not substituted:\n%s", manifest)
			}
		})
	}
}

func TestGenerateRefusesExistingAndCleansUp(t *testing.T) {
	src := fstest.MapFS{
		ConfigFile:   {Data: []byte("[template]\nexclude = [\"skip.txt\"]\nrename = [{from = \"a.tmpl\", to = \"{{project-name}}.txt\"}]\n[[placeholders]]\nname = \"greeting\"\ntype = \"string\"\nprompt = \"Greeting?\"\ndefault = \"hi {{project-name}}\"\n")},
		"a.tmpl":     {Data: []byte("{{greeting}}")},
		"skip.txt":   {Data: []byte("no")},
		"bin/x.bin":  {Data: []byte{0xff, 0xfe, '{', '{'}},
		"bad/b.txt":  {Data: []byte("ok")},
		"zz/bad.txt": {Data: []byte("{{#if x}}unclosed")},
	}
	cfg, err := LoadConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	vals := BaseValues("demo", Component)
	if _, err := cfg.Values(vals, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dest := filepath.Join(dir, "demo")
	if _, err := Generate(src, cfg, dest, vals); err == nil || !strings.Contains(err.Error(), "zz/bad.txt") {
		t.Fatalf("bad template: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("a failed generation left %v behind", entries)
	}
	delete(src, "zz/bad.txt")
	if _, err := Generate(src, cfg, dest, vals); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "demo.txt")); string(b) != "hi demo" {
		t.Errorf("rendered %q", b)
	}
	if _, err := os.Stat(filepath.Join(dest, "skip.txt")); err == nil {
		t.Error("excluded file copied")
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "bin/x.bin")); len(b) != 4 {
		t.Error("binary file not copied as is")
	}
	if _, err := Generate(src, cfg, dest, vals); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("existing directory: %v", err)
	}
}

func TestPlaceholderChecks(t *testing.T) {
	src := fstest.MapFS{ConfigFile: {Data: []byte("[[placeholders]]\nname = \"color\"\ntype = \"string\"\nprompt = \"?\"\nchoices = [\"red\", \"blue\"]\n")}}
	cfg, err := LoadConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	if undefined, _ := cfg.Values(map[string]any{}, nil); len(undefined) != 1 {
		t.Errorf("undefined = %v", undefined)
	}
	if _, err := cfg.Values(map[string]any{"color": "green"}, nil); err == nil {
		t.Error("a value outside the choices was accepted")
	}
	if _, err := LoadConfig(fstest.MapFS{ConfigFile: {Data: []byte("[[placeholders]]\nname = \"project-name\"\n")}}); err == nil {
		t.Error("redefining project-name was accepted")
	}
	if _, err := LoadConfig(fstest.MapFS{}); err == nil || !strings.Contains(err.Error(), ConfigFile) {
		t.Errorf("missing config: %v", err)
	}
}
