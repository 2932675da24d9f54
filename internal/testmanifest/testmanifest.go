// Package testmanifest writes the wadm application manifests (core.oam.dev/v1beta1) that tests
// and benchmarks deploy. A test states what its app is made of (components, scalers, links,
// configs, policies, secrets); the YAML shape lives here once, in the current form wadm
// documents (`target: {name, config}`, `source: {config}`), so the deprecated forms do not
// leak warnings into what tests read. Manifests that test the parser itself stay raw text in
// their tests.
package testmanifest

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
)

// App is one application manifest.
type App struct {
	Name string
	// Version and Description are the usual annotations; empty ones are left out.
	Version, Description string
	Policies             []Policy
	Components           []Component
}

// Policy is a spec.policies entry, e.g. a secret backend.
type Policy struct {
	Name       string            `yaml:"name"`
	Type       string            `yaml:"type"`
	Properties map[string]string `yaml:"properties"`
}

// Component is a spec.components entry: a WebAssembly component, or a capability provider
// when Provider is set.
type Component struct {
	Name     string
	Image    string
	Provider bool
	// ID overrides the id wadm derives from app and component name.
	ID      string
	Secrets []Secret
	// Scaler, when set, is the component's spreadscaler; a component needs one, a provider
	// without one runs once.
	Scaler *Scaler
	Links  []Link
}

// Secret is a component's secret reference to a policy's backend.
type Secret struct {
	Name, Policy, Key string
}

// Scaler is a spreadscaler: Instances spread over hosts by Spread.
type Scaler struct {
	Instances int
	// Replicas writes Instances under upstream's deprecated key `replicas`, for tests that pin
	// that older manifests still deploy.
	Replicas bool
	Spread   []Spread
}

// Spread is one spread requirement of a scaler; Weight 0 leaves the weight out.
type Spread struct {
	Name         string            `yaml:"name"`
	Weight       int               `yaml:"weight,omitempty"`
	Requirements map[string]string `yaml:"requirements"`
}

// Link is a link trait from its component to Target on Namespace:Package/Interfaces.
type Link struct {
	Target             string
	TargetConfig       []Config
	Namespace, Package string
	Interfaces         []string
	SourceConfig       []Config
}

// Config is a named config with its properties, as links and components carry them.
type Config struct {
	Name       string            `yaml:"name"`
	Properties map[string]string `yaml:"properties"`
}

// Wasm is a component from a local file (a file:// image) with a spreadscaler of instances.
func Wasm(name, path string, instances int) Component {
	return Component{Name: name, Image: "file://" + path, Scaler: &Scaler{Instances: instances}}
}

// Builtin is one of the host's built-in providers (wasmcloud+builtin://kind) named name.
func Builtin(name, kind string) Component {
	return Component{Name: name, Image: "wasmcloud+builtin://" + kind, Provider: true}
}

// HTTPServer is the built-in http-server, component "httpserver", serving target on addr:
// the address goes in the link's source config named config.
func HTTPServer(target, config, addr string) Component {
	c := Builtin("httpserver", "http-server")
	c.Links = []Link{HTTPLink(target, config, addr)}
	return c
}

// HTTPLink is the http-server's link to target on wasi:http/incoming-handler, listening on
// addr (source config named config).
func HTTPLink(target, config, addr string) Link {
	return Link{Target: target, Namespace: "wasi", Package: "http", Interfaces: []string{"incoming-handler"},
		SourceConfig: []Config{{Name: config, Properties: map[string]string{"address": addr}}}}
}

// Spread places the component's (or provider's) instances by spread requirements; a provider
// gets a scaler of one instance first.
func (c Component) Spread(s ...Spread) Component {
	sc := Scaler{Instances: 1}
	if c.Scaler != nil {
		sc = *c.Scaler
	}
	sc.Spread = append(append([]Spread(nil), sc.Spread...), s...)
	c.Scaler = &sc
	return c
}

// Link adds link traits.
func (c Component) Link(l ...Link) Component {
	c.Links = append(append([]Link(nil), c.Links...), l...)
	return c
}

// YAML is the manifest as wash app deploy reads it.
func (a App) YAML() string {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(a.node()); err != nil {
		// only plain strings, numbers, maps and lists go in: an error is a bug here
		panic(fmt.Sprintf("testmanifest: %v", err))
	}
	return b.String()
}

// node is the manifest's document, its keys in the order wadm's documentation writes them.
func (a App) node() *yaml.Node {
	annotations := map[string]string{}
	if a.Version != "" {
		annotations["version"] = a.Version
	}
	if a.Description != "" {
		annotations["description"] = a.Description
	}
	var components []*yaml.Node
	for _, c := range a.Components {
		components = append(components, c.node())
	}
	spec := mapping("components", components)
	if len(a.Policies) > 0 {
		spec = mapping("policies", a.Policies, "components", components)
	}
	return mapping("apiVersion", "core.oam.dev/v1beta1", "kind", "Application",
		"metadata", mapping("name", a.Name, "annotations", annotations), "spec", spec)
}

func (c Component) node() *yaml.Node {
	kind := "component"
	if c.Provider {
		kind = "capability"
	}
	props := mapping("image", c.Image)
	if c.ID != "" {
		set(props, "id", c.ID)
	}
	if len(c.Secrets) > 0 {
		var secrets []Config
		for _, s := range c.Secrets {
			secrets = append(secrets, Config{Name: s.Name, Properties: map[string]string{"policy": s.Policy, "key": s.Key}})
		}
		set(props, "secrets", secrets)
	}
	var traits []*yaml.Node
	if sc := c.Scaler; sc != nil {
		count := "instances"
		if sc.Replicas {
			count = "replicas"
		}
		scaler := mapping(count, sc.Instances)
		if len(sc.Spread) > 0 {
			set(scaler, "spread", sc.Spread)
		}
		traits = append(traits, mapping("type", "spreadscaler", "properties", scaler))
	}
	for _, l := range c.Links {
		traits = append(traits, mapping("type", "link", "properties", l.node()))
	}
	n := mapping("name", c.Name, "type", kind, "properties", props)
	if len(traits) > 0 {
		set(n, "traits", traits)
	}
	return n
}

func (l Link) node() *yaml.Node {
	target := mapping("name", l.Target)
	if len(l.TargetConfig) > 0 {
		set(target, "config", l.TargetConfig)
	}
	interfaces := value(l.Interfaces)
	interfaces.Style = yaml.FlowStyle // [store, atomics], as manifests are written by hand
	n := mapping("target", target, "namespace", l.Namespace, "package", l.Package, "interfaces", interfaces)
	if len(l.SourceConfig) > 0 {
		set(n, "source", mapping("config", l.SourceConfig))
	}
	return n
}

// mapping is a YAML mapping of key, value, key, value… in that order.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kv); i += 2 {
		set(n, kv[i].(string), kv[i+1])
	}
	return n
}

// set adds key: v at the end of mapping n.
func set(n *yaml.Node, key string, v any) { n.Content = append(n.Content, value(key), value(v)) }

// value is v as a YAML node; nodes stay as they are.
func value(v any) *yaml.Node {
	if n, ok := v.(*yaml.Node); ok {
		return n
	}
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		panic(fmt.Sprintf("testmanifest: %v", err))
	}
	return &n
}
