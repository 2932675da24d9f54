package model

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// ValidationLevel says whether a failure blocks a put.
type ValidationLevel string

// Validation levels.
const (
	LevelWarning ValidationLevel = "warning"
	LevelError   ValidationLevel = "error"
)

// ValidationFailure is one finding of Validate.
type ValidationFailure struct {
	Level ValidationLevel `json:"level"`
	Msg   string          `json:"msg"`
}

func (f ValidationFailure) String() string { return fmt.Sprintf("[%s] %s", f.Level, f.Msg) }

// ValidationFailures is the ordered list of findings.
type ValidationFailures []ValidationFailure

// Errors returns the error-level failures.
func (v ValidationFailures) Errors() []ValidationFailure { return v.filter(LevelError) }

// Warnings returns the warning-level failures.
func (v ValidationFailures) Warnings() []ValidationFailure { return v.filter(LevelWarning) }

// Valid reports whether there are no errors.
func (v ValidationFailures) Valid() bool { return len(v.Errors()) == 0 }

// FirstError returns the message of the first error (what model.put
// reports), or "" when valid.
func (v ValidationFailures) FirstError() string {
	for _, f := range v {
		if f.Level == LevelError {
			return f.Msg
		}
	}
	return ""
}

func (v ValidationFailures) filter(l ValidationLevel) []ValidationFailure {
	var out []ValidationFailure
	for _, f := range v {
		if f.Level == l {
			out = append(out, f)
		}
	}
	return out
}

func errf(format string, args ...any) ValidationFailure {
	return ValidationFailure{Level: LevelError, Msg: fmt.Sprintf(format, args...)}
}

func warnf(format string, args ...any) ValidationFailure {
	return ValidationFailure{Level: LevelWarning, Msg: fmt.Sprintf(format, args...)}
}

// manifestNameRe approximates Rust regex `^[-\w]+$` (Unicode word class).
// Compiled on first use: package init runs on every wash invocation.
var manifestNameRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[-\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}]+$`)
})

// ValidManifestName reports whether name is allowed as an application name.
func ValidManifestName(name string) bool { return manifestNameRe().MatchString(name) }

// knownInterfaces is wadm's table of recognised WIT interfaces (rule 4).
var knownInterfaces = map[string]map[string][]string{
	"wrpc": {
		"blobstore": {"blobstore"},
		"keyvalue":  {"atomics", "store"},
		"http":      {"incoming-handler", "outgoing-handler"},
	},
	"wasi": {
		"blobstore": {"blobstore"},
		"config":    {"runtime"},
		"keyvalue":  {"atomics", "store", "batch", "watch"},
		"http":      {"incoming-handler", "outgoing-handler"},
		"logging":   {"logging"},
	},
	"wasmcloud": {
		"messaging": {"consumer", "handler"},
	},
}

// Validate runs wadm's manifest rules in upstream order (reference §3.6).
// Model.put reports FirstError(); warnings are informational.
func Validate(m *Manifest) ValidationFailures {
	var f ValidationFailures
	if !ValidManifestName(m.Metadata.Name) {
		f = append(f, errf("manifest name [%s] is not allowed (should match regex [^[-\\w]+$])", m.Metadata.Name))
	}
	if m.Version() == LatestVersion {
		f = append(f, errf("%s is not allowed in wadm", LatestVersion))
	}
	f = append(f, coreValidation(m)...)
	f = append(f, checkMisnamedInterfaces(m)...)
	f = append(f, checkDanglingLinks(m)...)
	f = append(f, validatePolicies(m)...)
	f = append(f, ensureNoCustomTraits(m)...)
	f = append(f, validateComponentProperties(m)...)
	f = append(f, checkDuplicateLinks(m)...)
	f = append(f, validateLinkConfigs(m)...)
	return f
}

// ValidateBytes parses the bytes like the library-level validator (YAML) and
// adds the raw-document warnings about deprecated link keys.
func ValidateBytes(data []byte) (*Manifest, ValidationFailures, error) {
	m, err := ParseManifestYAML(data)
	if err != nil {
		return nil, nil, err
	}
	f := Validate(m)
	if raw, err := yamlToNode(data); err == nil {
		f = append(f, deprecatedLinkKeys(raw)...)
	}
	return m, f, nil
}

func deprecatedLinkKeys(raw *node) ValidationFailures {
	var f ValidationFailures
	spec, _ := raw.get("spec")
	comps, _ := spec.get("components")
	if comps == nil || comps.kind != kSeq {
		return nil
	}
	for _, c := range comps.seq {
		traits, _ := c.get("traits")
		if traits == nil || traits.kind != kSeq {
			continue
		}
		for _, t := range traits.seq {
			if tt, ok := t.get("type"); ok && !(tt.kind == kString && tt.s == LinkTrait) {
				continue
			}
			props, ok := t.get("properties")
			if !ok {
				continue
			}
			if _, ok := props.get("source_config"); ok {
				f = append(f, warnf("one of the components' link trait contains a source_config key, please use source:config: rather"))
			}
			if _, ok := props.get("target_config"); ok {
				f = append(f, warnf("one of the components' link trait contains a target_config key, please use target:config: rather"))
			}
		}
	}
	return f
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func coreValidation(m *Manifest) ValidationFailures {
	var f ValidationFailures
	for _, k := range sortedKeys(m.Metadata.Labels) {
		if !ValidOAMKey(k) {
			f = append(f, errf("Invalid OAM label: (%s, %s)", quoteRust(k), quoteRust(m.Metadata.Labels[k])))
		}
	}
	for _, k := range sortedKeys(m.Metadata.Annotations) {
		if !ValidOAMKey(k) {
			f = append(f, errf("Invalid OAM annotation: (%s, %s)", quoteRust(k), quoteRust(m.Metadata.Annotations[k])))
		}
	}
	names := map[string]bool{}
	ids := map[string]bool{}
	required := map[string]bool{}
	for i := range m.Spec.Components {
		c := &m.Spec.Components[i]
		if names[c.Name] {
			f = append(f, errf("Duplicate component name in manifest: %s", c.Name))
		}
		names[c.Name] = true
		if c.Properties.ID != nil {
			if ids[*c.Properties.ID] {
				f = append(f, errf("Duplicate component identifier in manifest: %s", *c.Properties.ID))
			}
			ids[*c.Properties.ID] = true
		}
		for j := range c.Traits {
			if l := c.Traits[j].Properties.Link; l != nil {
				required[l.Target.Name] = true
			}
		}
	}
	var missing []string
	for name := range required {
		if !names[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		// Rust iterates a HashSet (random order); sorted is one of its outcomes.
		sort.Strings(missing)
		f = append(f, errf("The following capability component(s) are missing from the manifest: %s", DebugList(missing)))
	}
	return f
}

// ValidOAMKey reports whether a label or annotation key is `name` or
// `prefix/name` with a DNS-subdomain prefix.
func ValidOAMKey(key string) bool {
	if prefix, name, ok := strings.Cut(key, "/"); ok {
		return validDNSSubdomain(prefix) && validLabelName(name)
	}
	return validLabelName(key)
}

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func validDNSSubdomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" || len(part) > 63 || !isAlpha(part[0]) || !isAlnum(part[len(part)-1]) {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !isAlnum(part[i]) && part[i] != '-' {
				return false
			}
		}
	}
	return true
}

func validLabelName(s string) bool {
	if s == "" || len(s) > 63 || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// linkTraits returns the traits of type "link" in manifest order.
func (m *Manifest) linkTraits() []*Trait {
	var out []*Trait
	for i := range m.Spec.Components {
		c := &m.Spec.Components[i]
		for j := range c.Traits {
			if c.Traits[j].IsLink() {
				out = append(out, &c.Traits[j])
			}
		}
	}
	return out
}

func checkMisnamedInterfaces(m *Manifest) ValidationFailures {
	var f ValidationFailures
	for _, t := range m.linkTraits() {
		l := t.Properties.Link
		if l == nil {
			continue
		}
		for _, iface := range l.Interfaces {
			pkgs, ok := knownInterfaces[l.Namespace]
			if !ok {
				continue
			}
			ifaces, ok := pkgs[l.Package]
			if !ok || !contains(ifaces, iface) {
				f = append(f, warnf("unrecognized interface [%s:%s/%s]", l.Namespace, l.Package, iface))
			}
		}
	}
	return f
}

func checkDanglingLinks(m *Manifest) ValidationFailures {
	var f ValidationFailures
	for _, t := range m.linkTraits() {
		switch {
		case t.Properties.Link != nil:
			l := t.Properties.Link
			ident := fmt.Sprintf("(target [%s])", l.Target.Name)
			if l.Name != nil {
				ident = fmt.Sprintf("(name [%s])", *l.Name)
			}
			if m.ComponentByName(l.Target.Name) == nil {
				f = append(f, warnf("link %s target [%s] is not a listed component", ident, l.Target.Name))
			}
		case t.Properties.Scaler != nil:
			// Upstream hits unreachable!() here; we reject it with a normal error.
			js, _ := Marshal(t.Properties.Scaler)
			f = append(f, errf("Link trait deserialized as scaler trait, ensure fields are correct: %s", js))
		default:
			obj, _ := t.Properties.Custom.(map[string]any)
			target, ok := obj["target"]
			if !ok {
				f = append(f, errf("custom link is missing 'target' property"))
				continue
			}
			tobj, _ := target.(map[string]any)
			name, ok := tobj["name"].(string)
			if !ok {
				f = append(f, errf("custom link is missing 'target' name property"))
				continue
			}
			if m.ComponentByName(name) == nil {
				f = append(f, warnf("custom link target [%s] is not a listed component", name))
			}
		}
	}
	return f
}

// secrets lists a component's secrets the way the policy rule sees them: link
// (any trait with link-shaped properties) target then source secrets, then the
// component's own.
func (c *Component) allSecrets() []SecretProperty {
	var out []SecretProperty
	for i := range c.Traits {
		if l := c.Traits[i].Properties.Link; l != nil {
			out = append(out, l.Target.Secrets...)
			if l.Source != nil {
				out = append(out, l.Source.Secrets...)
			}
		}
	}
	return append(out, c.Properties.Secrets...)
}

func validatePolicies(m *Manifest) ValidationFailures {
	var f ValidationFailures
	for i := range m.Spec.Components {
		for _, s := range m.Spec.Components[i].allSecrets() {
			p := m.PolicyByName(s.Properties.Policy)
			switch {
			case p == nil:
				f = append(f, errf("secret '%s' is mapped to unknown policy '%s'", s.Name, s.Properties.Policy))
			case p.Type != SecretPolicyType:
				f = append(f, errf("secret '%s' is mapped to policy '%s' which is not a secret policy. Expected type '%s'", s.Name, s.Properties.Policy, SecretPolicyType))
			default:
				if _, ok := p.Properties["backend"]; !ok {
					f = append(f, errf("secret '%s' is mapped to policy '%s' which does not include a 'backend' property", s.Name, s.Properties.Policy))
				}
			}
		}
	}
	return f
}

func ensureNoCustomTraits(m *Manifest) ValidationFailures {
	var f ValidationFailures
	for i := range m.Spec.Components {
		c := &m.Spec.Components[i]
		for j := range c.Traits {
			t := &c.Traits[j]
			if t.Properties.Link != nil || t.Properties.Scaler != nil {
				continue
			}
			js, _ := Marshal(t.Properties.Custom)
			if t.IsLink() {
				f = append(f, errf("Link trait deserialized as custom trait, ensure fields are correct: %s", js))
			} else if t.IsScaler() {
				f = append(f, errf("Scaler trait deserialized as custom trait, ensure fields are correct: %s", js))
			}
		}
	}
	return f
}

func validateComponentProperties(m *Manifest) ValidationFailures {
	var f ValidationFailures
	for i := range m.Spec.Components {
		c := &m.Spec.Components[i]
		p := &c.Properties
		switch {
		case p.Image != nil && p.Application != nil:
			f = append(f, errf("Component cannot have both 'image' and 'application' properties"))
		case p.Image == nil && p.Application == nil:
			f = append(f, errf("Component must have either 'image' or 'application' property"))
		case p.Image == nil && len(p.Config) > 0:
			f = append(f, errf("Shared component '%s' cannot specify additional 'config'", p.Application.Name))
		case p.Image == nil && len(p.Secrets) > 0:
			f = append(f, errf("Shared component '%s' cannot specify additional 'secrets'", p.Application.Name))
		case p.Image == nil && c.hasScalerTrait():
			f = append(f, errf("Shared component '%s' cannot include a scaler trait", p.Application.Name))
		}
	}
	return f
}

func (c *Component) hasScalerTrait() bool {
	for i := range c.Traits {
		if c.Traits[i].IsScaler() {
			return true
		}
	}
	return false
}

func checkDuplicateLinks(m *Manifest) ValidationFailures {
	var f ValidationFailures
	for i := range m.Spec.Components {
		c := &m.Spec.Components[i]
		seen := map[[4]string]bool{}
		for j := range c.Traits {
			t := &c.Traits[j]
			if !t.IsLink() || t.Properties.Link == nil {
				continue
			}
			l := t.Properties.Link
			for _, iface := range l.Interfaces {
				key := [4]string{l.LinkName(), l.Namespace, l.Package, iface}
				if seen[key] {
					f = append(f, errf("Duplicate link found inside component '%s': %s (%s:%s/%s)", c.Name, l.LinkName(), l.Namespace, l.Package, iface))
				}
				seen[key] = true
			}
		}
	}
	return f
}

func validateLinkConfigs(m *Manifest) ValidationFailures {
	var f ValidationFailures
	seen := map[string]bool{}
	check := func(cfgs []ConfigProperty) {
		for _, c := range cfgs {
			if !c.HasProperties() {
				continue
			}
			if seen[c.Name] {
				f = append(f, errf("Duplicate link config name found: '%s'", c.Name))
			}
			seen[c.Name] = true
		}
	}
	for _, t := range m.linkTraits() {
		l := t.Properties.Link
		if l == nil {
			continue
		}
		check(l.Target.Config)
		if l.Source != nil {
			check(l.Source.Config)
		}
	}
	return f
}

// CheckPut runs model.put's checks after parsing, in order, and returns the
// error text upstream replies with (empty when the manifest may be stored).
func CheckPut(m *Manifest) string {
	if m.Version() == LatestVersion {
		return `invalid manifest version, errors: "latest is not allowed in wadm"`
	}
	name := strings.TrimSpace(m.Metadata.Name)
	if msg := checkNameLengths(m); msg != "" {
		return msg
	}
	if !ValidManifestName(name) {
		return fmt.Sprintf("Manifest name %s contains invalid characters. Manifest names can only contain alphanumeric characters, dashes, and underscores.", name)
	}
	return Validate(m).FirstError()
}
