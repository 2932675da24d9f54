// Package project reads wasmcloud.toml project files (upstream wash's fields) and builds the
// project with its language's toolchain: npm/componentize-js, cargo, TinyGo, or the command the
// project names. Signing is the caller's job; nothing here writes a half-finished file into the
// build directory.
package project

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// FileName is the project file.
const FileName = "wasmcloud.toml"

// Types of project.
const (
	TypeComponent = "component"
	TypeProvider  = "provider"
)

// Config is a wasmcloud.toml, with paths resolved.
type Config struct {
	Language string `toml:"language"`
	Type     string `toml:"type"`
	Name     string `toml:"name"`
	Version  string `toml:"version"`
	Revision int32  `toml:"revision"`
	// Path, Wit and Build are relative to the wasmcloud.toml's directory.
	Path  string `toml:"path"`
	Wit   string `toml:"wit"`
	Build string `toml:"build"`

	Component Component `toml:"component"`
	Provider  Provider  `toml:"provider"`
	Rust      Rust      `toml:"rust"`
	TinyGo    TinyGo    `toml:"tinygo"`
	Go        Go        `toml:"go"`
	Dev       Dev       `toml:"dev"`
	Registry  Registry  `toml:"registry"`

	// File is the wasmcloud.toml read; ProjectDir, BuildDir and WitDir are absolute.
	File       string `toml:"-"`
	ProjectDir string `toml:"-"`
	BuildDir   string `toml:"-"`
	WitDir     string `toml:"-"`
	// WasmBinName is the Rust library's artifact name (Cargo.toml [lib] name), if any.
	WasmBinName string `toml:"-"`
	// Warnings are fields this wash does not know (upstream ignores them too).
	Warnings []string `toml:"-"`
}

// Component is the [component] table.
type Component struct {
	KeyDirectory       string   `toml:"key_directory"`
	WasmTarget         string   `toml:"wasm_target"`
	Wasip1AdapterPath  string   `toml:"wasip1_adapter_path"`
	WitWorld           string   `toml:"wit_world"`
	Tags               []string `toml:"tags"`
	BuildArtifact      string   `toml:"build_artifact"`
	BuildCommand       string   `toml:"build_command"`
	Destination        string   `toml:"destination"`
	WasmTargetResolved string   `toml:"-"`
}

// Provider is the [provider] table.
type Provider struct {
	Vendor   string `toml:"vendor"`
	WitWorld string `toml:"wit_world"`
	// OS and Arch name one target in upstream's spelling (linux, macos, windows; x86_64,
	// aarch64); Targets (a wash extension) names several as "<arch>-<os>". Without either the
	// archive holds a binary for this machine.
	OS           string   `toml:"os"`
	Arch         string   `toml:"arch"`
	Targets      []string `toml:"targets"`
	RustTarget   string   `toml:"rust_target"`
	BinName      string   `toml:"bin_name"`
	KeyDirectory string   `toml:"key_directory"`
	// BuildCommand (a wash extension) builds the provider for this machine with any toolchain;
	// BuildArtifact is where it leaves the binary (default build/<bin_name>).
	BuildCommand  string `toml:"build_command"`
	BuildArtifact string `toml:"build_artifact"`
	// TargetsResolved are the archive's targets in the archive's spelling (x86_64-linux).
	TargetsResolved []string `toml:"-"`
}

// Rust is the [rust] table.
type Rust struct {
	CargoPath  string `toml:"cargo_path"`
	TargetPath string `toml:"target_path"`
	Debug      bool   `toml:"debug"`
}

// TinyGo is the [tinygo] table.
type TinyGo struct {
	TinyGoPath        string `toml:"tinygo_path"`
	DisableGoGenerate bool   `toml:"disable_go_generate"`
	Scheduler         string `toml:"scheduler"`
	GarbageCollector  string `toml:"garbage_collector"`
}

// Go is the [go] table.
type Go struct {
	GoPath            string `toml:"go_path"`
	DisableGoGenerate bool   `toml:"disable_go_generate"`
}

// Registry is the [registry] table (used by wash push).
type Registry struct {
	URL          string `toml:"url"`
	Credentials  string `toml:"credentials"`
	PushInsecure bool   `toml:"push_insecure"`
}

// Dev is the [dev] table: how wash dev wires the component.
type Dev struct {
	Manifests  []DevManifestRef `toml:"manifests"`
	Config     []DevConfig      `toml:"config"`
	LinkConfig []DevConfig      `toml:"link_config"`
	Overrides  struct {
		Imports []Override `toml:"imports"`
		Exports []Override `toml:"exports"`
	} `toml:"overrides"`
}

// DevManifestRef names an existing manifest wash dev deploys instead of generating one.
type DevManifestRef struct {
	ComponentName string `toml:"component_name"`
	ComponentID   string `toml:"component_id"`
	ComponentRef  string `toml:"component_ref"`
	Path          string `toml:"path"`
}

// DevConfig is a named config or inline values.
type DevConfig struct {
	Name   string            `toml:"name"`
	Values map[string]string `toml:"values"`
}

// Override replaces what wash dev links to an interface.
type Override struct {
	InterfaceSpec string       `toml:"interface_spec"`
	Interface     string       `toml:"interface"` // upstream's alias
	ImageRef      string       `toml:"image_ref"`
	URI           string       `toml:"uri"` // upstream's alias
	LinkName      string       `toml:"link_name"`
	Config        oneOrMoreCfg `toml:"config"`
	LinkConfig    oneOrMoreCfg `toml:"link_config"`
}

// Spec is the interface the override is for.
func (o Override) Spec() string {
	if o.InterfaceSpec != "" {
		return o.InterfaceSpec
	}
	return o.Interface
}

// Image is the image the override links to.
func (o Override) Image() string {
	if o.ImageRef != "" {
		return o.ImageRef
	}
	return o.URI
}

// oneOrMoreCfg accepts one table or an array of them, as upstream does.
type oneOrMoreCfg []DevConfig

func (c *oneOrMoreCfg) UnmarshalTOML(v any) error {
	one := func(x any) (DevConfig, error) {
		m, ok := x.(map[string]any)
		if !ok {
			return DevConfig{}, fmt.Errorf("expected a table with name or values")
		}
		var d DevConfig
		if n, ok := m["name"].(string); ok {
			d.Name = n
		}
		if vals, ok := m["values"].(map[string]any); ok {
			d.Values = map[string]string{}
			for k, v := range vals {
				d.Values[k] = fmt.Sprint(v)
			}
		}
		if d.Name == "" && d.Values == nil {
			return d, fmt.Errorf("expected name or values")
		}
		return d, nil
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			d, err := one(e)
			if err != nil {
				return err
			}
			*c = append(*c, d)
		}
		return nil
	default:
		d, err := one(x)
		if err != nil {
			return err
		}
		*c = append(*c, d)
		return nil
	}
}

// Find locates wasmcloud.toml: path may be the file, a directory holding it, or "" for the
// current directory.
func Find(path string) (string, error) {
	if path == "" {
		path = "."
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("path %s does not exist", abs)
	}
	if st.IsDir() {
		f := filepath.Join(abs, FileName)
		if _, err := os.Stat(f); err != nil {
			return "", fmt.Errorf("no %s in %s: run wash in a project directory (wash new component NAME makes one) or pass --config-path", FileName, abs)
		}
		return f, nil
	}
	return abs, nil
}

// MaxFileSize bounds the project file read.
const MaxFileSize = 1 << 20

var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// Load reads and checks a project file (see Find for path).
func Load(path string) (*Config, error) {
	file, err := Find(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s is %d bytes, larger than the %d a project file may have", file, st.Size(), MaxFileSize)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	c, err := Parse(b, filepath.Dir(file))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	c.File = file
	return c, nil
}

// Parse decodes a project file whose directory is dir and resolves its paths.
func Parse(b []byte, dir string) (*Config, error) {
	var c Config
	md, err := toml.Decode(string(b), &c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("line %d: %s", pe.Position.Line, pe.Message)
		}
		return nil, err
	}
	for _, k := range md.Undecoded() {
		c.Warnings = append(c.Warnings, fmt.Sprintf("unknown field %q (ignored)", k.String()))
	}
	sort.Strings(c.Warnings)
	c.Language = strings.ToLower(strings.TrimSpace(c.Language))
	c.Type = strings.ToLower(strings.TrimSpace(c.Type))
	if c.Language == "" {
		return nil, errors.New(`missing field "language" (rust, tinygo, go, typescript, …)`)
	}
	switch c.Type {
	case TypeComponent, TypeProvider:
	case "":
		return nil, errors.New(`missing field "type" (component or provider)`)
	default:
		return nil, fmt.Errorf("unknown project type %q (component or provider)", c.Type)
	}
	rel := func(p, def string) string {
		if p == "" {
			p = def
		}
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(dir, p)
	}
	c.ProjectDir = rel(c.Path, ".")
	if st, err := os.Stat(c.ProjectDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("project path %s is not a directory", c.ProjectDir)
	}
	if c.Build != "" {
		c.BuildDir = rel(c.Build, "")
	} else {
		c.BuildDir = filepath.Join(c.ProjectDir, "build")
	}
	if c.Wit != "" {
		c.WitDir = rel(c.Wit, "")
	} else {
		c.WitDir = filepath.Join(c.ProjectDir, "wit")
	}
	if c.Language == "rust" {
		if err := c.fromCargo(); err != nil && (c.Name == "" || c.Version == "") {
			return nil, err
		}
	}
	if c.Name == "" {
		return nil, errors.New(`missing field "name"`)
	}
	if c.Version == "" {
		return nil, errors.New(`missing field "version"`)
	}
	if !semverRE.MatchString(c.Version) {
		return nil, fmt.Errorf("version %q is not a semantic version (like 0.1.0)", c.Version)
	}
	if c.Type == TypeComponent {
		t, err := wasmTarget(c.Component.WasmTarget)
		if err != nil {
			return nil, err
		}
		c.Component.WasmTargetResolved = t
	}
	if c.Provider.Vendor == "" {
		c.Provider.Vendor = "NoVendor"
	}
	if c.Type == TypeProvider {
		ts, err := c.Provider.targets()
		if err != nil {
			return nil, err
		}
		c.Provider.TargetsResolved = ts
	}
	switch c.TinyGo.Scheduler {
	case "", "none", "tasks", "asyncify":
	default:
		return nil, fmt.Errorf("tinygo.scheduler %q: use none, tasks or asyncify", c.TinyGo.Scheduler)
	}
	switch c.TinyGo.GarbageCollector {
	case "", "none", "conservative", "leaking":
	default:
		return nil, fmt.Errorf("tinygo.garbage_collector %q: use none, conservative or leaking", c.TinyGo.GarbageCollector)
	}
	return &c, nil
}

// wasmTarget normalises upstream's target spellings.
func wasmTarget(s string) (string, error) {
	switch s {
	case "", "wasm32-unknown-unknown":
		return "wasm32-unknown-unknown", nil
	case "wasm32-wasi", "wasm32-wasip1", "wasm32-wasi-preview1":
		return "wasm32-wasip1", nil
	case "wasm32-wasip2", "wasm32-wasi-preview2", "wasm32-preview2":
		return "wasm32-wasip2", nil
	}
	return "", fmt.Errorf("component.wasm_target %q: use wasm32-wasip2 (or wasm32-wasip1, wasm32-unknown-unknown)", s)
}

// fromCargo fills name, version and the library name from Cargo.toml.
func (c *Config) fromCargo() error {
	b, err := os.ReadFile(filepath.Join(c.ProjectDir, "Cargo.toml"))
	if err != nil {
		return fmt.Errorf("no Cargo.toml in %s, and name/version are not set in %s", c.ProjectDir, FileName)
	}
	var cargo struct {
		Package struct {
			Name    string `toml:"name"`
			Version any    `toml:"version"`
		} `toml:"package"`
		Lib struct {
			Name string `toml:"name"`
		} `toml:"lib"`
	}
	if _, err := toml.Decode(string(b), &cargo); err != nil {
		return fmt.Errorf("Cargo.toml: %v", err)
	}
	if c.Name == "" {
		c.Name = cargo.Package.Name
	}
	if v, ok := cargo.Package.Version.(string); ok && c.Version == "" {
		c.Version = v
	}
	c.WasmBinName = cargo.Lib.Name
	if c.WasmBinName == "" {
		// cargo names the artifact after the package with '-' turned into '_'
		c.WasmBinName = strings.ReplaceAll(cargo.Package.Name, "-", "_")
	}
	return nil
}

// BinName is the name of the unsigned artifact (without .wasm).
func (c *Config) BinName() string {
	if c.WasmBinName != "" {
		return c.WasmBinName
	}
	return c.Name
}

// ArtifactPath is where the unsigned build output is found.
func (c *Config) ArtifactPath() string {
	if a := c.Component.BuildArtifact; a != "" {
		if filepath.IsAbs(a) {
			return a
		}
		return filepath.Join(c.ProjectDir, a)
	}
	return filepath.Join(c.BuildDir, c.BinName()+".wasm")
}

// SignedPath is where the signed component is written.
func (c *Config) SignedPath() string {
	if d := c.Component.Destination; d != "" {
		if filepath.IsAbs(d) {
			return d
		}
		return filepath.Join(c.ProjectDir, d)
	}
	a := c.ArtifactPath()
	return strings.TrimSuffix(a, ".wasm") + "_s.wasm"
}
