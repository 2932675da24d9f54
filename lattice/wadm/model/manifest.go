// Package model is wadm's wire vocabulary, what upstream keeps in the
// wadm-types crate: the OAM application manifest (decoding with upstream's
// strictness, canonical JSON, validation and the JSON schema), the names wadm
// derives from a manifest (component ids, config names, annotations), the
// API request and response messages with their subjects, and application
// statuses. It does no I/O; the client (lattice/wadm/client) and the server
// (lattice/wadm) both build on it.
package model

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/wasmlattice/wash/lattice/ctl"
)

// Well-known manifest constants (wadm-types 0.8).
const (
	OAMVersion               = "core.oam.dev/v1beta1"
	ApplicationKind          = "Application"
	VersionAnnotationKey     = "version"
	DescriptionAnnotationKey = "description"
	SharedAnnotationKey      = "experimental.wasmcloud.dev/shared"
	SpreadScalerTrait        = "spreadscaler"
	DaemonScalerTrait        = "daemonscaler"
	LinkTrait                = "link"
	LatestVersion            = "latest"
	DefaultLinkName          = "default"
	DefaultSpreadWeight      = 100
	SecretPolicyType         = "policy.secret.wasmcloud.dev/v1alpha1"
)

// ComponentType is the `type` of a manifest component.
type ComponentType string

// Component types. The legacy alias "actor" decodes as TypeComponent.
const (
	TypeComponent  ComponentType = "component"
	TypeCapability ComponentType = "capability"
)

// Manifest is an OAM application manifest.
type Manifest struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Metadata   Metadata      `json:"metadata"`
	Spec       Specification `json:"spec"`
}

// Metadata holds the manifest name, annotations and labels.
type Metadata struct {
	Name        string            `json:"name"`
	Annotations map[string]string `json:"annotations"`
	Labels      map[string]string `json:"labels,omitempty"`
}

// MarshalJSON always emits annotations (even {}) so Rust clients, which require
// the key, can decode what we return (reference §3.4).
func (m Metadata) MarshalJSON() ([]byte, error) {
	ann := m.Annotations
	if ann == nil {
		ann = map[string]string{}
	}
	return json.Marshal(struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
		Labels      map[string]string `json:"labels,omitempty"`
	}{m.Name, ann, m.Labels})
}

// Specification is the manifest `spec`.
type Specification struct {
	Components []Component `json:"components"`
	Policies   []Policy    `json:"policies,omitempty"`
}

// MarshalJSON writes components as [] rather than null when empty.
func (s Specification) MarshalJSON() ([]byte, error) {
	c := s.Components
	if c == nil {
		c = []Component{}
	}
	return json.Marshal(struct {
		Components []Component `json:"components"`
		Policies   []Policy    `json:"policies,omitempty"`
	}{c, s.Policies})
}

// Policy is an entry of spec.policies.
type Policy struct {
	Name       string            `json:"name"`
	Properties map[string]string `json:"properties"`
	Type       string            `json:"type"`
}

// MarshalJSON writes properties as {} rather than null.
func (p Policy) MarshalJSON() ([]byte, error) {
	props := p.Properties
	if props == nil {
		props = map[string]string{}
	}
	return json.Marshal(struct {
		Name       string            `json:"name"`
		Properties map[string]string `json:"properties"`
		Type       string            `json:"type"`
	}{p.Name, props, p.Type})
}

// Component is one entry of spec.components: a wasm component or a capability
// provider.
type Component struct {
	Name       string
	Type       ComponentType
	Properties Properties
	// Traits is nil when the key was absent (or null); a non-nil empty slice
	// round-trips as [].
	Traits []Trait
}

// MarshalJSON writes the canonical form: name, type, properties, traits.
func (c Component) MarshalJSON() ([]byte, error) {
	var traits *[]Trait
	if c.Traits != nil {
		traits = &c.Traits
	}
	return json.Marshal(struct {
		Name       string        `json:"name"`
		Type       ComponentType `json:"type"`
		Properties Properties    `json:"properties"`
		Traits     *[]Trait      `json:"traits,omitempty"`
	}{c.Name, c.Type, c.Properties, traits})
}

// IsCapability reports whether the component is a capability provider.
func (c *Component) IsCapability() bool { return c.Type == TypeCapability }

// Properties are the component or capability properties.
type Properties struct {
	Image       *string            `json:"image,omitempty"`
	Application *SharedApplication `json:"application,omitempty"`
	ID          *string            `json:"id,omitempty"`
	Config      []ConfigProperty   `json:"config,omitempty"`
	Secrets     []SecretProperty   `json:"secrets,omitempty"`
}

// ImageRef returns the image reference or "".
func (p *Properties) ImageRef() string {
	if p.Image == nil {
		return ""
	}
	return *p.Image
}

// SharedApplication references a component of another (shared) application.
type SharedApplication struct {
	Name      string `json:"name"`
	Component string `json:"component"`
}

// ConfigProperty is a named configuration. With Properties (non-nil, maybe
// empty) wadm owns it; without, it names an externally managed config.
type ConfigProperty struct {
	Name       string
	Properties map[string]string
}

// MarshalJSON emits properties only when present (nil = absent, {} kept).
func (c ConfigProperty) MarshalJSON() ([]byte, error) {
	if c.Properties == nil {
		return json.Marshal(struct {
			Name string `json:"name"`
		}{c.Name})
	}
	return json.Marshal(struct {
		Name       string            `json:"name"`
		Properties map[string]string `json:"properties"`
	}{c.Name, c.Properties})
}

// HasProperties reports whether wadm manages this config's contents.
func (c *ConfigProperty) HasProperties() bool { return c.Properties != nil }

// SecretProperty maps a secret name to a secret policy and key.
type SecretProperty struct {
	Name       string               `json:"name"`
	Properties SecretSourceProperty `json:"properties"`
}

// SecretSourceProperty says where a secret comes from.
type SecretSourceProperty struct {
	Policy  string  `json:"policy"`
	Key     string  `json:"key"`
	Field   *string `json:"field,omitempty"`
	Version *string `json:"version,omitempty"`
}

// Trait is a component trait. Its properties are decoded without looking at
// Type: link shape first, then scaler shape, then anything (custom).
type Trait struct {
	Type       string
	Properties TraitProperty
}

// MarshalJSON writes {"type":…,"properties":…}.
func (t Trait) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type       string        `json:"type"`
		Properties TraitProperty `json:"properties"`
	}{t.Type, t.Properties})
}

// IsLink reports whether the trait type is "link".
func (t *Trait) IsLink() bool { return t.Type == LinkTrait }

// IsScaler reports whether the trait type is spreadscaler or daemonscaler.
func (t *Trait) IsScaler() bool { return t.Type == SpreadScalerTrait || t.Type == DaemonScalerTrait }

// TraitProperty holds exactly one of the three shapes.
type TraitProperty struct {
	Link   *LinkProperty
	Scaler *SpreadScalerProperty
	// Custom is any JSON value (maps are map[string]any, numbers json.Number)
	// when the properties matched neither the link nor the scaler shape.
	Custom any
}

// MarshalJSON writes whichever shape is set.
func (p TraitProperty) MarshalJSON() ([]byte, error) {
	switch {
	case p.Link != nil:
		return json.Marshal(p.Link)
	case p.Scaler != nil:
		return json.Marshal(p.Scaler)
	default:
		return Marshal(p.Custom)
	}
}

// LinkProperty is the canonical link trait shape.
type LinkProperty struct {
	Namespace  string
	Package    string
	Interfaces []string
	Source     *ConfigDefinition
	Target     TargetConfig
	// Name is nil when absent (the link name is then "default").
	Name *string
}

// LinkName returns the link name, defaulting to "default".
func (l *LinkProperty) LinkName() string {
	if l.Name == nil {
		return DefaultLinkName
	}
	return *l.Name
}

// MarshalJSON writes namespace, package, interfaces, source, target, name;
// deprecated keys are never written.
func (l LinkProperty) MarshalJSON() ([]byte, error) {
	ifaces := l.Interfaces
	if ifaces == nil {
		ifaces = []string{}
	}
	return json.Marshal(struct {
		Namespace  string            `json:"namespace"`
		Package    string            `json:"package"`
		Interfaces []string          `json:"interfaces"`
		Source     *ConfigDefinition `json:"source,omitempty"`
		Target     TargetConfig      `json:"target"`
		Name       *string           `json:"name,omitempty"`
	}{l.Namespace, l.Package, ifaces, l.Source, l.Target, l.Name})
}

// ConfigDefinition is the `source` block of a link.
type ConfigDefinition struct {
	Config  []ConfigProperty `json:"config,omitempty"`
	Secrets []SecretProperty `json:"secrets,omitempty"`
}

// TargetConfig is the `target` block of a link.
type TargetConfig struct {
	Name    string           `json:"name"`
	Config  []ConfigProperty `json:"config,omitempty"`
	Secrets []SecretProperty `json:"secrets,omitempty"`
}

// SpreadScalerProperty is the shape of spreadscaler and daemonscaler traits.
type SpreadScalerProperty struct {
	Instances int      `json:"instances"`
	Spread    []Spread `json:"spread,omitempty"`
}

// Spread is one named placement rule.
type Spread struct {
	Name         string
	Requirements map[string]string
	// Weight is nil when absent (defaults to 100).
	Weight *int
}

// EffectiveWeight returns the weight, defaulting to 100.
func (s *Spread) EffectiveWeight() int {
	if s.Weight == nil {
		return DefaultSpreadWeight
	}
	return *s.Weight
}

// MarshalJSON always emits requirements (upstream omits empty ones and then
// cannot read its own output back; reference §3.4).
func (s Spread) MarshalJSON() ([]byte, error) {
	req := s.Requirements
	if req == nil {
		req = map[string]string{}
	}
	return json.Marshal(struct {
		Name         string            `json:"name"`
		Requirements map[string]string `json:"requirements"`
		Weight       *int              `json:"weight,omitempty"`
	}{s.Name, req, s.Weight})
}

// Version returns the version annotation or "".
func (m *Manifest) Version() string { return m.Metadata.Annotations[VersionAnnotationKey] }

// Description returns the description annotation, if any.
func (m *Manifest) Description() (string, bool) {
	d, ok := m.Metadata.Annotations[DescriptionAnnotationKey]
	return d, ok
}

// Shared reports whether the manifest is annotated as a shared application
// (the value must parse as the boolean true).
func (m *Manifest) Shared() bool {
	v, ok := m.Metadata.Annotations[SharedAnnotationKey]
	if !ok {
		return false
	}
	// Rust's bool::from_str accepts exactly "true" and "false".
	return v == "true"
}

// ComponentByName returns the manifest component with that name.
func (m *Manifest) ComponentByName(name string) *Component {
	for i := range m.Spec.Components {
		if m.Spec.Components[i].Name == name {
			return &m.Spec.Components[i]
		}
	}
	return nil
}

// PolicyByName returns the first policy with that name.
func (m *Manifest) PolicyByName(name string) *Policy {
	// Rust builds a HashMap, so the last duplicate wins.
	var found *Policy
	for i := range m.Spec.Policies {
		if m.Spec.Policies[i].Name == name {
			found = &m.Spec.Policies[i]
		}
	}
	return found
}

// MissingSharedComponents returns the names of components that reference a
// shared application component not found among deployed, which must be the
// deployed manifests of other applications (reference §1.7 step 4).
func (m *Manifest) MissingSharedComponents(deployed []*Manifest) []string {
	var missing []string
	for i := range m.Spec.Components {
		c := &m.Spec.Components[i]
		if c.Properties.Image != nil || c.Properties.Application == nil {
			continue
		}
		ref := c.Properties.Application
		found := false
		for _, d := range deployed {
			if d == nil || !d.Shared() || d.Metadata.Name != ref.Name {
				continue
			}
			if sc := d.ComponentByName(ref.Component); sc != nil && sc.IsCapability() == c.IsCapability() {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, c.Name)
		}
	}
	return missing
}

// MarshalCanonical returns the JSON form model.get returns.
func (m *Manifest) MarshalCanonical() ([]byte, error) { return Marshal(m) }

// Marshal is json.Marshal without HTML escaping, the way wadm (serde_json)
// writes JSON: every wire message of this package and the server uses it.
func Marshal(v any) ([]byte, error) { return ctl.Marshal(v) }

// DebugList formats items like Rust's Debug for a list of strings
// (["a", "b"]), as wadm's messages show lists.
func DebugList(items []string) string {
	q := make([]string, len(items))
	for i, it := range items {
		q[i] = quoteRust(it)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// quoteRust formats s like Rust's Debug for str.
func quoteRust(s string) string {
	out := []byte{'"'}
	for _, r := range s {
		switch r {
		case '"':
			out = append(out, '\\', '"')
		case '\\':
			out = append(out, '\\', '\\')
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		case 0:
			out = append(out, '\\', '0')
		default:
			if r < 0x20 || r == 0x7f {
				out = append(out, []byte("\\u{"+strconv.FormatInt(int64(r), 16)+"}")...)
			} else {
				out = append(out, string(r)...)
			}
		}
	}
	return string(append(out, '"'))
}
