package project

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Built-in providers wash dev links a component to (upstream's mapping, served in process by
// the built-in host instead of OCI images).
const (
	ImageHTTPServer    = "wasmcloud+builtin://http-server"
	ImageHTTPClient    = "wasmcloud+builtin://http-client"
	ImageKeyValueNATS  = "wasmcloud+builtin://keyvalue-nats"
	ImageBlobstoreFS   = "wasmcloud+builtin://blobstore-fs"
	ImageMessagingNATS = "wasmcloud+builtin://messaging-nats"

	// DefaultHTTPAddress is where wash dev's HTTP server listens (upstream's default).
	DefaultHTTPAddress = "127.0.0.1:8000"
)

// Dep is a provider (or component) the developed component is linked with.
type Dep struct {
	// Invokes is true when the dependency calls the component's export (an HTTP server calling
	// wasi:http/incoming-handler); false when the component calls it (an import).
	Invokes    bool
	Namespace  string
	Package    string
	Interfaces []string
	Image      string
	LinkName   string
	// Config is the provider's own config; LinkConfig goes on the link (target config for
	// imports, source config for exports).
	Config     []NamedConfig
	LinkConfig []NamedConfig
}

// NamedConfig is a config entry of a manifest: a name and, when wash creates it, values.
type NamedConfig struct {
	Name       string            `yaml:"name" json:"name"`
	Properties map[string]string `yaml:"properties,omitempty" json:"properties,omitempty"`
}

// Name is the dependency's name in the manifest (after the session prefix).
func (d *Dep) Name() string {
	if rest, ok := strings.CutPrefix(d.Image, "wasmcloud+builtin://"); ok && rest != "" {
		return rest
	}
	ifaces := slices.Clone(d.Interfaces)
	sort.Strings(ifaces)
	n := "custom-" + d.Namespace + "-" + d.Package
	if len(ifaces) > 0 {
		n += "-" + strings.Join(ifaces, "-")
	}
	return n
}

// ifaceSpec is a parsed interface name: ns:pkg[/iface][@version].
type ifaceSpec struct {
	ns, pkg, iface, version string
}

func parseSpec(s string) (ifaceSpec, bool) {
	name, ver, _ := strings.Cut(strings.TrimSpace(s), "@")
	ns, rest, ok := strings.Cut(name, ":")
	if !ok || ns == "" || rest == "" {
		return ifaceSpec{}, false
	}
	pkg, iface, _ := strings.Cut(rest, "/")
	if strings.ContainsAny(iface, "/.") {
		return ifaceSpec{}, false
	}
	return ifaceSpec{ns: ns, pkg: pkg, iface: iface, version: ver}, true
}

// ignoredDep is what the host itself provides (no provider needed), as upstream decides.
func ignoredDep(s ifaceSpec) bool {
	switch s.ns + ":" + s.pkg {
	case "wasi:cli", "wasi:clocks", "wasi:filesystem", "wasi:io", "wasi:logging", "wasi:random", "wasi:sockets",
		"wasmcloud:secrets", "wasmcloud:bus":
		return true
	case "wasi:http":
		return s.iface == "types"
	case "wasi:blobstore":
		return s.iface == "container" || s.iface == "types"
	case "wasi:runtime", "wasi:config":
		return true
	case "wasmcloud:messaging":
		return s.iface == "types"
	}
	return false
}

// importDep maps an imported interface to the provider that serves it.
func importDep(s ifaceSpec) *Dep {
	d := &Dep{Namespace: s.ns, Package: s.pkg, LinkName: "default"}
	if s.iface != "" {
		d.Interfaces = []string{s.iface}
	}
	switch {
	case s.ns == "wasi" && s.pkg == "keyvalue" && (s.iface == "store" || s.iface == "atomics" || s.iface == "batch"):
		d.Image = ImageKeyValueNATS
	case s.ns == "wasi" && s.pkg == "http" && s.iface == "outgoing-handler":
		d.Image = ImageHTTPClient
	case (s.ns == "wasi" || s.ns == "wrpc") && s.pkg == "blobstore" && s.iface == "blobstore":
		d.Image = ImageBlobstoreFS
	case s.ns == "wasmcloud" && s.pkg == "messaging" && s.iface == "consumer":
		d.Image = ImageMessagingNATS
	}
	return d
}

// exportDep maps an exported interface to the provider that calls it.
func exportDep(s ifaceSpec) *Dep {
	d := &Dep{Invokes: true, Namespace: s.ns, Package: s.pkg, LinkName: "default"}
	if s.iface != "" {
		d.Interfaces = []string{s.iface}
	}
	switch {
	case s.ns == "wasi" && s.pkg == "http" && s.iface == "incoming-handler":
		d.Image = ImageHTTPServer
	case s.ns == "wasmcloud" && s.pkg == "messaging" && s.iface == "handler":
		d.Image = ImageMessagingNATS
	}
	return d
}

// Dependencies derives the providers a component needs from its world's interface imports and
// exports, merging interfaces of one package into one dependency, then applies the project's
// [dev.overrides].
func Dependencies(imports, exports []string, dev Dev) ([]*Dep, error) {
	var deps []*Dep
	add := func(d *Dep) {
		for _, e := range deps {
			if e.Invokes == d.Invokes && e.Namespace == d.Namespace && e.Package == d.Package {
				for _, i := range d.Interfaces {
					if !slices.Contains(e.Interfaces, i) {
						e.Interfaces = append(e.Interfaces, i)
					}
				}
				return
			}
		}
		deps = append(deps, d)
	}
	for _, name := range imports {
		if s, ok := parseSpec(name); ok && !ignoredDep(s) {
			add(importDep(s))
		}
	}
	for _, name := range exports {
		if s, ok := parseSpec(name); ok && !ignoredDep(s) {
			add(exportDep(s))
		}
	}
	for _, set := range []struct {
		invokes bool
		list    []Override
	}{{false, dev.Overrides.Imports}, {true, dev.Overrides.Exports}} {
		for _, o := range set.list {
			s, ok := parseSpec(o.Spec())
			if !ok {
				return nil, fmt.Errorf("dev override %q: expected an interface like wasi:keyvalue or wasi:http/incoming-handler", o.Spec())
			}
			matched := false
			for _, d := range deps {
				if d.Invokes != set.invokes || d.Namespace != s.ns || d.Package != s.pkg {
					continue
				}
				if s.iface != "" && !slices.Contains(d.Interfaces, s.iface) {
					continue
				}
				applyOverride(d, o)
				matched = true
			}
			if !matched {
				d := importDep(s)
				if set.invokes {
					d = exportDep(s)
				}
				applyOverride(d, o)
				if d.Image == "" {
					return nil, fmt.Errorf("dev override %q names no image_ref, and the component does not use that interface", o.Spec())
				}
				deps = append(deps, d)
			}
		}
	}
	for _, d := range deps {
		if len(d.LinkConfig) == 0 {
			d.LinkConfig = defaultLinkConfig(d)
		}
	}
	return deps, nil
}

func applyOverride(d *Dep, o Override) {
	if img := o.Image(); img != "" {
		d.Image = img
	}
	if o.LinkName != "" {
		d.LinkName = o.LinkName
	}
	for _, c := range o.Config {
		d.Config = append(d.Config, named(c, d.Name()+"-default"))
	}
	for _, c := range o.LinkConfig {
		d.LinkConfig = append(d.LinkConfig, named(c, d.Name()+"-link-default"))
	}
}

func named(c DevConfig, def string) NamedConfig {
	if c.Name != "" && c.Values == nil {
		return NamedConfig{Name: c.Name}
	}
	n := c.Name
	if n == "" {
		n = def
	}
	return NamedConfig{Name: n, Properties: c.Values}
}

// defaultLinkConfig is upstream's link config for the default providers.
func defaultLinkConfig(d *Dep) []NamedConfig {
	name := d.Namespace + "-" + d.Package + "-config"
	switch {
	case !d.Invokes && d.Image == ImageBlobstoreFS:
		return []NamedConfig{{Name: name, Properties: map[string]string{"root": "/tmp"}}}
	case !d.Invokes && d.Image == ImageKeyValueNATS:
		return []NamedConfig{{Name: name, Properties: map[string]string{"bucket": "wasmcloud", "enable_bucket_auto_create": "true"}}}
	case d.Invokes && d.Image == ImageHTTPServer:
		return []NamedConfig{{Name: name, Properties: map[string]string{"address": DefaultHTTPAddress}}}
	case d.Invokes && d.Image == ImageMessagingNATS:
		return []NamedConfig{{Name: name, Properties: map[string]string{"subscriptions": "wasmcloud.dev"}}}
	}
	return nil
}

// Manifest is a wadm application manifest (the subset wash dev writes).
type Manifest struct {
	APIVersion string       `yaml:"apiVersion" json:"apiVersion"`
	Kind       string       `yaml:"kind" json:"kind"`
	Metadata   Metadata     `yaml:"metadata" json:"metadata"`
	Spec       ManifestSpec `yaml:"spec" json:"spec"`
}

// Metadata of a manifest.
type Metadata struct {
	Name        string            `yaml:"name" json:"name"`
	Annotations map[string]string `yaml:"annotations,omitempty" json:"annotations,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
}

// ManifestSpec lists the components.
type ManifestSpec struct {
	Components []ManifestComponent `yaml:"components" json:"components"`
}

// ManifestComponent is a component or capability provider of a manifest.
type ManifestComponent struct {
	Name       string         `yaml:"name" json:"name"`
	Type       string         `yaml:"type" json:"type"`
	Properties ComponentProps `yaml:"properties" json:"properties"`
	Traits     []Trait        `yaml:"traits,omitempty" json:"traits,omitempty"`
}

// ComponentProps are a component's properties.
type ComponentProps struct {
	Image  string        `yaml:"image" json:"image"`
	ID     string        `yaml:"id,omitempty" json:"id,omitempty"`
	Config []NamedConfig `yaml:"config,omitempty" json:"config,omitempty"`
}

// Trait is a spreadscaler or link trait.
type Trait struct {
	Type       string         `yaml:"type" json:"type"`
	Properties map[string]any `yaml:"properties" json:"properties"`
}

// DevComponent describes the developed component (or provider) for DevManifest.
type DevComponent struct {
	Name    string // manifest component name
	ID      string // component id on the host
	Image   string // file:// reference of the signed build
	Session string
}

// AppName is the application wash dev deploys for a project.
func AppName(project string) string {
	return "dev-" + strings.ReplaceAll(strings.ToLower(project), " ", "-")
}

// DevManifest builds the application: the component with a spreadscaler of 100 and a link to
// each import dependency, plus one provider per dependency (linked to the component when it
// calls an export).
func DevManifest(c DevComponent, deps []*Dep) *Manifest {
	app := ManifestComponent{Name: c.Name, Type: "component",
		Properties: ComponentProps{Image: c.Image, ID: c.ID},
		Traits:     []Trait{{Type: "spreadscaler", Properties: map[string]any{"instances": 100}}}}
	var providers []ManifestComponent
	seen := map[string]int{}
	for _, d := range deps {
		name := c.Session + "-dep-" + d.Name()
		idx, ok := seen[name]
		if !ok {
			providers = append(providers, ManifestComponent{Name: name, Type: "capability",
				Properties: ComponentProps{Image: d.Image, Config: d.Config},
				Traits:     []Trait{{Type: "spreadscaler", Properties: map[string]any{"instances": 1}}}})
			idx = len(providers) - 1
			seen[name] = idx
		}
		link := map[string]any{"namespace": d.Namespace, "package": d.Package, "interfaces": d.Interfaces}
		if d.LinkName != "" && d.LinkName != "default" {
			link["name"] = d.LinkName
		}
		if d.Invokes {
			link["target"] = map[string]any{"name": c.Name}
			if len(d.LinkConfig) > 0 {
				link["source"] = map[string]any{"config": d.LinkConfig}
			}
			providers[idx].Traits = append(providers[idx].Traits, Trait{Type: "link", Properties: link})
			continue
		}
		target := map[string]any{"name": name}
		if len(d.LinkConfig) > 0 {
			target["config"] = d.LinkConfig
		}
		link["target"] = target
		app.Traits = append(app.Traits, Trait{Type: "link", Properties: link})
	}
	return devApplication(c, append([]ManifestComponent{app}, providers...))
}

// DevProviderManifest is the application wash dev deploys for a provider project: the
// provider under development, one instance, with id c.ID. Components that use it are linked
// with wash link put, or run next to it through [[dev.manifests]].
func DevProviderManifest(c DevComponent) *Manifest {
	return devApplication(c, []ManifestComponent{{Name: c.Name, Type: "capability",
		Properties: ComponentProps{Image: c.Image, ID: c.ID},
		Traits:     []Trait{{Type: "spreadscaler", Properties: map[string]any{"instances": 1}}}}})
}

func devApplication(c DevComponent, components []ManifestComponent) *Manifest {
	return &Manifest{
		APIVersion: "core.oam.dev/v1beta1", Kind: "Application",
		Metadata: Metadata{Name: AppName(c.Name),
			Annotations: map[string]string{"wasmcloud.dev/session-id": c.Session},
			Labels:      map[string]string{"wasmcloud.dev/generated-by": "wash-dev"}},
		Spec: ManifestSpec{Components: components},
	}
}

// YAML renders the manifest.
func (m *Manifest) YAML() ([]byte, error) { return yaml.Marshal(m) }

// HTTPAddress is where the manifest's HTTP server listens, if it has one.
func (m *Manifest) HTTPAddress() string {
	for _, c := range m.Spec.Components {
		if c.Properties.Image != ImageHTTPServer && !strings.Contains(c.Properties.Image, "/http-server") {
			continue
		}
		for _, t := range c.Traits {
			src, _ := t.Properties["source"].(map[string]any)
			cfgs, _ := src["config"].([]NamedConfig)
			for _, cfg := range cfgs {
				if a := cfg.Properties["address"]; a != "" {
					return a
				}
			}
		}
	}
	return ""
}

// AugmentManifest loads an existing manifest ([[dev.manifests]]) and points its matching
// component (by component_name, component_id or component_ref) at the development build. The
// other components' relative file:// images resolve against dir, the manifest's directory (as
// wash app deploy resolves them), and must exist. It returns the manifest as YAML and its
// application name.
func AugmentManifest(data []byte, dir string, target DevManifestRef, c DevComponent) ([]byte, string, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, "", fmt.Errorf("parsing manifest: %v", err)
	}
	meta, _ := doc["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	if name == "" {
		return nil, "", fmt.Errorf("the manifest has no metadata.name")
	}
	spec, _ := doc["spec"].(map[string]any)
	comps, _ := spec["components"].([]any)
	matched := false
	for _, x := range comps {
		comp, _ := x.(map[string]any)
		props, _ := comp["properties"].(map[string]any)
		if comp == nil || props == nil {
			continue
		}
		cname, _ := comp["name"].(string)
		id, _ := props["id"].(string)
		img, _ := props["image"].(string)
		if (target.ComponentName != "" && target.ComponentName == cname) ||
			(target.ComponentID != "" && target.ComponentID == id) ||
			(target.ComponentRef != "" && target.ComponentRef == img) {
			props["image"], props["id"] = c.Image, c.ID
			matched = true
			continue
		}
		path, ok := strings.CutPrefix(img, "file://")
		if !ok {
			continue
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
			props["image"] = "file://" + path
		}
		if _, err := os.Stat(path); err != nil {
			return nil, "", fmt.Errorf("component %q: image file://%s does not exist (build it first)", cname, path)
		}
	}
	if !matched {
		return nil, "", fmt.Errorf("manifest %s has no component matching component_name/component_id/component_ref", name)
	}
	out, err := yaml.Marshal(doc)
	return out, name, err
}
