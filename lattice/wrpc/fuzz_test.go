package wrpc

import (
	"math"
	"reflect"
	"testing"
)

// fuzzType builds a type from the leading bytes of a fuzz input (bounded depth and width), so
// the decoder meets arbitrary type shapes as well as arbitrary bytes.
func fuzzType(b []byte, depth int) (*Type, []byte) {
	nodes := 0
	return fuzzTypeN(b, depth, &nodes)
}

func fuzzTypeN(b []byte, depth int, nodes *int) (*Type, []byte) {
	if len(b) == 0 {
		return U8, b
	}
	op, b := b[0], b[1:]
	*nodes++
	if depth > 4 || *nodes > 64 {
		op %= 13
	}
	fuzzType := func(b []byte, depth int) (*Type, []byte) { return fuzzTypeN(b, depth, nodes) }
	width := func() int {
		if len(b) == 0 {
			return 1
		}
		n := int(b[0]%4) + 1
		b = b[1:]
		return n
	}
	switch op % 24 {
	case 0:
		return Bool, b
	case 1:
		return S8, b
	case 2:
		return U8, b
	case 3:
		return S16, b
	case 4:
		return U16, b
	case 5:
		return S32, b
	case 6:
		return U32, b
	case 7:
		return S64, b
	case 8:
		return U64, b
	case 9:
		return F32, b
	case 10:
		return F64, b
	case 11:
		return Char, b
	case 12:
		return String, b
	case 13:
		e, rest := fuzzType(b, depth+1)
		return List(e), rest
	case 14, 15:
		n := width()
		fs := make([]Field, n)
		for i := range fs {
			fs[i].Type, b = fuzzType(b, depth+1)
		}
		if op%24 == 14 {
			return Record(fs...), b
		}
		ts := make([]*Type, n)
		for i := range fs {
			ts[i] = fs[i].Type
		}
		return Tuple(ts...), b
	case 16:
		n := width() * 40 // more than 128 cases now and then
		cs := make([]Case, n)
		for i := range cs {
			if i%3 == 0 {
				cs[i].Type, b = fuzzType(b, depth+1)
			}
		}
		return Variant(cs...), b
	case 17:
		return Enum(make([]string, width()*3)...), b
	case 18:
		e, rest := fuzzType(b, depth+1)
		return Option(e), rest
	case 19:
		ok, rest := fuzzType(b, depth+1)
		er, rest := fuzzType(rest, depth+1)
		if len(rest) > 0 && rest[0]%3 == 0 {
			ok = nil
		}
		return Result(ok, er), rest
	case 20:
		return Flags(make([]string, width()*8-3)...), b
	case 21:
		return Own("r"), b
	case 22:
		e, rest := fuzzType(b, depth+1)
		return Future(e), rest
	default:
		e, rest := fuzzType(b, depth+1)
		return Stream(e), rest
	}
}

// FuzzDecode: no input makes the decoder panic or allocate without bound; whatever decodes
// re-encodes to bytes that decode to the same value.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"\x02\x0c\x03" + "\x01\x03\x07default\x03foo",
		"\x13\x12\x0d\x02\x13\x08\x10\x00\x00\x01\x03bar",
		"\x0f\x03\x00\x02\x0c\x06\x01\xfe\x04test\x42",
		"\x10\x03\x96\x01\x07",
		"\x14\x02\x05",
		"\x0c\x08\xc6\x92\xf0\x90\x8d\x88\xc5\x90",
		"\x17\x02\x00",
		"\x16\x0d\x08\x01\x02\x2a\x80\x1e",
		"\x05\xff\xff\xff\xff\x0f",
		"\x0d\x0f\x00\xff\xff\xff\xff\x0f",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		typ, wire := fuzzType(in, 0)
		d := decoder{r: newBytesReader(wire, 1<<20)}
		v, err := d.value(typ, nil)
		if err != nil || typ.hasAsync() {
			return
		}
		b, err := AppendValue(nil, typ, v)
		if err != nil {
			t.Fatalf("decoded %#v of %s but cannot re-encode it: %v", v, typ, err)
		}
		back, err := DecodeValue(b, typ)
		if err != nil {
			t.Fatalf("re-encoded %x of %s does not decode: %v", b, typ, err)
		}
		if !hasNaN(v) && !reflect.DeepEqual(back, v) {
			t.Fatalf("%s: %#v -> %x -> %#v", typ, v, b, back)
		}
	})
}

func hasNaN(v Value) bool {
	switch x := v.(type) {
	case float32:
		return math.IsNaN(float64(x))
	case float64:
		return math.IsNaN(x)
	case []Value:
		for _, e := range x {
			if hasNaN(e) {
				return true
			}
		}
	case OptionValue:
		return hasNaN(x.Value)
	case ResultValue:
		return hasNaN(x.Value)
	case VariantValue:
		return hasNaN(x.Value)
	}
	return false
}
