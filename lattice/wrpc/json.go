package wrpc

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The JSON form of component values (used by `wash call`):
//
//	bool, integers, floats   JSON booleans and numbers (64-bit integers also as strings;
//	                         "NaN", "Infinity", "-Infinity" for floats)
//	char, string             a string (one character for char)
//	list<u8>                 a string (its UTF-8 bytes) or an array of numbers; printed as a
//	                         string when the bytes are UTF-8, else as numbers
//	list<T>, tuple           an array
//	record                   an object keyed by field name (every field required)
//	variant                  {"case": payload}, or "case" for a case without payload
//	enum                     "case"
//	option<T>                null for none, the value for some ({"some": v} also accepted,
//	                         and printed when T is itself an option)
//	result<T, E>             {"ok": v} or {"err": v} (null for no payload)
//	flags                    an array of the set labels
//	own<R>, borrow<R>        the handle bytes in hex
//
// Futures and streams have no JSON form.

// ValueFromJSON parses the JSON form of a value of type t.
func ValueFromJSON(t *Type, data []byte) (Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not valid JSON: more than one value")
	}
	return fromJSON(t, x)
}

func jsonKind(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", x)
}

func expected(t *Type, want string, x any) error {
	got := jsonKind(x)
	if s, ok := x.(string); ok {
		got = strconv.Quote(s)
	} else if n, ok := x.(json.Number); ok {
		got = n.String()
	}
	return fmt.Errorf("%s: expected %s, got %s", t, want, got)
}

func numberOf(x any) (string, bool) {
	switch v := x.(type) {
	case json.Number:
		return v.String(), true
	case string:
		return strings.TrimSpace(v), true
	}
	return "", false
}

func fromJSON(t *Type, x any) (Value, error) {
	switch t.Kind {
	case KBool:
		b, ok := x.(bool)
		if !ok {
			return nil, expected(t, "true or false", x)
		}
		return b, nil
	case KU8, KU16, KU32, KU64:
		s, ok := numberOf(x)
		bits := intBits(t.Kind)
		u, err := strconv.ParseUint(s, 10, int(bits))
		if !ok || err != nil {
			return nil, expected(t, fmt.Sprintf("an integer from 0 to %d", uint64(math.MaxUint64)>>(64-bits)), x)
		}
		return integerOfKind[t.Kind](u), nil
	case KS8, KS16, KS32, KS64:
		s, ok := numberOf(x)
		bits := intBits(t.Kind)
		n, err := strconv.ParseInt(s, 10, int(bits))
		if !ok || err != nil {
			return nil, expected(t, fmt.Sprintf("an integer from %d to %d", -(int64(1)<<(bits-1)), int64(1)<<(bits-1)-1), x)
		}
		return integerOfKind[t.Kind](uint64(n)), nil
	case KF32, KF64:
		s, ok := numberOf(x)
		var f float64
		var err error
		switch s {
		case "NaN":
			f = math.NaN()
		case "Infinity", "inf":
			f = math.Inf(1)
		case "-Infinity", "-inf":
			f = math.Inf(-1)
		default:
			f, err = strconv.ParseFloat(s, 64)
		}
		if !ok || err != nil {
			return nil, expected(t, "a number", x)
		}
		if t.Kind == KF32 {
			return float32(f), nil
		}
		return f, nil
	case KChar:
		s, ok := x.(string)
		if !ok || utf8.RuneCountInString(s) != 1 {
			return nil, expected(t, "a one-character string", x)
		}
		r, _ := utf8.DecodeRuneInString(s)
		return r, nil
	case KString:
		s, ok := x.(string)
		if !ok {
			return nil, expected(t, "a string", x)
		}
		return s, nil
	case KList:
		if t.Elem.Kind == KU8 {
			if s, ok := x.(string); ok {
				return []byte(s), nil
			}
		}
		xs, ok := x.([]any)
		if !ok {
			return nil, expected(t, "an array", x)
		}
		if t.Elem.Kind == KU8 {
			out := make([]byte, len(xs))
			for i, e := range xs {
				v, err := fromJSON(U8, e)
				if err != nil {
					return nil, fmt.Errorf("element %d: %w", i, err)
				}
				out[i] = v.(uint8)
			}
			return out, nil
		}
		out := make([]Value, len(xs))
		for i, e := range xs {
			v, err := fromJSON(t.Elem, e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = v
		}
		return out, nil
	case KTuple:
		xs, ok := x.([]any)
		if !ok || len(xs) != len(t.Fields) {
			return nil, expected(t, fmt.Sprintf("an array of %d values", len(t.Fields)), x)
		}
		out := make([]Value, len(xs))
		for i, e := range xs {
			v, err := fromJSON(t.Fields[i].Type, e)
			if err != nil {
				return nil, fmt.Errorf("member %d: %w", i, err)
			}
			out[i] = v
		}
		return out, nil
	case KRecord:
		m, ok := x.(map[string]any)
		if !ok {
			return nil, expected(t, "an object", x)
		}
		out := make([]Value, len(t.Fields))
		for i, f := range t.Fields {
			e, ok := m[f.Name]
			if !ok {
				return nil, fmt.Errorf("%s: field %q is missing", t, f.Name)
			}
			v, err := fromJSON(f.Type, e)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
			out[i] = v
		}
		if len(m) > len(t.Fields) {
			for k := range m {
				if !hasField(t, k) {
					return nil, fmt.Errorf("%s has no field %q", t, k)
				}
			}
		}
		return out, nil
	case KVariant:
		name, payload, err := caseOf(t, x)
		if err != nil {
			return nil, err
		}
		for i, c := range t.Cases {
			if c.Name != name {
				continue
			}
			if c.Type == nil {
				return VariantValue{Case: uint32(i)}, nil
			}
			v, err := fromJSON(c.Type, payload)
			if err != nil {
				return nil, fmt.Errorf("case %s: %w", name, err)
			}
			return VariantValue{Case: uint32(i), Value: v}, nil
		}
		return nil, fmt.Errorf("%s has no case %q (cases: %s)", t, name, caseNames(t))
	case KEnum:
		s, ok := x.(string)
		if ok {
			for i, l := range t.Labels {
				if l == s {
					return uint32(i), nil
				}
			}
		}
		return nil, expected(t, "one of "+strings.Join(t.Labels, ", "), x)
	case KOption:
		if x == nil {
			return None(), nil
		}
		if m, ok := x.(map[string]any); ok && len(m) == 1 {
			if inner, ok := m["some"]; ok {
				v, err := fromJSON(t.Elem, inner)
				return Some(v), err
			}
		}
		v, err := fromJSON(t.Elem, x)
		if err != nil {
			return nil, err
		}
		return Some(v), nil
	case KResult:
		m, ok := x.(map[string]any)
		if !ok || len(m) != 1 {
			return nil, expected(t, `{"ok": ...} or {"err": ...}`, x)
		}
		for k, e := range m {
			side, isErr := t.Ok, false
			switch k {
			case "ok":
			case "err", "error":
				side, isErr = t.Err, true
			default:
				return nil, expected(t, `{"ok": ...} or {"err": ...}`, x)
			}
			if side == nil {
				if e != nil {
					return nil, fmt.Errorf("%s: %s has no payload, give null", t, k)
				}
				return ResultValue{IsErr: isErr}, nil
			}
			v, err := fromJSON(side, e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			return ResultValue{IsErr: isErr, Value: v}, nil
		}
	case KFlags:
		xs, ok := x.([]any)
		if !ok {
			return nil, expected(t, "an array of flag names", x)
		}
		var u uint32
		for _, e := range xs {
			s, _ := e.(string)
			found := false
			for i, l := range t.Labels {
				if l == s {
					u |= 1 << i
					found = true
				}
			}
			if !found {
				return nil, fmt.Errorf("%s has no flag %v (flags: %s)", t, e, strings.Join(t.Labels, ", "))
			}
		}
		return u, nil
	case KOwn, KBorrow:
		s, ok := x.(string)
		b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
		if !ok || err != nil {
			return nil, expected(t, "a resource handle in hex", x)
		}
		return Handle(b), nil
	}
	return nil, fmt.Errorf("%s values have no JSON form", t.Kind)
}

func hasField(t *Type, name string) bool {
	for _, f := range t.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

func caseNames(t *Type) string {
	names := make([]string, len(t.Cases))
	for i, c := range t.Cases {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func caseOf(t *Type, x any) (string, any, error) {
	switch v := x.(type) {
	case string:
		return v, nil, nil
	case map[string]any:
		if len(v) == 1 {
			for k, p := range v {
				return k, p, nil
			}
		}
	}
	return "", nil, expected(t, `"case" or {"case": payload}`, x)
}

// valuesToJSON returns the JSON array of a list or tuple value, element i of type typeOf(i).
func valuesToJSON(v Value, typeOf func(i int) *Type) (any, error) {
	xs, _ := v.([]Value)
	out := make([]any, len(xs))
	for i, x := range xs {
		j, err := ValueToJSON(typeOf(i), x)
		if err != nil {
			return nil, err
		}
		out[i] = j
	}
	return out, nil
}

// ValueToJSON returns the JSON form of v (of type t), ready for encoding/json.
func ValueToJSON(t *Type, v Value) (any, error) {
	switch t.Kind {
	case KBool, KString:
		return v, nil
	case KS8, KS16, KS32, KS64, KU8, KU16, KU32, KU64:
		return json.Number(fmt.Sprint(v)), nil
	case KF32, KF64:
		f, _ := asFloat64(v)
		switch {
		case math.IsNaN(f):
			return "NaN", nil
		case math.IsInf(f, 1):
			return "Infinity", nil
		case math.IsInf(f, -1):
			return "-Infinity", nil
		}
		return v, nil
	case KChar:
		r, _ := v.(rune)
		return string(r), nil
	case KList:
		if b, ok := v.([]byte); ok {
			if utf8.Valid(b) {
				return string(b), nil
			}
			out := make([]any, len(b))
			for i, x := range b {
				out[i] = json.Number(strconv.Itoa(int(x)))
			}
			return out, nil
		}
		return valuesToJSON(v, func(int) *Type { return t.Elem })
	case KTuple:
		return valuesToJSON(v, func(i int) *Type { return t.Fields[i].Type })
	case KRecord:
		xs, _ := v.([]Value)
		out := make(map[string]any, len(xs))
		for i, x := range xs {
			j, err := ValueToJSON(t.Fields[i].Type, x)
			if err != nil {
				return nil, err
			}
			out[t.Fields[i].Name] = j
		}
		return out, nil
	case KVariant:
		vv, _ := v.(VariantValue)
		c := t.Cases[vv.Case]
		if c.Type == nil {
			return c.Name, nil
		}
		j, err := ValueToJSON(c.Type, vv.Value)
		return map[string]any{c.Name: j}, err
	case KEnum:
		u, _ := v.(uint32)
		return t.Labels[u], nil
	case KOption:
		o, _ := v.(OptionValue)
		if !o.IsSome {
			return nil, nil
		}
		j, err := ValueToJSON(t.Elem, o.Value)
		if t.Elem.Kind == KOption {
			return map[string]any{"some": j}, err
		}
		return j, err
	case KResult:
		r, _ := v.(ResultValue)
		side, key := t.Ok, "ok"
		if r.IsErr {
			side, key = t.Err, "err"
		}
		if side == nil {
			return map[string]any{key: nil}, nil
		}
		j, err := ValueToJSON(side, r.Value)
		return map[string]any{key: j}, err
	case KFlags:
		u, _ := v.(uint32)
		out := []any{}
		for i, l := range t.Labels {
			if u&(1<<i) != 0 {
				out = append(out, l)
			}
		}
		return out, nil
	case KOwn, KBorrow:
		h, _ := v.(Handle)
		return hex.EncodeToString(h), nil
	}
	return nil, fmt.Errorf("%s values have no JSON form", t.Kind)
}
