package project

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/wasmlattice/wash/internal/atomicfile"
	"github.com/wasmlattice/wash/internal/bounded"
)

// MaxComponentSize bounds the components wash reads from a build (componentize-js output is
// about 14 MB).
const MaxComponentSize = 128 << 20

// MissingToolError says a toolchain program is not installed; its message is one line naming
// the tool and how to get it.
type MissingToolError struct {
	Tool, Hint string
}

func (e *MissingToolError) Error() string {
	return fmt.Sprintf("%s not found on PATH: %s", e.Tool, e.Hint)
}

// installHints say how to get each tool a build may run.
var installHints = map[string]string{
	"npm":    "install Node.js and npm (https://nodejs.org, or apt-get install nodejs npm)",
	"node":   "install Node.js (https://nodejs.org, or apt-get install nodejs)",
	"npx":    "install Node.js and npm (https://nodejs.org, or apt-get install nodejs npm)",
	"cargo":  "install Rust with rustup (https://rustup.rs), then rustup target add wasm32-wasip2",
	"tinygo": "install TinyGo 0.33 or newer (https://tinygo.org/getting-started/install/)",
	"go":     "install Go (https://go.dev/dl/)",
}

func hintFor(tool string) string {
	if h, ok := installHints[filepath.Base(tool)]; ok {
		return h
	}
	return "install it, or change the build command in " + FileName
}

// BuildError is a failed toolchain run; the tool's own output went to the build's output.
type BuildError struct {
	Command string
	Err     error
	Hint    string
}

func (e *BuildError) Error() string {
	msg := fmt.Sprintf("build failed: %s: %v", e.Command, e.Err)
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

func (e *BuildError) Unwrap() error { return e.Err }

// Builder runs a project's toolchain.
type Builder struct {
	// Out receives the tools' output (their own error messages included).
	Out io.Writer
	// Env is added to the tools' environment.
	Env []string
}

// Build runs the toolchain and returns the unsigned artifact, checked to be a wasm binary.
func (b *Builder) Build(ctx context.Context, c *Config) (string, error) {
	if b.Out == nil {
		b.Out = io.Discard
	}
	if c.Type != TypeComponent {
		return "", fmt.Errorf("building %s projects is not supported yet (only components)", c.Type)
	}
	var artifact string
	var err error
	switch {
	case c.Component.BuildCommand != "":
		artifact, err = b.custom(ctx, c)
	case c.Language == "rust":
		artifact, err = b.rust(ctx, c)
	case c.Language == "tinygo":
		artifact, err = b.tinygo(ctx, c)
	default:
		return "", fmt.Errorf("component.build_command is required in %s for language %s", FileName, c.Language)
	}
	if err != nil {
		return "", err
	}
	data, err := bounded.ReadFile(artifact, MaxComponentSize)
	if err != nil && errors.Is(err, bounded.ErrTooLarge) {
		return "", fmt.Errorf("the build artifact %s: %w", artifact, err)
	}
	if err != nil {
		return "", fmt.Errorf("the build finished but its artifact %s is missing: set component.build_artifact in %s to where the build writes the component", artifact, FileName)
	}
	if len(data) < 8 || string(data[:4]) != "\x00asm" {
		return "", fmt.Errorf("the build artifact %s is not a wasm binary", artifact)
	}
	return artifact, nil
}

// run runs one tool in the project directory, streaming its output.
func (b *Builder) run(ctx context.Context, dir, name string, args ...string) error {
	path, err := exec.LookPath(name)
	if err != nil {
		return &MissingToolError{Tool: name, Hint: hintFor(name)}
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = b.Out, b.Out
	cmd.Env = append(os.Environ(), b.Env...)
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &BuildError{Command: strings.Join(append([]string{name}, args...), " "), Err: err}
	}
	return nil
}

// custom runs component.build_command, after npm install when a package.json's dependencies are
// not installed yet.
func (b *Builder) custom(ctx context.Context, c *Config) (string, error) {
	if err := b.npmInstall(ctx, c.ProjectDir); err != nil {
		return "", err
	}
	if err := b.shell(ctx, c.ProjectDir, c.Component.BuildCommand); err != nil {
		return "", err
	}
	return c.ArtifactPath(), nil
}

// shell runs a project's own build command line with sh -c (cmd /C on Windows), after
// checking that its program is installed.
func (b *Builder) shell(ctx context.Context, dir, line string) error {
	line = strings.TrimSpace(line)
	if line == "" {
		return fmt.Errorf("the build command in %s is empty", FileName)
	}
	first := strings.Fields(line)[0]
	if !strings.ContainsAny(first, "=$(") {
		if _, err := exec.LookPath(first); err != nil {
			return &MissingToolError{Tool: first, Hint: hintFor(first)}
		}
	}
	shell, flag := "sh", "-c"
	if runtime.GOOS == "windows" {
		shell, flag = "cmd", "/C"
	}
	err := b.run(ctx, dir, shell, flag, line)
	var be *BuildError
	if errors.As(err, &be) {
		be.Command = line
	}
	return err
}

// npmInstall installs a Node project's dependencies when node_modules is missing or older than
// package.json.
func (b *Builder) npmInstall(ctx context.Context, dir string) error {
	pkg, err := os.Stat(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil
	}
	lock, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if err == nil && !lock.ModTime().Before(pkg.ModTime()) {
		return nil
	}
	fmt.Fprintln(b.Out, "Installing npm dependencies (npm install)...")
	return b.run(ctx, dir, "npm", "install", "--no-audit", "--no-fund")
}

func (b *Builder) rust(ctx context.Context, c *Config) (string, error) {
	cargo := c.cargo()
	target := c.Component.WasmTargetResolved
	args := []string{"build", "--target", target}
	if !c.Rust.Debug {
		args = append(args, "--release")
	}
	var out bytes.Buffer
	saved := b.Out
	b.Out = io.MultiWriter(saved, &out)
	err := b.run(ctx, c.ProjectDir, cargo, args...)
	b.Out = saved
	if err != nil {
		var be *BuildError
		if errors.As(err, &be) && strings.Contains(out.String(), "target may not be installed") {
			be.Hint = "run rustup target add " + target
		}
		return "", err
	}
	targetDir, err := c.cargoTargetDir(ctx)
	if err != nil {
		return "", err
	}
	built := filepath.Join(targetDir, target, c.cargoProfile(), c.BinName()+".wasm")
	data, err := bounded.ReadFile(built, MaxComponentSize)
	if err != nil {
		return "", fmt.Errorf("cargo finished but %s is missing: is the crate a cdylib?", built)
	}
	dest := filepath.Join(c.BuildDir, c.BinName()+".wasm")
	if err := WriteAtomic(dest, data); err != nil {
		return "", err
	}
	return dest, nil
}

// cargo is the cargo that builds Rust projects: rust.cargo_path, else cargo on PATH.
func (c *Config) cargo() string {
	if c.Rust.CargoPath != "" {
		return c.Rust.CargoPath
	}
	return "cargo"
}

// cargoProfile is the cargo profile a build uses, and so the directory it writes to.
func (c *Config) cargoProfile() string {
	if c.Rust.Debug {
		return "debug"
	}
	return "release"
}

// cargoTargetDir is where cargo writes its builds: rust.target_path (relative to the project
// directory), else what cargo metadata says.
func (c *Config) cargoTargetDir(ctx context.Context) (string, error) {
	if c.Rust.TargetPath == "" {
		return cargoTargetDir(ctx, c.cargo(), c.ProjectDir)
	}
	if filepath.IsAbs(c.Rust.TargetPath) {
		return c.Rust.TargetPath, nil
	}
	return filepath.Join(c.ProjectDir, c.Rust.TargetPath), nil
}

func cargoTargetDir(ctx context.Context, cargo, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, cargo, "metadata", "--format-version", "1", "--no-deps")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return filepath.Join(dir, "target"), nil
	}
	var md struct {
		TargetDirectory string `json:"target_directory"`
	}
	if json.Unmarshal(out, &md) != nil || md.TargetDirectory == "" {
		return filepath.Join(dir, "target"), nil
	}
	return md.TargetDirectory, nil
}

func (b *Builder) tinygo(ctx context.Context, c *Config) (string, error) {
	tinygo := c.TinyGo.TinyGoPath
	if tinygo == "" {
		tinygo = "tinygo"
	}
	if _, err := exec.LookPath(tinygo); err != nil {
		return "", &MissingToolError{Tool: tinygo, Hint: hintFor("tinygo")}
	}
	target := c.Component.WasmTargetResolved
	if target != "wasm32-wasip2" {
		return "", fmt.Errorf("TinyGo builds need component.wasm_target = \"wasm32-wasip2\" in %s (wasip1 adaptation is not supported)", FileName)
	}
	if c.Component.WitWorld == "" {
		return "", fmt.Errorf("missing component.wit_world in %s: TinyGo embeds that world in the component", FileName)
	}
	if !c.TinyGo.DisableGoGenerate {
		if err := b.run(ctx, c.ProjectDir, "go", "generate", "./..."); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(c.BuildDir, 0o755); err != nil {
		return "", err
	}
	dest := filepath.Join(c.BuildDir, c.Name+".wasm")
	tmp := filepath.Join(c.BuildDir, "."+c.Name+".wasm.tmp")
	args := []string{"build", "-o", tmp, "-target", "wasip2", "-wit-package", c.WitDir, "-wit-world", c.Component.WitWorld}
	if c.TinyGo.Scheduler != "" {
		args = append(args, "-scheduler", c.TinyGo.Scheduler)
	}
	if c.TinyGo.GarbageCollector != "" {
		args = append(args, "-gc", c.TinyGo.GarbageCollector)
	}
	args = append(args, ".")
	defer os.Remove(tmp)
	if err := b.run(ctx, c.ProjectDir, tinygo, args...); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dest); err != nil {
		return "", err
	}
	return dest, nil
}

// WriteAtomic writes data to path atomically (see atomicfile), creating the directory.
func WriteAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o644)
}
