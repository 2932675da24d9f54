package build

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/oci/par"
	"github.com/wasmlattice/wash/project"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tinyProvider is a provider project whose program needs only the standard library, so the
// test builds it for a second platform in seconds.
func tinyProvider(t *testing.T) (dir string, targets []string) {
	t.Helper()
	dir = t.TempDir()
	native := project.NativeTarget().Name
	other := "aarch64-linux"
	if native == other {
		other = "x86_64-linux"
	}
	writeFile(t, filepath.Join(dir, project.FileName), `name = "Tiny Provider"
language = "go"
type = "provider"
version = "1.2.3"
revision = 4
[provider]
vendor = "acme"
targets = ["`+native+`", "`+other+`"]
`)
	writeFile(t, filepath.Join(dir, "go.mod"), "module tiny\n\ngo 1.26\n")
	writeFile(t, filepath.Join(dir, "main.go"), "package main\n\nfunc main() { println(\"tiny\") }\n")
	return dir, []string{native, other}
}

func testEnv() (*cli.Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &cli.Env{IO: output.Buffered(&out, &errb)}, &out, &errb
}

func TestProviderArchiveForEveryTarget(t *testing.T) {
	dir, targets := tinyProvider(t)
	keys := t.TempDir()
	env, out, errb := testEnv()
	o := &Options{ConfigPath: dir}
	o.KeysDir = keys
	if err := Run(context.Background(), env, o); err != nil {
		t.Fatalf("%v\n%s", err, errb)
	}
	archive := filepath.Join(dir, "build", "tiny-provider.par.gz")
	if !strings.Contains(out.String(), archive) || !strings.Contains(out.String(), targets[1]) {
		t.Errorf("output %q", out)
	}
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	a, err := par.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Targets(); !slices.Equal(got, slices.Sorted(slices.Values(targets))) {
		t.Errorf("targets %v, want %v", got, targets)
	}
	c := a.Claims()
	if c.Metadata.Name == nil || *c.Metadata.Name != "Tiny Provider" || c.Metadata.Vendor != "acme" || c.Metadata.Ver == nil || *c.Metadata.Ver != "1.2.3" ||
		c.Metadata.Rev == nil || *c.Metadata.Rev != 4 {
		t.Errorf("claims %+v", c.Metadata)
	}
	// the subject is the provider's service key, kept beside the account key
	if _, err := os.Stat(filepath.Join(keys, "tiny-provider_service.nk")); err != nil {
		t.Errorf("service key: %v", err)
	}
	bin := a.Binaries[targets[0]]
	if len(bin) < 4 || (string(bin[:4]) != "\x7fELF" && !bytes.HasPrefix(bin, []byte{0xcf, 0xfa}) && string(bin[:2]) != "MZ") {
		t.Errorf("the %s binary is not an executable", targets[0])
	}
	if names := visible(t, filepath.Join(dir, "build")); len(names) != 1 {
		t.Errorf("build/ holds %v, want only the archive", names)
	}
	// an unchanged project builds again without relinking (go build keeps build/.bin current)
	cached := filepath.Join(dir, "build", ".bin", "tiny-provider-"+targets[0])
	before, err := os.Stat(cached)
	if err != nil {
		t.Fatal(err)
	}
	env, _, errb = testEnv()
	if err := Run(context.Background(), env, o); err != nil {
		t.Fatalf("%v\n%s", err, errb)
	}
	if after, err := os.Stat(cached); err != nil || !os.SameFile(before, after) {
		t.Errorf("the unchanged binary was linked again: %v", err)
	}
	if data, err = os.ReadFile(archive); err != nil {
		t.Fatal(err)
	}

	// a failing build leaves the archive as it was
	writeFile(t, filepath.Join(dir, "main.go"), "package main\n\nfunc main() { undefinedCall() }\n")
	env, _, errb = testEnv()
	err = Run(context.Background(), env, o)
	var be *project.BuildError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "go build") || !strings.Contains(errb.String(), "undefined: undefinedCall") {
		t.Fatalf("failing build: %v\n%s", err, errb)
	}
	if after, _ := os.ReadFile(archive); !bytes.Equal(after, data) {
		t.Error("a failed build changed the archive")
	}
}

func TestProviderBuildOnlyThenSignOnly(t *testing.T) {
	dir, targets := tinyProvider(t)
	writeFile(t, filepath.Join(dir, project.FileName), strings.Replace(readFile(t, filepath.Join(dir, project.FileName)),
		`targets = ["`+targets[0]+`", "`+targets[1]+`"]`, "", 1))
	env, out, errb := testEnv()
	o := &Options{ConfigPath: dir, BuildOnly: true}
	o.KeysDir = t.TempDir()
	if err := Run(context.Background(), env, o); err != nil {
		t.Fatalf("%v\n%s", err, errb)
	}
	bin := filepath.Join(dir, "build", "tiny-provider-"+targets[0])
	st, err := os.Stat(bin)
	if err != nil || st.Mode()&0o111 == 0 {
		t.Fatalf("binary %s: %v %v (output %q)", bin, st, err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "build", "tiny-provider.par.gz")); err == nil {
		t.Error("--build-only wrote an archive")
	}
	// --sign-only packs those binaries
	env, out, errb = testEnv()
	env.IO.Format = output.JSON
	o.BuildOnly, o.SignOnly = false, true
	if err := Run(context.Background(), env, o); err != nil {
		t.Fatalf("%v\n%s", err, errb)
	}
	var res struct {
		Path    string   `json:"path"`
		Built   bool     `json:"built"`
		Signed  bool     `json:"signed"`
		Targets []string `json:"targets"`
		Service string   `json:"service"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Path != filepath.Join(dir, "build", "tiny-provider.par.gz") || res.Built || !res.Signed ||
		!slices.Equal(res.Targets, targets[:1]) || !strings.HasPrefix(res.Service, "V") {
		t.Errorf("sign-only: %+v", res)
	}
	data, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	built, _ := os.ReadFile(filepath.Join(dir, "build", "tiny-provider-"+targets[0]))
	if a, err := par.Load(data); err != nil || !bytes.Equal(a.Binaries[targets[0]], built) {
		t.Errorf("the archive does not hold the --build-only binary: %v", err)
	}
}

// visible lists the names in dir that ls shows (no dot files).
func visible(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestProviderBuildWithoutGo(t *testing.T) {
	dir, _ := tinyProvider(t)
	t.Setenv("PATH", t.TempDir())
	env, _, _ := testEnv()
	o := &Options{ConfigPath: dir}
	o.KeysDir = t.TempDir()
	err := Run(context.Background(), env, o)
	var mt *project.MissingToolError
	if !errors.As(err, &mt) || err.Error() != "go not found on PATH: install Go (https://go.dev/dl/)" {
		t.Fatalf("without go: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "build")); err == nil {
		t.Error("build/ was created")
	}
}
