package project

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/wasmlattice/wash/internal/bounded"
	"github.com/wasmlattice/wash/oci/par"
)

// MaxProviderBinarySize bounds a provider binary wash packs (Go providers are ~10 MB).
const MaxProviderBinarySize = 512 << 20

// Archive names in "<arch>-<os>" → Go's GOARCH and GOOS. Go's own names are accepted too.
var (
	goArchs = map[string]string{
		"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
		"x86": "386", "i686": "386", "386": "386", "arm": "arm", "armv7": "arm",
		"powerpc64le": "ppc64le", "ppc64le": "ppc64le", "powerpc64": "ppc64", "ppc64": "ppc64",
		"riscv64": "riscv64", "s390x": "s390x", "loongarch64": "loong64", "loong64": "loong64",
		"mips64": "mips64", "mips64le": "mips64le", "mips": "mips", "mipsle": "mipsle",
	}
	goOSes = map[string]string{
		"linux": "linux", "macos": "darwin", "darwin": "darwin", "windows": "windows",
		"freebsd": "freebsd", "netbsd": "netbsd", "openbsd": "openbsd", "dragonfly": "dragonfly",
		"illumos": "illumos", "solaris": "solaris", "android": "android", "aix": "aix",
	}
)

// Target is one platform a provider archive holds a binary for.
type Target struct {
	Name   string // in the archive's spelling: x86_64-linux, aarch64-macos, …
	GOOS   string
	GOARCH string
}

// ParseTarget reads "<arch>-<os>" (x86_64-linux, aarch64-macos, amd64-darwin, …).
func ParseTarget(s string) (Target, error) {
	arch, osName, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "-")
	goarch, okArch := goArchs[arch]
	goos, okOS := goOSes[osName]
	if !ok || !okArch || !okOS {
		return Target{}, fmt.Errorf("provider target %q: use <arch>-<os> such as x86_64-linux, aarch64-linux, aarch64-macos or x86_64-windows", s)
	}
	return Target{Name: par.RustTarget(goarch, goos), GOOS: goos, GOARCH: goarch}, nil
}

// NativeTarget is this machine's target.
func NativeTarget() Target {
	return Target{Name: par.NativeTarget(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
}

// targets resolves [provider] targets, or os/arch, to archive names (default: this machine).
func (p Provider) targets() ([]string, error) {
	var in []string
	switch {
	case len(p.Targets) > 0 && (p.OS != "" || p.Arch != ""):
		return nil, errors.New("provider.targets and provider.os/arch both name targets: keep one")
	case len(p.Targets) > 0:
		in = p.Targets
	case p.OS != "" || p.Arch != "":
		native := NativeTarget()
		arch, osName := p.Arch, p.OS
		if arch == "" {
			arch = native.GOARCH
		}
		if osName == "" {
			osName = native.GOOS
		}
		in = []string{arch + "-" + osName}
	default:
		return []string{NativeTarget().Name}, nil
	}
	var out []string
	for _, s := range in {
		t, err := ParseTarget(s)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, t.Name) {
			out = append(out, t.Name)
		}
	}
	return out, nil
}

// ProviderBinName is the provider executable's name: provider.bin_name, else the project
// name in kebab case.
func (c *Config) ProviderBinName() string {
	if c.Provider.BinName != "" {
		return c.Provider.BinName
	}
	return strings.Trim(strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, c.Name), "-.")
}

// ArchivePath is where wash build writes the signed provider archive: build/<bin>.par.gz.
func (c *Config) ArchivePath() string {
	return filepath.Join(c.BuildDir, c.ProviderBinName()+".par.gz")
}

// BinaryPath is where wash build --build-only leaves the binary for target:
// build/<bin>-<target> (.exe for Windows).
func (c *Config) BinaryPath(target string) string {
	name := c.ProviderBinName() + "-" + target
	if strings.HasSuffix(target, "-windows") {
		name += ".exe"
	}
	return filepath.Join(c.BuildDir, name)
}

// GoBinDir is where wash build has go build write a Go provider's binaries (build/.bin):
// kept between builds, so go build skips relinking a binary whose sources did not change.
// The archive, not this directory, is the build's result.
func (c *Config) GoBinDir() string { return filepath.Join(c.BuildDir, ".bin") }

// Binary is one built provider executable.
type Binary struct {
	Target string
	Path   string
}

// BuildProvider builds the provider for every target of the project. Go cross-compiles to
// every target (into GoBinDir, named like BinaryPath's files); Rust and provider.build_command
// build for one, where their build puts it.
func (b *Builder) BuildProvider(ctx context.Context, c *Config) ([]Binary, error) {
	if b.Out == nil {
		b.Out = io.Discard
	}
	if c.Type != TypeProvider {
		return nil, fmt.Errorf("%s is a %s project, not a provider", c.File, c.Type)
	}
	var bins []Binary
	var err error
	switch {
	case c.Provider.BuildCommand != "":
		bins, err = b.providerCommand(ctx, c)
	case c.Language == "go":
		bins, err = b.goProvider(ctx, c)
	case c.Language == "rust":
		bins, err = b.rustProvider(ctx, c)
	default:
		return nil, fmt.Errorf("wash builds providers written in Go or Rust; for language %q set provider.build_command (and provider.build_artifact) in %s", c.Language, FileName)
	}
	if err != nil {
		return nil, err
	}
	for _, bin := range bins {
		st, err := os.Stat(bin.Path)
		if err != nil {
			return nil, fmt.Errorf("the build finished but the provider binary %s is missing", bin.Path)
		}
		if st.Size() > MaxProviderBinarySize {
			return nil, fmt.Errorf("the provider binary %s: %w", bin.Path, bounded.ErrTooLarge)
		}
	}
	return bins, nil
}

// goProvider runs go generate (unless go.disable_go_generate), then go build once per target
// with GOOS/GOARCH set. CGO_ENABLED=0 gives static binaries that cross-compile; set
// CGO_ENABLED in the environment to choose otherwise.
func (b *Builder) goProvider(ctx context.Context, c *Config) ([]Binary, error) {
	goTool := c.Go.GoPath
	if goTool == "" {
		goTool = "go"
	}
	if _, err := exec.LookPath(goTool); err != nil {
		return nil, &MissingToolError{Tool: goTool, Hint: hintFor("go")}
	}
	if err := os.MkdirAll(c.GoBinDir(), 0o755); err != nil {
		return nil, err
	}
	if !c.Go.DisableGoGenerate {
		if err := b.run(ctx, c.ProjectDir, goTool, "generate", "./..."); err != nil {
			return nil, err
		}
	}
	cgo := "CGO_ENABLED=0"
	if v, ok := os.LookupEnv("CGO_ENABLED"); ok {
		cgo = "CGO_ENABLED=" + v
	}
	var bins []Binary
	for _, name := range c.Provider.TargetsResolved {
		t, err := ParseTarget(name)
		if err != nil {
			return nil, err
		}
		out := filepath.Join(c.GoBinDir(), filepath.Base(c.BinaryPath(t.Name)))
		// the first build compiles nats.go and the SDK: say what the wait is for
		fmt.Fprintf(b.Out, "Building %s for %s (go build)...\n", c.ProviderBinName(), t.Name)
		saved := b.Env
		b.Env = append(slices.Clone(saved), "GOOS="+t.GOOS, "GOARCH="+t.GOARCH, cgo)
		err = b.run(ctx, c.ProjectDir, goTool, "build", "-o", out, ".")
		b.Env = saved
		if err != nil {
			var be *BuildError
			if errors.As(err, &be) {
				be.Command = "GOOS=" + t.GOOS + " GOARCH=" + t.GOARCH + " " + be.Command
			}
			return nil, err
		}
		bins = append(bins, Binary{Target: t.Name, Path: out})
	}
	return bins, nil
}

// rustTarget turns a Rust target triple (aarch64-unknown-linux-gnu) into an archive target.
func rustTarget(triple string) (string, error) {
	parts := strings.Split(triple, "-")
	osName := ""
	for _, p := range parts[1:] {
		if _, ok := goOSes[p]; ok {
			osName = p
			break
		}
	}
	t, err := ParseTarget(parts[0] + "-" + osName)
	if err != nil {
		return "", fmt.Errorf("provider.rust_target %q: wash cannot tell which platform it builds for", triple)
	}
	return t.Name, nil
}

// rustProvider runs cargo build --release (--target provider.rust_target) for one target.
func (b *Builder) rustProvider(ctx context.Context, c *Config) ([]Binary, error) {
	target := NativeTarget().Name
	if c.Provider.RustTarget != "" {
		t, err := rustTarget(c.Provider.RustTarget)
		if err != nil {
			return nil, err
		}
		target = t
	}
	if len(c.Provider.TargetsResolved) != 1 || c.Provider.TargetsResolved[0] != target {
		return nil, fmt.Errorf("a Rust provider is built for one target, %s here: name it with provider.rust_target instead of provider.targets/os/arch", target)
	}
	args := []string{"build"}
	if !c.Rust.Debug {
		args = append(args, "--release")
	}
	if c.Provider.RustTarget != "" {
		args = append(args, "--target", c.Provider.RustTarget)
	}
	if err := b.run(ctx, c.ProjectDir, c.cargo(), args...); err != nil {
		return nil, err
	}
	targetDir, err := c.cargoTargetDir(ctx)
	if err != nil {
		return nil, err
	}
	if c.Provider.RustTarget != "" {
		targetDir = filepath.Join(targetDir, c.Provider.RustTarget)
	}
	built := filepath.Join(targetDir, c.cargoProfile(), c.ProviderBinName())
	if strings.HasSuffix(target, "-windows") {
		built += ".exe"
	}
	if _, err := os.Stat(built); err != nil {
		return nil, fmt.Errorf("cargo finished but %s is missing: set provider.bin_name in %s to the crate's binary name", built, FileName)
	}
	return []Binary{{Target: target, Path: built}}, nil
}

// providerCommand runs provider.build_command (sh -c) for this machine's target.
func (b *Builder) providerCommand(ctx context.Context, c *Config) ([]Binary, error) {
	native := NativeTarget().Name
	if len(c.Provider.TargetsResolved) != 1 || c.Provider.TargetsResolved[0] != native {
		return nil, fmt.Errorf("provider.build_command builds for this machine (%s) only; remove provider.targets/os/arch", native)
	}
	if err := b.shell(ctx, c.ProjectDir, c.Provider.BuildCommand); err != nil {
		return nil, err
	}
	artifact := c.Provider.BuildArtifact
	if artifact == "" {
		artifact = filepath.Join(c.BuildDir, c.ProviderBinName())
	} else if !filepath.IsAbs(artifact) {
		artifact = filepath.Join(c.ProjectDir, artifact)
	}
	if _, err := os.Stat(artifact); err != nil {
		return nil, fmt.Errorf("the build finished but its binary %s is missing: set provider.build_artifact in %s to where the build writes it", artifact, FileName)
	}
	return []Binary{{Target: native, Path: artifact}}, nil
}
