package model

// The generic document tree: YAML and JSON manifests both become the same tree of nodes first,
// with bounds on size and depth and duplicate keys noted, so the typed decoding (decode.go)
// reports one set of errors whatever the format.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

type nodeKind int

const (
	kNull nodeKind = iota
	kBool
	kInt   // integer literal; text in s
	kFloat // other number; text in s
	kString
	kSeq
	kMap
)

// node is a format-neutral value that keeps the scalar kind, so that the
// decoder can apply serde's rules (buffered/untagged positions are typed,
// direct YAML string positions accept any scalar).
type node struct {
	kind nodeKind
	s    string // scalar text
	b    bool
	seq  []*node
	keys []string
	vals []*node
	// fromYAML marks scalars that came from YAML (serde_yaml reads any scalar
	// into a String in direct positions).
	fromYAML bool
}

func (n *node) describe() string {
	switch n.kind {
	case kNull:
		return "null"
	case kBool:
		return fmt.Sprintf("boolean `%t`", n.b)
	case kInt:
		return fmt.Sprintf("integer `%s`", n.s)
	case kFloat:
		return fmt.Sprintf("floating point `%s`", n.s)
	case kString:
		return fmt.Sprintf("string %s", quoteRust(n.s))
	case kSeq:
		return "sequence"
	default:
		return "map"
	}
}

// maxNodes bounds alias expansion ("billion laughs") and huge inputs.
const maxNodes = 1 << 20

func yamlToNode(data []byte) (*node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("EOF while parsing a value")
		}
		return nil, fmt.Errorf("invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, errors.New("deserializing from YAML containing more than one document is not supported")
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	budget := maxNodes
	return convertYAML(&doc, &budget, 0)
}

func convertYAML(y *yaml.Node, budget *int, depth int) (*node, error) {
	*budget--
	if *budget < 0 {
		return nil, errors.New("document too large (too many nodes after alias expansion)")
	}
	if depth > 256 {
		return nil, errors.New("recursion limit exceeded")
	}
	switch y.Kind {
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &node{kind: kNull, fromYAML: true}, nil
		}
		return convertYAML(y.Content[0], budget, depth+1)
	case yaml.AliasNode:
		if y.Alias == nil {
			return nil, errors.New("unknown anchor")
		}
		return convertYAML(y.Alias, budget, depth+1)
	case yaml.SequenceNode:
		n := &node{kind: kSeq, seq: make([]*node, 0, len(y.Content))}
		for _, c := range y.Content {
			v, err := convertYAML(c, budget, depth+1)
			if err != nil {
				return nil, err
			}
			n.seq = append(n.seq, v)
		}
		return n, nil
	case yaml.MappingNode:
		n := &node{kind: kMap}
		seen := map[string]bool{}
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, err := convertYAML(y.Content[i], budget, depth+1)
			if err != nil {
				return nil, err
			}
			if k.kind == kSeq || k.kind == kMap {
				return nil, fmt.Errorf("line %d: mapping keys must be scalars", y.Content[i].Line)
			}
			key := k.s
			if k.kind == kNull {
				key = ""
			}
			if seen[key] {
				return nil, fmt.Errorf("line %d: duplicate entry with key %s", y.Content[i].Line, quoteRust(key))
			}
			seen[key] = true
			v, err := convertYAML(y.Content[i+1], budget, depth+1)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, key)
			n.vals = append(n.vals, v)
		}
		return n, nil
	case yaml.ScalarNode:
		return yamlScalar(y)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", y.Line)
}

func yamlScalar(y *yaml.Node) (*node, error) {
	n := &node{s: y.Value, fromYAML: true}
	switch y.ShortTag() {
	case "!!str", "!!binary", "!!timestamp":
		n.kind = kString
	case "!!null":
		n.kind = kNull
	case "!!bool":
		n.kind = kBool
		var b bool
		if err := y.Decode(&b); err != nil {
			n.kind = kString
		} else {
			n.b = b
		}
	case "!!int":
		var v any
		if err := y.Decode(&v); err != nil {
			n.kind = kString
			break
		}
		switch iv := v.(type) {
		case int:
			n.kind, n.s = kInt, strconv.FormatInt(int64(iv), 10)
		case int64:
			n.kind, n.s = kInt, strconv.FormatInt(iv, 10)
		case uint64:
			n.kind, n.s = kInt, strconv.FormatUint(iv, 10)
		case float64:
			n.kind, n.s = kFloat, strconv.FormatFloat(iv, 'g', -1, 64)
		default:
			n.kind = kString
		}
	case "!!float":
		var f float64
		if err := y.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			// NaN/inf have no JSON form; keep the text.
			n.kind = kFloat
			break
		}
		n.kind = kFloat
	default:
		return nil, fmt.Errorf("line %d: unsupported YAML tag %s", y.Line, y.Tag)
	}
	return n, nil
}

func jsonToNode(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	budget := maxNodes
	n, err := jsonValue(dec, &budget, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing characters after the JSON value")
	}
	return n, nil
}

func jsonValue(dec *json.Decoder, budget *int, depth int) (*node, error) {
	*budget--
	if *budget < 0 {
		return nil, errors.New("document too large")
	}
	if depth > 256 {
		return nil, errors.New("recursion limit exceeded")
	}
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("EOF while parsing a value")
		}
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	switch t := tok.(type) {
	case nil:
		return &node{kind: kNull}, nil
	case bool:
		return &node{kind: kBool, b: t}, nil
	case string:
		return &node{kind: kString, s: t}, nil
	case json.Number:
		if _, err := strconv.ParseInt(t.String(), 10, 64); err == nil {
			return &node{kind: kInt, s: t.String()}, nil
		}
		if _, err := strconv.ParseUint(t.String(), 10, 64); err == nil {
			return &node{kind: kInt, s: t.String()}, nil
		}
		return &node{kind: kFloat, s: t.String()}, nil
	case json.Delim:
		switch t {
		case '[':
			n := &node{kind: kSeq, seq: []*node{}}
			for dec.More() {
				v, err := jsonValue(dec, budget, depth+1)
				if err != nil {
					return nil, err
				}
				n.seq = append(n.seq, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("invalid JSON: %v", err)
			}
			return n, nil
		case '{':
			n := &node{kind: kMap}
			idx := map[string]int{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("invalid JSON: %v", err)
				}
				key, _ := kt.(string)
				v, err := jsonValue(dec, budget, depth+1)
				if err != nil {
					return nil, err
				}
				// serde_json keeps the last of duplicate keys in maps; struct
				// fields reject duplicates, which the decoder checks itself.
				if i, ok := idx[key]; ok {
					n.vals[i] = v
					n.dupKey(key)
					continue
				}
				idx[key] = len(n.keys)
				n.keys = append(n.keys, key)
				n.vals = append(n.vals, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("invalid JSON: %v", err)
			}
			return n, nil
		}
	}
	return nil, fmt.Errorf("invalid JSON token %v", tok)
}

// dupKey records a duplicate JSON key (struct decoding rejects it).
func (n *node) dupKey(k string) {
	n.keys = append(n.keys, "\x00dup\x00"+k)
	n.vals = append(n.vals, nil)
}

func (n *node) get(key string) (*node, bool) {
	if n == nil || n.kind != kMap {
		return nil, false
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i], true
		}
	}
	return nil, false
}

// toAny converts a node into the JSON value serde_json would hold (custom
// trait properties): maps sorted by Go's encoder, numbers as json.Number.
func (n *node) toAny() any {
	switch n.kind {
	case kNull:
		return nil
	case kBool:
		return n.b
	case kInt:
		return json.Number(n.s)
	case kFloat:
		f, err := strconv.ParseFloat(n.s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		if float64(int64(f)) == f && !strings.ContainsAny(n.s, "eE") && math.Abs(f) < 1e15 {
			// serde_json prints whole floats with a trailing ".0".
			return json.Number(strconv.FormatFloat(f, 'f', 1, 64))
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	case kString:
		return n.s
	case kSeq:
		out := make([]any, 0, len(n.seq))
		for _, v := range n.seq {
			out = append(out, v.toAny())
		}
		return out
	default:
		out := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			if n.vals[i] == nil {
				continue
			}
			out[k] = n.vals[i].toAny()
		}
		return out
	}
}
