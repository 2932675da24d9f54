package generate

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/output"
)

func testEnv() (*cli.Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &cli.Env{IO: output.Buffered(&out, &errb)}, &out, &errb
}

func TestPathTemplateWithValues(t *testing.T) {
	tpl := t.TempDir()
	os.WriteFile(filepath.Join(tpl, "project-generate.toml"), []byte("[[placeholders]]\nname = \"owner\"\ntype = \"string\"\nprompt = \"Owner?\"\n"), 0o644)
	os.WriteFile(filepath.Join(tpl, "README.md"), []byte("{{project-name}} by {{owner}}\n"), 0o644)
	values := filepath.Join(t.TempDir(), "values.toml")
	os.WriteFile(values, []byte("[values]\nowner = \"ada\"\n"), 0o644)
	dir := t.TempDir()
	env, out, _ := testEnv()
	err := Run(context.Background(), env, &Options{Kind: "component", Name: "MyThing", Path: tpl, Values: values, Silent: true, NoGitInit: true, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "my-thing", "README.md"))
	if err != nil || string(b) != "MyThing by ada\n" {
		t.Errorf("README %q %v", b, err)
	}
	if !strings.Contains(out.String(), "New project created") {
		t.Errorf("output %q", out.String())
	}
	// without the values file, --silent cannot fill the placeholder
	err = Run(context.Background(), env, &Options{Kind: "component", Name: "other", Path: tpl, Silent: true, NoGitInit: true, Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "owner") {
		t.Errorf("missing value: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "other")); err == nil {
		t.Error("a failed generation left the directory")
	}
}

func TestArgumentErrors(t *testing.T) {
	env, _, _ := testEnv()
	for _, o := range []*Options{
		{Kind: "component", Name: "x1", Path: "/tmp", Git: "a/b", NoGitInit: true},
		{Kind: "component", Name: "1bad", NoGitInit: true},
		{Kind: "component", NoGitInit: true},
		{Kind: "component", Name: "ok-name", TemplateName: "nope", NoGitInit: true, Dir: t.TempDir()},
	} {
		if err := Run(context.Background(), env, o); err == nil || !cli.IsUsage(err) {
			t.Errorf("%+v: %v, want a usage error", o, err)
		}
	}
	// a component template is not a provider template
	err := Run(context.Background(), env, &Options{Kind: "provider", Name: "prov", TemplateName: "hello-world-rust", NoGitInit: true, Dir: t.TempDir()})
	if err == nil || !cli.IsUsage(err) || !strings.Contains(err.Error(), "keyvalue-provider-go") {
		t.Errorf("component template for a provider: %v", err)
	}
}

// wash new provider NAME --silent takes the Go provider template: a Go module with the SDK
// beside it, named after the project.
func TestProviderFromBuiltinTemplate(t *testing.T) {
	env, _, _ := testEnv()
	dir := t.TempDir()
	if err := Run(context.Background(), env, &Options{Kind: "provider", Name: "MyKV", Silent: true, NoGitInit: true, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "my-kv")
	for f, want := range map[string]string{
		"wasmcloud.toml":                 "type = \"provider\"",
		"go.mod":                         "module MyKV\n",
		"main.go":                        "MyKV ready",
		"wadm.yaml":                      "file://./build/MyKV.par.gz",
		"wash-sdk/go.mod":                "module github.com/wasmlattice/wash\n",
		"wash-sdk/provider/provider.go":  "package provider",
		"wash-sdk/lattice/wrpc/value.go": "package wrpc",
	} {
		b, err := os.ReadFile(filepath.Join(p, f))
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %q (%v)", f, want, err)
		}
	}
}

func TestGitURL(t *testing.T) {
	for in, want := range map[string]string{
		"wasmCloud/typescript":           "https://github.com/wasmCloud/typescript",
		"github.com/a/b":                 "https://github.com/a/b",
		"https://example.test/r.git?x=1": "https://example.test/r.git",
		"git@github.com:a/b.git":         "git@github.com:a/b.git",
		"/srv/templates/repo":            "/srv/templates/repo",
	} {
		if got := gitURL(in); got != want {
			t.Errorf("gitURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGitTemplate(t *testing.T) {
	if !haveGit() {
		t.Fatal("git is not installed")
	}
	repo := t.TempDir()
	os.MkdirAll(filepath.Join(repo, "tpl"), 0o755)
	os.WriteFile(filepath.Join(repo, "tpl", "project-generate.toml"), []byte(""), 0o644)
	os.WriteFile(filepath.Join(repo, "tpl", "name.txt"), []byte("{{project-name}}"), 0o644)
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.email=t@example.test", "-c", "user.name=t"}, args...)...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "template")
	dir := t.TempDir()
	env, _, _ := testEnv()
	if err := Run(context.Background(), env, &Options{Kind: "component", Name: "from-git", Git: repo, Subfolder: "tpl", Silent: true, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "from-git", "name.txt")); string(b) != "from-git" {
		t.Errorf("name.txt = %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "from-git", ".git")); err != nil {
		t.Errorf("no git init: %v", err)
	}
	err := Run(context.Background(), env, &Options{Kind: "component", Name: "escape", Git: repo, Subfolder: "../..", Silent: true, Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "outside the repository") {
		t.Errorf("subfolder escape: %v", err)
	}
}
