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
	if err := enc.Encode(a.doc()); err != nil {
		// only plain strings, numbers, maps and lists go in: an error is a bug here
		panic(fmt.Sprintf("testmanifest: %v", err))
	}
	return b.String()
}

// The document types below mirror the manifest's YAML keys in their documented order.
type (
	doc struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Metadata   metadata `yaml:"metadata"`
		Spec       spec     `yaml:"spec"`
	}
	metadata struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	}
	spec struct {
		Policies   []Policy       `yaml:"policies,omitempty"`
		Components []componentDoc `yaml:"components"`
	}
	componentDoc struct {
		Name       string        `yaml:"name"`
		Type       string        `yaml:"type"`
		Properties propertiesDoc `yaml:"properties"`
		Traits     []traitDoc    `yaml:"traits,omitempty"`
	}
	propertiesDoc struct {
		Image   string      `yaml:"image"`
		ID      string      `yaml:"id,omitempty"`
		Secrets []secretDoc `yaml:"secrets,omitempty"`
	}
	secretDoc struct {
		Name       string            `yaml:"name"`
		Properties map[string]string `yaml:"properties"`
	}
	traitDoc struct {
		Type       string `yaml:"type"`
		Properties any    `yaml:"properties"`
	}
	scalerDoc struct {
		Instances *int     `yaml:"instances,omitempty"`
		Replicas  *int     `yaml:"replicas,omitempty"`
		Spread    []Spread `yaml:"spread,omitempty"`
	}
	linkDoc struct {
		Target     targetDoc  `yaml:"target"`
		Namespace  string     `yaml:"namespace"`
		Package    string     `yaml:"package"`
		Interfaces []string   `yaml:"interfaces,flow"`
		Source     *sourceDoc `yaml:"source,omitempty"`
	}
	targetDoc struct {
		Name   string   `yaml:"name"`
		Config []Config `yaml:"config,omitempty"`
	}
	sourceDoc struct {
		Config []Config `yaml:"config"`
	}
)

func (a App) doc() doc {
	d := doc{APIVersion: "core.oam.dev/v1beta1", Kind: "Application",
		Metadata: metadata{Name: a.Name, Annotations: map[string]string{}}}
	if a.Version != "" {
		d.Metadata.Annotations["version"] = a.Version
	}
	if a.Description != "" {
		d.Metadata.Annotations["description"] = a.Description
	}
	d.Spec.Policies = a.Policies
	for _, c := range a.Components {
		cd := componentDoc{Name: c.Name, Type: "component", Properties: propertiesDoc{Image: c.Image, ID: c.ID}}
		if c.Provider {
			cd.Type = "capability"
		}
		for _, s := range c.Secrets {
			cd.Properties.Secrets = append(cd.Properties.Secrets, secretDoc{Name: s.Name,
				Properties: map[string]string{"policy": s.Policy, "key": s.Key}})
		}
		if c.Scaler != nil {
			n := c.Scaler.Instances
			sd := scalerDoc{Instances: &n, Spread: c.Scaler.Spread}
			if c.Scaler.Replicas {
				sd.Instances, sd.Replicas = nil, &n
			}
			cd.Traits = append(cd.Traits, traitDoc{Type: "spreadscaler", Properties: sd})
		}
		for _, l := range c.Links {
			ld := linkDoc{Target: targetDoc{Name: l.Target, Config: l.TargetConfig},
				Namespace: l.Namespace, Package: l.Package, Interfaces: l.Interfaces}
			if len(l.SourceConfig) > 0 {
				ld.Source = &sourceDoc{Config: l.SourceConfig}
			}
			cd.Traits = append(cd.Traits, traitDoc{Type: "link", Properties: ld})
		}
		d.Spec.Components = append(d.Spec.Components, cd)
	}
	return d
}
