package project

import (
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/wasmlattice/wash/lattice/wadm/model"
)

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]Target{
		"x86_64-linux":   {Name: "x86_64-linux", GOOS: "linux", GOARCH: "amd64"},
		"aarch64-macos":  {Name: "aarch64-macos", GOOS: "darwin", GOARCH: "arm64"},
		"amd64-darwin":   {Name: "x86_64-macos", GOOS: "darwin", GOARCH: "amd64"},
		"X86_64-Windows": {Name: "x86_64-windows", GOOS: "windows", GOARCH: "amd64"},
		"riscv64-linux":  {Name: "riscv64-linux", GOOS: "linux", GOARCH: "riscv64"},
	} {
		got, err := ParseTarget(in)
		if err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "linux", "x86_64", "sparc-plan9", "x86_64-linux-gnu", "x86_64/linux"} {
		if _, err := ParseTarget(bad); err == nil || !strings.Contains(err.Error(), "<arch>-<os>") {
			t.Errorf("ParseTarget(%q): %v", bad, err)
		}
	}
}

func TestProviderProjectTargets(t *testing.T) {
	load := func(provider string) (*Config, error) {
		dir := t.TempDir()
		write(t, dir, FileName, "name = \"KeyValue Go\"\nlanguage = \"go\"\ntype = \"provider\"\nversion = \"0.1.0\"\n[provider]\n"+provider)
		return Load(dir)
	}
	native := NativeTarget().Name
	for provider, want := range map[string]string{
		"": native,
		`targets = ["aarch64-linux", "x86_64-linux", "arm64-linux"]`: "aarch64-linux,x86_64-linux",
		`os = "windows"` + "\n" + `arch = "x86_64"`:                  "x86_64-windows",
		`os = "macos"` + "\n" + `arch = "aarch64"`:                   "aarch64-macos",
	} {
		c, err := load(provider)
		if err != nil {
			t.Fatalf("%q: %v", provider, err)
		}
		if got := strings.Join(c.Provider.TargetsResolved, ","); got != want {
			t.Errorf("%q: targets %s, want %s", provider, got, want)
		}
		if c.ProviderBinName() != "keyvalue-go" || c.ArchivePath() != filepath.Join(c.BuildDir, "keyvalue-go.par.gz") {
			t.Errorf("bin %q archive %s", c.ProviderBinName(), c.ArchivePath())
		}
		if c.Provider.Vendor != "NoVendor" {
			t.Errorf("vendor %q", c.Provider.Vendor)
		}
	}
	if c, _ := load(`bin_name = "kv"`); c.BinaryPath("x86_64-windows") != filepath.Join(c.BuildDir, "kv-x86_64-windows.exe") {
		t.Errorf("binary path %s", c.BinaryPath("x86_64-windows"))
	}
	for provider, want := range map[string]string{
		`targets = ["sparc-plan9"]`:                       `provider target "sparc-plan9"`,
		`targets = ["x86_64-linux"]` + "\nos = \"linux\"": "keep one",
	} {
		if _, err := load(provider); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", provider, err, want)
		}
	}
}

func TestDevProviderManifest(t *testing.T) {
	m := DevProviderManifest(DevComponent{Name: "my-kv", ID: "abc123-my-kv", Image: "file:///p/build/my-kv.par.gz", Session: "abc123"})
	y, err := m.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if _, fails, err := model.ValidateBytes(y); err != nil || len(fails) > 0 {
		t.Fatalf("wadm refuses the manifest: %v %v\n%s", err, fails, y)
	}
	var doc struct {
		Metadata struct{ Name string }
		Spec     struct {
			Components []struct {
				Name, Type string
				Properties struct{ Image, ID string }
			}
		}
	}
	if err := yaml.Unmarshal(y, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Metadata.Name != "dev-my-kv" || len(doc.Spec.Components) != 1 {
		t.Fatalf("manifest:\n%s", y)
	}
	c := doc.Spec.Components[0]
	if c.Type != "capability" || c.Properties.ID != "abc123-my-kv" || c.Properties.Image != "file:///p/build/my-kv.par.gz" {
		t.Errorf("provider: %+v", c)
	}
}
