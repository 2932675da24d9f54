package wadm

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// oamSchema is oam.schema.json from the public wasmCloud/wadm repository
// (Apache-2.0, commit 589e98b), generated there from the Rust manifest types.
// It is structural only: no semantic rule of Validate is encoded in it, and it
// does not list the legacy component type alias "actor".
//
//go:embed oam.schema.json
var oamSchema []byte

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

func compiledSchema() (*jsonschema.Schema, error) {
	schemaOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(oamSchema))
		if err != nil {
			schemaErr = fmt.Errorf("load embedded OAM schema: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("oam.schema.json", doc); err != nil {
			schemaErr = fmt.Errorf("add embedded OAM schema: %w", err)
			return
		}
		schema, schemaErr = c.Compile("oam.schema.json")
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
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return fmt.Errorf("decode manifest JSON: %w", err)
	}
	return validateSchemaValue(v)
}

func validateSchemaValue(v any) error {
	s, err := compiledSchema()
	if err != nil {
		return err
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("manifest does not match the OAM schema: %w", err)
	}
	return nil
}

// schemaValue converts a node into the value model the validator expects
// (json.Number for numbers).
func schemaValue(n *node) any {
	switch n.kind {
	case kInt, kFloat:
		return json.Number(n.s)
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
