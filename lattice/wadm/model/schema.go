package model

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"
)

// oamSchema is oam.schema.json from the public wasmCloud/wadm repository
// (Apache-2.0, commit 589e98b), generated there from the Rust manifest types.
// It is structural only: no semantic rule of Validate is encoded in it, and it
// does not list the legacy component type alias "actor".
//
//go:embed oam.schema.json
var oamSchema []byte

// The validator library was chosen for having no costly package init: it is
// linked into every wash command, while only manifest validation uses it.
var (
	schemaOnce sync.Once
	schema     *schemaChecker
	schemaErr  error
)

// schemaChecker decides acceptance with the library on the whole document and,
// on failure, walks the schema tree to name the first failing location (the
// library reports schema locations, not document paths).
type schemaChecker struct {
	root *jsonschema.Schema // tree walked to locate failures
	full *jsonschema.Resolved

	mu  sync.Mutex
	sub map[string]*jsonschema.Resolved // by JSON pointer into the schema
}

func compiledSchema() (*schemaChecker, error) {
	schemaOnce.Do(func() {
		var root jsonschema.Schema
		if err := json.Unmarshal(oamSchema, &root); err != nil {
			schemaErr = fmt.Errorf("load embedded OAM schema: %w", err)
			return
		}
		full, err := root.Resolve(nil)
		if err != nil {
			schemaErr = fmt.Errorf("resolve embedded OAM schema: %w", err)
			return
		}
		schema = &schemaChecker{root: &root, full: full, sub: map[string]*jsonschema.Resolved{}}
	})
	return schema, schemaErr
}

// OAMSchema returns the embedded JSON schema bytes.
func OAMSchema() []byte { return bytes.Clone(oamSchema) }

// ValidateSchema checks a YAML or JSON manifest document against the OAM JSON
// schema. Upstream's server never does this; it is offered to tools.
func ValidateSchema(data []byte) error {
	n, err := yamlToNode(data)
	if err != nil {
		if n, err = jsonToNode(data); err != nil {
			return &ParseError{Detail: err.Error()}
		}
	}
	return validateSchemaValue(schemaValue(n))
}

// ValidateManifestSchema checks the canonical JSON form of m against the
// schema.
func ValidateManifestSchema(m *Manifest) error {
	js, err := m.MarshalCanonical()
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	n, err := jsonToNode(js)
	if err != nil {
		return fmt.Errorf("decode manifest JSON: %w", err)
	}
	return validateSchemaValue(schemaValue(n))
}

func validateSchemaValue(v any) error {
	s, err := compiledSchema()
	if err != nil {
		return err
	}
	if err := s.full.Validate(v); err != nil {
		return fmt.Errorf("manifest does not match the OAM schema %s", s.explain(v, err))
	}
	return nil
}

// schemaValue converts a node into the value model the validator expects:
// int64/uint64 for integers, float64 for other numbers (the library would see
// a json.Number as a string).
func schemaValue(n *node) any {
	switch n.kind {
	case kInt:
		if i, err := strconv.ParseInt(n.s, 10, 64); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(n.s, 10, 64); err == nil {
			return u
		}
		return yamlFloat(n.s)
	case kFloat:
		return yamlFloat(n.s)
	case kSeq:
		out := make([]any, 0, len(n.seq))
		for _, v := range n.seq {
			out = append(out, schemaValue(v))
		}
		return out
	case kMap:
		out := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			if n.vals[i] != nil {
				out[k] = schemaValue(n.vals[i])
			}
		}
		return out
	default:
		return n.toAny()
	}
}

// yamlFloat reads JSON and YAML float texts (including .inf and .nan, which
// stay numbers here: the schema only asks whether a value is a number).
func yamlFloat(s string) float64 {
	if f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64); err == nil {
		return f
	}
	switch strings.ToLower(strings.TrimPrefix(s, "+")) {
	case ".inf":
		return math.Inf(1)
	case "-.inf":
		return math.Inf(-1)
	}
	return math.NaN()
}

// ---- locating the failure ---------------------------------------------------

// explain names the first failing document path and what is wrong there, in
// one line. libErr is the library's verdict, used only if the walk finds
// nothing more precise.
func (c *schemaChecker) explain(v any, libErr error) string {
	if p := c.locate(c.root, "", v, ""); p != nil {
		return p.String()
	}
	msg := libErr.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return atPath("") + ": " + clip(strings.Join(strings.Fields(msg), " "), 120)
}

// problem is one located schema violation. want is set for enum mismatches
// so that failed alternatives at one path can be merged.
type problem struct {
	path string
	msg  string
	got  any
	want []any
}

func (p *problem) String() string {
	if p.want != nil {
		return fmt.Sprintf("%s: got %s, want %s", atPath(p.path), show(p.got), showList(p.want))
	}
	return atPath(p.path) + ": " + p.msg
}

func atPath(path string) string {
	if path == "" {
		return "at the document root"
	}
	return "at " + path
}

// valid reports whether v satisfies the subschema at ptr, asking the library
// (a copy of the whole schema whose root refers to ptr, so that every
// reference resolves as in the original).
func (c *schemaChecker) valid(ptr string, v any) bool {
	if ptr == "" {
		return c.full.Validate(v) == nil
	}
	c.mu.Lock()
	r, ok := c.sub[ptr]
	if !ok {
		var s jsonschema.Schema
		if err := json.Unmarshal(oamSchema, &s); err == nil {
			s.Ref = "#" + ptr
			r, _ = s.Resolve(nil)
		}
		c.sub[ptr] = r
	}
	c.mu.Unlock()
	if r == nil {
		return false
	}
	return r.Validate(v) == nil
}

// locate descends into the first part of v that fails s (at schema pointer
// ptr, document path path) and describes the violation there. It returns
// nil if it cannot tell.
func (c *schemaChecker) locate(s *jsonschema.Schema, ptr string, v any, path string) *problem {
	if s == nil {
		return nil
	}
	if s.Ref != "" {
		// Draft-07: $ref replaces its siblings. The embedded schema only
		// refers to its own definitions.
		name, ok := strings.CutPrefix(s.Ref, "#/definitions/")
		if !ok || c.root.Definitions[name] == nil {
			return nil
		}
		return c.locate(c.root.Definitions[name], "/definitions/"+name, v, path)
	}
	if isFalseSchema(s) {
		return &problem{path: path, msg: "no value is allowed here"}
	}
	if got := jsonKind(v); s.Type != "" && !kindMatches(got, s.Type) ||
		s.Types != nil && !slices.ContainsFunc(s.Types, func(t string) bool { return kindMatches(got, t) }) {
		want := s.Type
		if want == "" {
			want = "one of " + strings.Join(s.Types, ", ")
		}
		return &problem{path: path, msg: fmt.Sprintf("got %s, want %s", got, want)}
	}
	if s.Enum != nil && !slices.ContainsFunc(s.Enum, func(e any) bool { return sameJSON(e, v) }) {
		return &problem{path: path, got: v, want: s.Enum}
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range s.Required {
			if _, ok := x[k]; !ok {
				return &problem{path: path, msg: fmt.Sprintf("missing required key %q", k)}
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			kp := path + "/" + escapePointer(k)
			if ps, ok := s.Properties[k]; ok {
				sp := ptr + "/properties/" + escapePointer(k)
				if !c.valid(sp, x[k]) {
					return orAt(c.locate(ps, sp, x[k], kp), kp)
				}
				continue
			}
			if s.AdditionalProperties == nil {
				continue
			}
			if isFalseSchema(s.AdditionalProperties) {
				return &problem{path: path, msg: fmt.Sprintf("unknown key %q", k)}
			}
			sp := ptr + "/additionalProperties"
			if !c.valid(sp, x[k]) {
				return orAt(c.locate(s.AdditionalProperties, sp, x[k], kp), kp)
			}
		}
	case []any:
		if s.Items != nil {
			sp := ptr + "/items"
			for i, e := range x {
				if !c.valid(sp, e) {
					ip := path + "/" + strconv.Itoa(i)
					return orAt(c.locate(s.Items, sp, e, ip), ip)
				}
			}
		}
	}
	if s.Minimum != nil {
		if f, ok := toFloat(v); ok && f < *s.Minimum {
			return &problem{path: path, msg: fmt.Sprintf("got %s, want at least %s", show(v), strconv.FormatFloat(*s.Minimum, 'g', -1, 64))}
		}
	}
	for i, sub := range s.AllOf {
		sp := ptr + "/allOf/" + strconv.Itoa(i)
		if !c.valid(sp, v) {
			return orAt(c.locate(sub, sp, v, path), path)
		}
	}
	if p := c.alternatives(s.AnyOf, ptr+"/anyOf/", v, path, false); p != nil {
		return p
	}
	return c.alternatives(s.OneOf, ptr+"/oneOf/", v, path, true)
}

// alternatives explains an anyOf (one=false) or oneOf failure: when every
// alternative fails on the same enum at the same path, the allowed values are
// merged into one message.
func (c *schemaChecker) alternatives(alts []*jsonschema.Schema, ptr string, v any, path string, one bool) *problem {
	if len(alts) == 0 {
		return nil
	}
	var fails []*problem
	matched := 0
	for i, sub := range alts {
		sp := ptr + strconv.Itoa(i)
		if c.valid(sp, v) {
			matched++
			continue
		}
		fails = append(fails, c.locate(sub, sp, v, path))
	}
	switch {
	case matched == 0:
		merged := &problem{path: "", got: nil, want: []any{}}
		for i, f := range fails {
			if f == nil || f.want == nil || (i > 0 && f.path != merged.path) {
				merged = nil
				break
			}
			merged.path, merged.got = f.path, f.got
			merged.want = append(merged.want, f.want...)
		}
		if merged != nil {
			return merged
		}
		// Alternatives that fail the same way (a shared required key or
		// property) are reported once.
		var parts []string
		for i, f := range fails {
			part := fmt.Sprintf("form %d does not match", i+1)
			if f != nil {
				part = f.String()
			}
			if !slices.Contains(parts, part) {
				parts = append(parts, part)
			}
		}
		if len(parts) == 1 && fails[0] != nil {
			return fails[0]
		}
		return &problem{path: path, msg: "matches none of the allowed forms (" + strings.Join(parts, "; ") + ")"}
	case one && matched > 1:
		return &problem{path: path, msg: "matches more than one of the allowed forms"}
	}
	return nil
}

func orAt(p *problem, path string) *problem {
	if p != nil {
		return p
	}
	return &problem{path: path, msg: "does not match the schema"}
}

// isEmptySchema reports the schema `true` (or `{}`), which accepts anything.
func isEmptySchema(s *jsonschema.Schema) bool {
	return reflect.DeepEqual(*s, jsonschema.Schema{})
}

// isFalseSchema reports the schema `false`, which the library reads as
// {"not": {}}.
func isFalseSchema(s *jsonschema.Schema) bool {
	return reflect.DeepEqual(*s, jsonschema.Schema{Not: &jsonschema.Schema{}})
}

// jsonKind names the JSON type of a schemaValue value.
func jsonKind(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case int64, uint64:
		return "integer"
	case float64:
		if _, frac := math.Modf(x); frac == 0 {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func kindMatches(got, want string) bool {
	return got == want || got == "integer" && want == "number"
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

func escapePointer(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

// show renders a value briefly for a one-line message.
func show(v any) string {
	switch jsonKind(v) {
	case "array":
		return "an array"
	case "object":
		return "an object"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return clip(string(b), 60)
}

func showList(vs []any) string {
	if len(vs) == 1 {
		return show(vs[0])
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = show(v)
	}
	return "one of " + strings.Join(parts, ", ")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
