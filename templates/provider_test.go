package templates

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requirements reads the require lines of a go.mod: module path → version.
func requirements(t *testing.T, data string) map[string]string {
	t.Helper()
	req := map[string]string{}
	inBlock := false
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "//")
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "require" && f[1] == "(":
			inBlock = true
		case inBlock && len(f) == 1 && f[0] == ")":
			inBlock = false
		case inBlock && len(f) == 2:
			req[f[0]] = f[1]
		case len(f) == 3 && f[0] == "require":
			req[f[1]] = f[2]
		}
	}
	return req
}

// The provider template builds the SDK with the module versions wash itself is built and
// tested with, and its go.sum lines are wash's own.
func TestGoProviderTemplateFollowsWashGoMod(t *testing.T) {
	washMod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	washSum, err := os.ReadFile("../go.sum")
	if err != nil {
		t.Fatal(err)
	}
	wash := requirements(t, string(washMod))
	tpl, err := Lookup(Provider, "keyvalue-provider-go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"go.mod.tmpl", ProviderSDKDir + "/go.mod.tmpl"} {
		b, err := fs.ReadFile(tpl.FS(), f)
		if err != nil {
			t.Fatal(err)
		}
		req := requirements(t, string(b))
		if len(req) == 0 {
			t.Fatalf("%s requires nothing", f)
		}
		for m, v := range req {
			if m == "github.com/wasmlattice/wash" {
				continue
			}
			if wash[m] != v {
				t.Errorf("%s requires %s %s, wash's go.mod %q: bring the template in line (go test ./templates -run GoProviderTemplateBuilds shows go mod tidy's view)", f, m, v, wash[m])
			}
		}
	}
	sum, err := fs.ReadFile(tpl.FS(), "go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(sum)), "\n") {
		if !strings.Contains(string(washSum), line+"\n") {
			t.Errorf("go.sum line %q is not in wash's go.sum", line)
		}
	}
}

// A generated provider project is a complete Go module: go mod tidy has nothing to change and
// it builds with no network at all once the module cache holds what building wash needed
// (GOPROXY=off). The e2e tests build it again through wash build.
func TestGoProviderTemplateBuildsOffline(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is not installed: %v", err)
	}
	tpl, err := Lookup(Provider, "keyvalue-provider-go")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(tpl.FS())
	if err != nil {
		t.Fatal(err)
	}
	vals := BaseValues("my-kv", tpl.Kind)
	if _, err := cfg.Values(vals, nil); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "my-kv")
	if _, err := Generate(tpl.FS(), cfg, dest, vals, tpl.Mounts()...); err != nil {
		t.Fatal(err)
	}
	gomod, _ := os.ReadFile(filepath.Join(dest, "go.mod"))
	if !strings.HasPrefix(string(gomod), "module my-kv\n") || !strings.Contains(string(gomod), "replace github.com/wasmlattice/wash => ./"+ProviderSDKDir) {
		t.Errorf("go.mod:\n%s", gomod)
	}
	_ = filepath.WalkDir(filepath.Join(dest, ProviderSDKDir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, "_test.go") {
			t.Errorf("test file copied: %s", p)
		}
		return err
	})
	env := append(os.Environ(), "GOPROXY=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=readonly", "GOWORK=off")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Dir, cmd.Env = dest, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if diff := run("mod", "tidy", "-diff"); diff != "" {
		t.Errorf("go mod tidy would change the generated project:\n%s", diff)
	}
	run("build", "-o", filepath.Join(t.TempDir(), "provider"), ".")
}
