package model

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Content types accepted by model.put.
const (
	ContentTypeJSON = "application/json"
	ContentTypeYAML = "application/yaml"
)

// ParseError is a manifest decoding failure. Its Error text starts with
// "Unable to parse manifest: " like upstream's API reply.
type ParseError struct{ Detail string }

func (e *ParseError) Error() string { return "Unable to parse manifest: " + e.Detail }

// UnsupportedContentTypeError is returned by ParseManifestContentType for a
// Content-Type other than JSON or YAML.
type UnsupportedContentTypeError struct{ ContentType string }

func (e *UnsupportedContentTypeError) Error() string {
	return fmt.Sprintf("Unsupported content type %s given. Wadm supports YAML and JSON", e.ContentType)
}

// ParseManifest decodes a manifest from YAML or JSON bytes the way model.put
// does without a Content-Type header: YAML first, then JSON.
func ParseManifest(data []byte) (*Manifest, error) {
	m, yerr := ParseManifestYAML(data)
	if yerr == nil {
		return m, nil
	}
	m, jerr := ParseManifestJSON(data)
	if jerr == nil {
		return m, nil
	}
	// Report the error of the format the document is written in: a JSON document starts with
	// '{'; anything else is YAML (JSON is YAML too, so YAML was tried first).
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		return nil, jerr
	}
	return nil, yerr
}

// ParseManifestContentType decodes with model.put's Content-Type rules: ""
// (header absent) tries both formats; anything but the two exact types fails.
func ParseManifestContentType(data []byte, contentType string) (*Manifest, error) {
	switch contentType {
	case "":
		return ParseManifest(data)
	case ContentTypeJSON:
		return ParseManifestJSON(data)
	case ContentTypeYAML:
		return ParseManifestYAML(data)
	default:
		return nil, &UnsupportedContentTypeError{ContentType: contentType}
	}
}

// ParseManifestYAML decodes a single-document YAML manifest.
func ParseManifestYAML(data []byte) (*Manifest, error) {
	n, err := yamlToNode(data)
	if err != nil {
		return nil, &ParseError{Detail: err.Error()}
	}
	return decodeManifestNode(n)
}

// ParseManifestJSON decodes a JSON manifest.
func ParseManifestJSON(data []byte) (*Manifest, error) {
	n, err := jsonToNode(data)
	if err != nil {
		return nil, &ParseError{Detail: err.Error()}
	}
	return decodeManifestNode(n)
}

// ParseStoredManifestJSON decodes a stored or API-returned JSON manifest
// leniently: missing metadata.annotations and spread requirements default to
// empty, because upstream omits them when serializing.
func ParseStoredManifestJSON(data []byte) (*Manifest, error) {
	n, err := jsonToNode(data)
	if err != nil {
		return nil, &ParseError{Detail: err.Error()}
	}
	d := &decoder{stored: true}
	m, err := d.manifest(n)
	if err != nil {
		return nil, &ParseError{Detail: err.Error()}
	}
	return m, nil
}

func decodeManifestNode(n *node) (*Manifest, error) {
	d := &decoder{}
	m, err := d.manifest(n)
	if err != nil {
		return nil, &ParseError{Detail: err.Error()}
	}
	return m, nil
}

// ---- typed decoding ----------------------------------------------------------

type decoder struct {
	// stored enables the lenient defaults of ParseStoredManifestJSON.
	stored bool
}

// fieldSet is a decoded struct-like map.
type fieldSet map[string]*node

// strict marks serde "buffered" positions (flattened component properties and
// untagged trait properties) where scalar kinds must match exactly.
type mode bool

const (
	direct mode = false
	strict mode = true
)

func pathJoin(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func errAt(path string, format string, args ...any) error {
	// Values from the document are echoed: escape line breaks so the error stays one line.
	msg := strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(fmt.Sprintf(format, args...))
	if path == "" {
		return errors.New(msg)
	}
	return fmt.Errorf("%s: %s", path, msg)
}

// object checks n is a map, rejects duplicate keys and (when allowed is
// non-nil and deny is set) unknown keys, and returns the fields.
func object(n *node, path, what string, allowed []string, deny bool) (fieldSet, error) {
	if n.kind != kMap {
		return nil, errAt(path, "invalid type: %s, expected %s", n.describe(), what)
	}
	fs := fieldSet{}
	for i, k := range n.keys {
		if strings.HasPrefix(k, "\x00dup\x00") {
			return nil, errAt(path, "duplicate field `%s`", strings.TrimPrefix(k, "\x00dup\x00"))
		}
		if deny && !contains(allowed, k) {
			return nil, errAt(path, "unknown field `%s`, expected %s", k, oneOf(allowed))
		}
		fs[k] = n.vals[i]
	}
	return fs, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func oneOf(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = "`" + s + "`"
	}
	switch len(q) {
	case 1:
		return q[0]
	case 2:
		return q[0] + " or " + q[1]
	}
	return "one of " + strings.Join(q, ", ")
}

func (fs fieldSet) required(path, key string) (*node, error) {
	v, ok := fs[key]
	if !ok {
		return nil, errAt(path, "missing field `%s`", key)
	}
	return v, nil
}

// present returns the value when the key exists and is not null (serde
// Option semantics).
func (fs fieldSet) present(key string) (*node, bool) {
	v, ok := fs[key]
	if !ok || v.kind == kNull {
		return nil, false
	}
	return v, true
}

func str(n *node, path string, m mode) (string, error) {
	if n.kind == kString {
		return n.s, nil
	}
	if m == direct && n.fromYAML && n.kind != kSeq && n.kind != kMap {
		// serde_yaml's deserialize_str accepts any scalar's text.
		return n.s, nil
	}
	return "", errAt(path, "invalid type: %s, expected a string", n.describe())
}

func optStr(fs fieldSet, path, key string, m mode) (*string, error) {
	v, ok := fs.present(key)
	if !ok {
		return nil, nil
	}
	s, err := str(v, pathJoin(path, key), m)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func reqStr(fs fieldSet, path, key string, m mode) (string, error) {
	v, err := fs.required(path, key)
	if err != nil {
		return "", err
	}
	return str(v, pathJoin(path, key), m)
}

func usize(n *node, path string) (int, error) {
	if n.kind != kInt {
		return 0, errAt(path, "invalid type: %s, expected usize", n.describe())
	}
	v, err := strconv.ParseInt(n.s, 10, 64)
	if err != nil || v < 0 {
		return 0, errAt(path, "invalid value: %s, expected usize", n.describe())
	}
	return int(v), nil
}

func stringMap(n *node, path string, m mode) (map[string]string, error) {
	if n.kind == kNull && m == direct && n.fromYAML {
		return map[string]string{}, nil
	}
	if n.kind != kMap {
		return nil, errAt(path, "invalid type: %s, expected a map", n.describe())
	}
	out := make(map[string]string, len(n.keys))
	for i, k := range n.keys {
		if strings.HasPrefix(k, "\x00dup\x00") {
			continue // JSON: last value wins, already stored
		}
		v, err := str(n.vals[i], pathJoin(path, k), m)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

func seq(n *node, path string, m mode) ([]*node, error) {
	if n.kind == kNull && m == direct && n.fromYAML {
		return nil, nil
	}
	if n.kind != kSeq {
		return nil, errAt(path, "invalid type: %s, expected a sequence", n.describe())
	}
	return n.seq, nil
}

func (d *decoder) manifest(n *node) (*Manifest, error) {
	fs, err := object(n, "", "struct Manifest", []string{"apiVersion", "kind", "metadata", "spec"}, true)
	if err != nil {
		return nil, err
	}
	m := &Manifest{}
	if m.APIVersion, err = reqStr(fs, "", "apiVersion", direct); err != nil {
		return nil, err
	}
	if m.Kind, err = reqStr(fs, "", "kind", direct); err != nil {
		return nil, err
	}
	mn, err := fs.required("", "metadata")
	if err != nil {
		return nil, err
	}
	if m.Metadata, err = d.metadata(mn, "metadata"); err != nil {
		return nil, err
	}
	sn, err := fs.required("", "spec")
	if err != nil {
		return nil, err
	}
	if m.Spec, err = d.spec(sn, "spec"); err != nil {
		return nil, err
	}
	return m, nil
}

func (d *decoder) metadata(n *node, path string) (Metadata, error) {
	var md Metadata
	fs, err := object(n, path, "struct Metadata", nil, false)
	if err != nil {
		return md, err
	}
	if md.Name, err = reqStr(fs, path, "name", direct); err != nil {
		return md, err
	}
	an, ok := fs["annotations"]
	switch {
	case ok:
		if md.Annotations, err = stringMap(an, pathJoin(path, "annotations"), direct); err != nil {
			return md, err
		}
	case d.stored:
		md.Annotations = map[string]string{}
	default:
		return md, errAt(path, "missing field `annotations`")
	}
	if ln, ok := fs["labels"]; ok {
		if md.Labels, err = stringMap(ln, pathJoin(path, "labels"), direct); err != nil {
			return md, err
		}
	}
	return md, nil
}

func (d *decoder) spec(n *node, path string) (Specification, error) {
	var sp Specification
	fs, err := object(n, path, "struct Specification", nil, false)
	if err != nil {
		return sp, err
	}
	cn, err := fs.required(path, "components")
	if err != nil {
		return sp, err
	}
	items, err := seq(cn, pathJoin(path, "components"), direct)
	if err != nil {
		return sp, err
	}
	sp.Components = make([]Component, 0, len(items))
	for i, it := range items {
		c, err := d.component(it, fmt.Sprintf("%s.components[%d]", path, i))
		if err != nil {
			return sp, err
		}
		sp.Components = append(sp.Components, c)
	}
	if pn, ok := fs["policies"]; ok {
		items, err := seq(pn, pathJoin(path, "policies"), direct)
		if err != nil {
			return sp, err
		}
		for i, it := range items {
			p, err := d.policy(it, fmt.Sprintf("%s.policies[%d]", path, i))
			if err != nil {
				return sp, err
			}
			sp.Policies = append(sp.Policies, p)
		}
	}
	return sp, nil
}

func (d *decoder) policy(n *node, path string) (Policy, error) {
	var p Policy
	fs, err := object(n, path, "struct Policy", nil, false)
	if err != nil {
		return p, err
	}
	if p.Name, err = reqStr(fs, path, "name", direct); err != nil {
		return p, err
	}
	pn, err := fs.required(path, "properties")
	if err != nil {
		return p, err
	}
	if p.Properties, err = stringMap(pn, pathJoin(path, "properties"), direct); err != nil {
		return p, err
	}
	if p.Type, err = reqStr(fs, path, "type", direct); err != nil {
		return p, err
	}
	return p, nil
}

func (d *decoder) component(n *node, path string) (Component, error) {
	var c Component
	fs, err := object(n, path, "struct Component", nil, false)
	if err != nil {
		return c, err
	}
	if c.Name, err = reqStr(fs, path, "name", direct); err != nil {
		return c, err
	}
	// type and properties are flattened in Rust: buffered, hence strict.
	tn, err := fs.required(path, "type")
	if err != nil {
		return c, err
	}
	t, err := str(tn, pathJoin(path, "type"), strict)
	if err != nil {
		return c, err
	}
	switch t {
	case "component", "actor":
		c.Type = TypeComponent
	case "capability":
		c.Type = TypeCapability
	default:
		return c, errAt(pathJoin(path, "type"), "unknown variant `%s`, expected one of `component`, `actor`, `capability`", t)
	}
	pn, err := fs.required(path, "properties")
	if err != nil {
		return c, err
	}
	if c.Properties, err = d.properties(pn, pathJoin(path, "properties")); err != nil {
		return c, err
	}
	if tn, ok := fs.present("traits"); ok {
		items, err := seq(tn, pathJoin(path, "traits"), direct)
		if err != nil {
			return c, err
		}
		c.Traits = make([]Trait, 0, len(items))
		for i, it := range items {
			tr, err := d.trait(it, fmt.Sprintf("%s.traits[%d]", path, i))
			if err != nil {
				return c, err
			}
			c.Traits = append(c.Traits, tr)
		}
	}
	return c, nil
}

var propertiesFields = []string{"image", "application", "id", "config", "secrets"}

func (d *decoder) properties(n *node, path string) (Properties, error) {
	var p Properties
	fs, err := object(n, path, "struct Properties", propertiesFields, true)
	if err != nil {
		return p, err
	}
	if p.Image, err = optStr(fs, path, "image", strict); err != nil {
		return p, err
	}
	if an, ok := fs.present("application"); ok {
		ap := pathJoin(path, "application")
		afs, err := object(an, ap, "struct SharedApplicationComponentProperties", nil, false)
		if err != nil {
			return p, err
		}
		sa := &SharedApplication{}
		if sa.Name, err = reqStr(afs, ap, "name", strict); err != nil {
			return p, err
		}
		if sa.Component, err = reqStr(afs, ap, "component", strict); err != nil {
			return p, err
		}
		p.Application = sa
	}
	if p.ID, err = optStr(fs, path, "id", strict); err != nil {
		return p, err
	}
	if cn, ok := fs["config"]; ok {
		if p.Config, err = configList(cn, pathJoin(path, "config")); err != nil {
			return p, err
		}
	}
	if sn, ok := fs["secrets"]; ok {
		if p.Secrets, err = secretList(sn, pathJoin(path, "secrets")); err != nil {
			return p, err
		}
	}
	return p, nil
}

func configList(n *node, path string) ([]ConfigProperty, error) {
	items, err := seq(n, path, strict)
	if err != nil {
		return nil, err
	}
	out := make([]ConfigProperty, 0, len(items))
	for i, it := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		fs, err := object(it, ip, "struct ConfigProperty", []string{"name", "properties"}, true)
		if err != nil {
			return nil, err
		}
		var c ConfigProperty
		if c.Name, err = reqStr(fs, ip, "name", strict); err != nil {
			return nil, err
		}
		if pn, ok := fs.present("properties"); ok {
			if c.Properties, err = stringMap(pn, pathJoin(ip, "properties"), strict); err != nil {
				return nil, err
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func secretList(n *node, path string) ([]SecretProperty, error) {
	items, err := seq(n, path, strict)
	if err != nil {
		return nil, err
	}
	out := make([]SecretProperty, 0, len(items))
	for i, it := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		fs, err := object(it, ip, "struct SecretProperty", nil, false)
		if err != nil {
			return nil, err
		}
		var s SecretProperty
		if s.Name, err = reqStr(fs, ip, "name", strict); err != nil {
			return nil, err
		}
		pn, err := fs.required(ip, "properties")
		if err != nil {
			return nil, err
		}
		pp := pathJoin(ip, "properties")
		pfs, err := object(pn, pp, "struct SecretSourceProperty", nil, false)
		if err != nil {
			return nil, err
		}
		if s.Properties.Policy, err = reqStr(pfs, pp, "policy", strict); err != nil {
			return nil, err
		}
		if s.Properties.Key, err = reqStr(pfs, pp, "key", strict); err != nil {
			return nil, err
		}
		if s.Properties.Field, err = optStr(pfs, pp, "field", strict); err != nil {
			return nil, err
		}
		if s.Properties.Version, err = optStr(pfs, pp, "version", strict); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (d *decoder) trait(n *node, path string) (Trait, error) {
	var t Trait
	fs, err := object(n, path, "struct Trait", []string{"type", "properties"}, true)
	if err != nil {
		return t, err
	}
	if t.Type, err = reqStr(fs, path, "type", direct); err != nil {
		return t, err
	}
	pn, err := fs.required(path, "properties")
	if err != nil {
		return t, err
	}
	// Untagged: link shape, then scaler shape, then anything.
	if l, err := linkProperty(pn); err == nil {
		t.Properties.Link = l
	} else if s, err := spreadProperty(pn, d.stored && t.IsScaler()); err == nil {
		// (stored leniency only for scaler traits: a custom trait's map that merely looks
		// like a spread must not become a scaler when read back)
		t.Properties.Scaler = s
	} else {
		t.Properties.Custom = pn.toAny()
	}
	return t, nil
}

// linkProperty follows wadm-types' hand-written link decoder, including the
// deprecated string target, target_config and source_config forms.
func linkProperty(n *node) (*LinkProperty, error) {
	if n.kind != kMap {
		return nil, errors.New("link properties must be a map")
	}
	for _, k := range n.keys {
		if strings.HasPrefix(k, "\x00dup\x00") {
			return nil, errors.New("duplicate key")
		}
	}
	l := &LinkProperty{}
	if tn, ok := n.get("target"); ok {
		if tn.kind == kString {
			l.Target.Name = tn.s
			if tc, ok := n.get("target_config"); ok {
				cfg, err := configList(tc, "target_config")
				if err != nil {
					return nil, err
				}
				l.Target.Config = cfg
			}
		} else {
			fs, err := object(tn, "target", "struct TargetConfig", nil, false)
			if err != nil {
				return nil, err
			}
			if l.Target.Name, err = reqStr(fs, "target", "name", strict); err != nil {
				return nil, err
			}
			if cn, ok := fs["config"]; ok {
				if l.Target.Config, err = configList(cn, "target.config"); err != nil {
					return nil, err
				}
			}
			if sn, ok := fs["secrets"]; ok {
				if l.Target.Secrets, err = secretList(sn, "target.secrets"); err != nil {
					return nil, err
				}
			}
		}
	}
	if sc, ok := n.get("source_config"); ok {
		cfg, err := configList(sc, "source_config")
		if err != nil {
			return nil, err
		}
		l.Source = &ConfigDefinition{Config: cfg}
	}
	if sn, ok := n.get("source"); ok {
		src, err := configDefinition(sn, "source")
		if err != nil {
			return nil, err
		}
		l.Source = src
	}
	ns, ok1 := n.get("namespace")
	pkg, ok2 := n.get("package")
	ifs, ok3 := n.get("interfaces")
	if !ok1 || !ok2 || !ok3 {
		return nil, errors.New("namespace, package and interfaces are required")
	}
	// Rust unwraps these as strings (and would panic); we fall through instead.
	if ns.kind != kString || pkg.kind != kString || ifs.kind != kSeq {
		return nil, errors.New("namespace, package and interfaces must be strings")
	}
	l.Namespace, l.Package = ns.s, pkg.s
	l.Interfaces = make([]string, 0, len(ifs.seq))
	for _, i := range ifs.seq {
		if i.kind != kString {
			return nil, errors.New("interfaces must be strings")
		}
		l.Interfaces = append(l.Interfaces, i.s)
	}
	if nn, ok := n.get("name"); ok {
		if nn.kind != kString {
			return nil, errors.New("name must be a string")
		}
		name := nn.s
		l.Name = &name
	}
	return l, nil
}

func configDefinition(n *node, path string) (*ConfigDefinition, error) {
	fs, err := object(n, path, "struct ConfigDefinition", nil, false)
	if err != nil {
		return nil, err
	}
	cd := &ConfigDefinition{}
	if cn, ok := fs["config"]; ok {
		if cd.Config, err = configList(cn, pathJoin(path, "config")); err != nil {
			return nil, err
		}
	}
	if sn, ok := fs["secrets"]; ok {
		if cd.Secrets, err = secretList(sn, pathJoin(path, "secrets")); err != nil {
			return nil, err
		}
	}
	return cd, nil
}

func spreadProperty(n *node, stored bool) (*SpreadScalerProperty, error) {
	fs, err := object(n, "", "struct SpreadScalerProperty", []string{"instances", "replicas", "spread"}, true)
	if err != nil {
		return nil, err
	}
	_, hasI := fs["instances"]
	_, hasR := fs["replicas"]
	if hasI && hasR {
		return nil, errors.New("duplicate field `instances`")
	}
	in, ok := fs["instances"]
	if !ok {
		in, ok = fs["replicas"]
	}
	if !ok {
		return nil, errors.New("missing field `instances`")
	}
	s := &SpreadScalerProperty{}
	if s.Instances, err = usize(in, "instances"); err != nil {
		return nil, err
	}
	if sn, ok := fs["spread"]; ok {
		items, err := seq(sn, "spread", strict)
		if err != nil {
			return nil, err
		}
		s.Spread = make([]Spread, 0, len(items))
		for i, it := range items {
			ip := fmt.Sprintf("spread[%d]", i)
			sfs, err := object(it, ip, "struct Spread", []string{"name", "requirements", "weight"}, true)
			if err != nil {
				return nil, err
			}
			var sp Spread
			if sp.Name, err = reqStr(sfs, ip, "name", strict); err != nil {
				return nil, err
			}
			if rn, ok := sfs["requirements"]; ok {
				if sp.Requirements, err = stringMap(rn, pathJoin(ip, "requirements"), strict); err != nil {
					return nil, err
				}
			} else if stored {
				sp.Requirements = map[string]string{}
			} else {
				return nil, errAt(ip, "missing field `requirements`")
			}
			if wn, ok := sfs.present("weight"); ok {
				w, err := usize(wn, pathJoin(ip, "weight"))
				if err != nil {
					return nil, err
				}
				sp.Weight = &w
			}
			s.Spread = append(s.Spread, sp)
		}
	}
	return s, nil
}
