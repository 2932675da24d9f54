package wrpc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// The vectors below come from upstream's own tests (wasm-tokio v0.6.0 leb128-tokio/src/lib.rs,
// src/core.rs, src/cm/values.rs; wrpc-transport 0.28.4 src/value.rs; wrpc v0.15.0
// tests/rust.rs test.sync) and from the worked examples of the wRPC reference (§2.7, §7.5).

func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkRead fails t unless hex decodes with read as the bits-wide integer want.
func checkRead[T uint64 | int64](t *testing.T, read func(byteSource, uint) (T, error), hexs string, bits uint, want T) {
	t.Helper()
	if v, err := read(&byteSlice{hx(t, hexs)}, bits); err != nil || v != want {
		t.Errorf("read %s as %d bits = %d (%#x), %v; want %d (%#x)", hexs, bits, v, v, err, want, want)
	}
}

// lebWidth is an encoding read as a bits-wide integer.
type lebWidth struct {
	hex  string
	bits uint
}

// checkOverflows fails t unless read refuses each encoding as too large for its width.
func checkOverflows[T uint64 | int64](t *testing.T, read func(byteSource, uint) (T, error), cases []lebWidth) {
	t.Helper()
	for _, c := range cases {
		if v, err := read(&byteSlice{hx(t, c.hex)}, c.bits); !errors.Is(err, ErrOverflow) {
			t.Errorf("read %s as %d bits = %d, %v; want overflow", c.hex, c.bits, v, err)
		}
	}
}

type byteSlice struct {
	b []byte
}

func (s *byteSlice) readByte() (byte, error) {
	if len(s.b) == 0 {
		return 0, ErrIncomplete
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c, nil
}

func TestUnsignedLEB128(t *testing.T) {
	for _, c := range []struct {
		v    uint64
		bits uint
		hex  string
	}{
		{624485, 32, "e58e26"}, {0, 32, "00"}, {1, 32, "01"}, {127, 32, "7f"}, {128, 32, "8001"},
		{300, 32, "ac02"}, {0xfeff, 16, "fffd03"}, {0xfeffffff, 32, "fffffff70f"},
		{math.MaxUint32, 32, "ffffffff0f"}, {0xfeffffffffffffff, 64, "fffffffffffffffffe01"},
		{math.MaxUint64, 64, "ffffffffffffffffff01"},
	} {
		if got := hex.EncodeToString(AppendUleb(nil, c.v)); got != c.hex {
			t.Errorf("uleb %d = %s, want %s", c.v, got, c.hex)
		}
		checkRead(t, readUleb, c.hex, c.bits, c.v)
	}
	// accepted padding and width edges (leb128-tokio tests)
	for _, c := range []struct {
		hex  string
		bits uint
		v    uint64
	}{{"ff01", 16, 0xff}, {"ffff01", 16, 0x7fff}, {"ffff02", 16, 0xbfff}, {"ffff03", 16, 0xffff}} {
		checkRead(t, readUleb, c.hex, c.bits, c.v)
	}
	checkOverflows(t, readUleb, []lebWidth{{"ffff04", 16}, {"ffffffff10", 32}, {"ffffffffffffffffff02", 64}, {"ffffffffffff", 32}})
}

func TestSignedLEB128(t *testing.T) {
	for _, c := range []struct {
		v    int64
		bits uint
		hex  string
	}{
		{-123456, 32, "c0bb78"}, {-1, 32, "7f"}, {-2, 32, "7e"}, {63, 32, "3f"}, {64, 32, "c000"},
		{-64, 32, "40"}, {-65, 32, "bf7f"}, {0x7eff, 16, "fffd01"}, {0x7effffff, 32, "fffffff707"},
		{0x7effffffffffffff, 64, "fffffffffffffffffe00"}, {math.MaxInt32, 32, "ffffffff07"},
		// below wasm-tokio's thresholds canonical SLEB is refused by the Rust decoder; we send
		// the full-width bit pattern it accepts (reference §2.8)
		{-16385, 16, "ffff02"}, {math.MinInt32, 32, "8080808008"}, {math.MinInt64, 64, "80808080808080808001"},
		{-8192, 16, "8040"},
	} {
		if got := hex.EncodeToString(appendSigned(nil, c.v, c.bits)); got != c.hex {
			t.Errorf("s%d %d = %s, want %s", c.bits, c.v, got, c.hex)
		}
		checkRead(t, readSleb, c.hex, c.bits, c.v)
	}
	// both forms decode: canonical SLEB and the full-width pattern (leb128-tokio tests)
	for _, c := range []struct {
		hex  string
		bits uint
		v    int64
	}{
		{"ffff03", 16, -1}, {"ffff02", 16, -16385}, {"ffff01", 16, 0x7fff}, {"feffffff0f", 32, -2},
		{"ffbf7f", 16, -8193}, {"808080807 8", 32, math.MinInt32}, {"80808080808080808 07f", 64, math.MinInt64},
	} {
		checkRead(t, readSleb, c.hex, c.bits, c.v)
	}
	checkOverflows(t, readSleb, []lebWidth{{"ffff04", 16}, {"ffff40", 16}, {"ffffffff10", 32}, {"ffffffffffffffffff02", 64}})
	// every s16 round-trips through our encoder and decoder
	for v := int64(math.MinInt16); v <= math.MaxInt16; v++ {
		b := appendSigned(nil, v, 16)
		got, err := readSleb(&byteSlice{b}, 16)
		if err != nil || got != v {
			t.Fatalf("s16 %d -> %x -> %d, %v", v, b, got, err)
		}
	}
}

func roundTrip(t *testing.T, typ *Type, v Value, want string) {
	t.Helper()
	b, err := AppendValue(nil, typ, v)
	if err != nil {
		t.Fatalf("encode %s %#v: %v", typ, v, err)
	}
	if got := hex.EncodeToString(b); got != strings.ReplaceAll(want, " ", "") {
		t.Errorf("encode %s %#v = %s, want %s", typ, v, got, want)
	}
	back, err := DecodeValue(b, typ)
	if err != nil {
		t.Fatalf("decode %s %x: %v", typ, b, err)
	}
	if !reflect.DeepEqual(back, v) {
		t.Errorf("decode %s %x = %#v, want %#v", typ, b, back, v)
	}
}

func TestPrimitiveGoldens(t *testing.T) {
	roundTrip(t, Bool, true, "01")
	roundTrip(t, Bool, false, "00")
	roundTrip(t, U8, uint8(0xfe), "fe")
	roundTrip(t, S8, int8(-2), "fe") // a raw byte, not LEB128
	roundTrip(t, U16, uint16(0xfeff), "fffd03")
	roundTrip(t, S64, int64(-123456), "c0bb78")
	roundTrip(t, F32, float32(0.42), "3d0ad73e")
	roundTrip(t, F64, 0.4242, "12a5bdc11726db3f")
	roundTrip(t, F32, float32(1), "0000803f")
	roundTrip(t, Char, 'a', "61")
	roundTrip(t, Char, 'é', "c3a9") // UTF-8 as the Rust peers send it, not the code point
	roundTrip(t, Char, '€', "e282ac")
	roundTrip(t, Char, '😀', "f09f9880")
	for _, r := range "$@Иह" {
		roundTrip(t, Char, r, hex.EncodeToString([]byte(string(r))))
	}
	roundTrip(t, String, "test", "04 74657374")
	roundTrip(t, String, "ƒ𐍈Ő", "08 c692 f0908d88 c590")
	roundTrip(t, String, "", "00")
	roundTrip(t, List(String), []Value{"foo", "", "test"}, "03 03666f6f 00 0474657374")
	roundTrip(t, List(U8), []byte("foo"), "03 666f6f")
}

func TestCompositeGoldens(t *testing.T) {
	// (u8, u32) = (0x42, 0x42): tuples have no framing (wrpc-transport value.rs)
	roundTrip(t, Tuple(U8, U32), []Value{uint8(0x42), uint32(0x42)}, "4242")
	// (bool, u8, string, u32, tuple<result<bool, string>>) (wasm-tokio values.rs)
	roundTrip(t, Tuple(Bool, U8, String, U32, Tuple(Result(Bool, String))),
		[]Value{true, uint8(0xfe), "test", uint32(0x42), []Value{Ok(true)}}, "01 fe 0474657374 42 00 01")
	abc := Flags("a", "b", "c")
	roundTrip(t, abc, uint32(0b101), "05")
	nine := Flags("a", "b", "c", "d", "e", "f", "g", "h", "i")
	roundTrip(t, nine, uint32(1<<8|1), "01 01")
	seventeen := Flags(strings.Split("a b c d e f g h i j k l m n o p q", " ")...)
	roundTrip(t, seventeen, uint32(1<<16), "00 00 01")
	roundTrip(t, Flags(), uint32(0), "")
	cases := make([]Case, 151)
	for i := range cases {
		cases[i] = Case{Name: "c"}
	}
	cases[150].Type = U8
	roundTrip(t, Variant(cases...), VariantValue{Case: 150, Value: uint8(7)}, "9601 07")
	roundTrip(t, Enum("a", "b", "c"), uint32(2), "02")
	roundTrip(t, Option(String), Some("x"), "01 0178")
	roundTrip(t, Option(String), None(), "00")
	roundTrip(t, Result(nil, nil), Err(nil), "01")
	roundTrip(t, Own("r"), Handle{1, 2}, "02 0102")
	roundTrip(t, Record(Field{"a", U32}, Field{"b", List(Option(U8))}), []Value{uint32(1), []Value{Some(uint8(2)), None()}}, "01 02 0102 00")
}

// wasi:http method::other("QUERY") and error-code::internal-error(some("x")) (reference §7.1).
func TestHTTPEnumGoldens(t *testing.T) {
	method := Variant(Case{"get", nil}, Case{"head", nil}, Case{"post", nil}, Case{"put", nil}, Case{"delete", nil},
		Case{"connect", nil}, Case{"options", nil}, Case{"trace", nil}, Case{"patch", nil}, Case{"other", String})
	roundTrip(t, method, VariantValue{Case: 9, Value: "QUERY"}, "09 05 5155455259")
	codes := make([]Case, 39)
	for i := range codes {
		codes[i] = Case{Name: "c"}
	}
	codes[38].Type = Option(String)
	roundTrip(t, Result(U8, Variant(codes...)), Err(VariantValue{Case: 38, Value: Some("x")}), "01 26 01 0178")
}

// The upstream test.sync parameters (wrpc v0.15.0 tests/rust.rs): 72 bytes, decoded as a flat
// 15-tuple, re-encoded byte for byte.
func TestSyncVector(t *testing.T) {
	wire := hx(t, `01 fe ff fd 03 ff ff ff f7 0f ff ff ff ff ff ff ff ff fe 01 7e ff fd 01 ff ff ff f7 07
  ff ff ff ff ff ff ff ff fe 00 3d 0a d7 3e 12 a5 bd c1 17 26 db 3f 61 04 74 65 73 74
  01 01 03 66 6f 6f 01 01 01 00 01 03 62 61 72`)
	if len(wire) != 72 {
		t.Fatalf("vector has %d bytes", len(wire))
	}
	types := []*Type{Bool, U8, U16, U32, U64, S8, S16, S32, S64, F32, F64, Char, String,
		List(List(List(U8))), List(Option(List(Result(Option(String), nil))))}
	want := []Value{true, uint8(0xfe), uint16(0xfeff), uint32(0xfeffffff), uint64(0xfeffffffffffffff),
		int8(0x7e), int16(0x7eff), int32(0x7effffff), int64(0x7effffffffffffff), float32(0.42), 0.4242, 'a', "test",
		[]Value{[]Value{[]byte("foo")}}, []Value{Some([]Value{Ok(Some("bar"))})}}
	d := decoder{r: newBytesReader(wire, DefaultMaxValueBytes)}
	got, err := d.tuple(types, "param")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %#v\nwant %#v", got, want)
	}
	if len(d.r.buf) != 0 {
		t.Fatalf("%d bytes left", len(d.r.buf))
	}
	b, deferred, err := encodeTuple(nil, types, want, "param")
	if err != nil || len(deferred) != 0 {
		t.Fatal(err, deferred)
	}
	if !bytes.Equal(b, wire) {
		t.Fatalf("re-encoded\n%x\nwant\n%x", b, wire)
	}
}

// wrpc:keyvalue calls and results (reference §2.7, WIT in §8).
func TestKeyValueGoldens(t *testing.T) {
	kvErr := Variant(Case{"no-such-store", nil}, Case{"access-denied", nil}, Case{"other", String})
	enc := func(types []*Type, vals ...Value) string {
		b, _, err := encodeTuple(nil, types, vals, "param")
		if err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(b)
	}
	check := func(got, want string) {
		t.Helper()
		if got != strings.ReplaceAll(want, " ", "") {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	check(enc([]*Type{String, String}, "default", "foo"), "07 64656661756c74 03 666f6f")
	get := Result(Option(List(U8)), kvErr)
	roundTrip(t, get, Ok(Some([]byte("bar"))), "00 01 03 626172")
	roundTrip(t, get, Ok(None()), "00 00")
	roundTrip(t, get, Err(VariantValue{Case: 0}), "01 00")
	roundTrip(t, get, Err(VariantValue{Case: 2, Value: "boom"}), "01 02 04 626f6f6d")
	check(enc([]*Type{String, String, U64}, "default", "counter", uint64(1)), "07 64656661756c74 07 636f756e746572 01")
	roundTrip(t, Result(U64, kvErr), Ok(uint64(5)), "00 05")
	check(enc([]*Type{String, List(String)}, "default", []Value{"a", "b"}), "07 64656661756c74 02 0161 0162")
	roundTrip(t, Result(List(Option(Tuple(String, List(U8)))), kvErr),
		Ok([]Value{Some([]Value{"a", []byte("x")}), None()}), "00 02 01 0161 0178 00")
	check(enc([]*Type{String, Option(U64)}, "default", None()), "07 64656661756c74 00")
	roundTrip(t, Result(Record(Field{"keys", List(String)}, Field{"cursor", Option(U64)}), kvErr),
		Ok([]Value{[]Value{"a", "b"}, None()}), "00 02 0161 0162 00")
}

func TestDecodeRejects(t *testing.T) {
	for _, c := range []struct {
		typ *Type
		hex string
	}{
		{Bool, "02"}, {Option(U8), "02"}, {Result(nil, nil), "02"}, {String, "02 c328"}, {Char, "ff"},
		{Char, "c3"}, {Enum("a"), "01"}, {Variant(Case{"a", nil}), "05"}, {Flags("a", "b"), "04"},
		{String, "05 6162"}, {U32, "ffffffff10"}, {List(U8), "ffffffff0f"}, {Future(U8), "02"},
	} {
		if v, err := DecodeValue(hx(t, c.hex), c.typ); err == nil {
			t.Errorf("decode %s of %s = %#v, want an error", c.hex, c.typ, v)
		}
	}
	// a huge count of empty elements is bounded by the decode budget, not by memory
	if _, err := DecodeValue(hx(t, "ffffffff0f"), List(Tuple())); !errors.Is(err, ErrTooLarge) {
		t.Errorf("4G empty tuples: %v, want ErrTooLarge", err)
	}
}

func TestEncodeTypeErrors(t *testing.T) {
	for _, c := range []struct {
		typ  *Type
		v    Value
		want string
	}{
		{U8, 256, "expected u8"}, {S8, -129, "expected s8"}, {U32, -1, "expected u32"},
		{String, "\xff", "not valid UTF-8"}, {Char, rune(0xd800), "not a Unicode scalar"},
		{Record(Field{"a", U8}), []Value{}, "expected 1 fields"},
		{Record(Field{"a", U8}), []Value{"x"}, "a: expected u8, got string"},
		{Enum("a"), uint32(1), "out of range"}, {Flags("a"), uint32(2), "beyond the 1 labels"},
		{Result(nil, String), Err(3), "err: expected string"},
		{Variant(Case{"a", nil}), VariantValue{Value: 1}, "has no payload"},
	} {
		_, err := AppendValue(nil, c.typ, c.v)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("encode %#v as %s: %v, want %q", c.v, c.typ, err, c.want)
		}
	}
}

func TestAsyncPaths(t *testing.T) {
	fields := List(Tuple(String, List(List(U8))))
	request := Record(Field{"body", Stream(U8)}, Field{"trailers", Future(Option(fields))},
		Field{"method", U8}, Field{"headers", fields})
	got := AsyncPaths([]*Type{request})
	want := [][]int{{0, 0}, {0, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("request paths %v, want %v", got, want)
	}
	got = AsyncPaths([]*Type{Result(request, String)})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("result<request> paths %v, want %v (result adds no index)", got, want)
	}
	got = AsyncPaths([]*Type{U8, Future(Stream(U8)), List(Stream(U8))})
	want = [][]int{{1}, {2, Wildcard}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths %v, want %v (a future's stream shares its path)", got, want)
	}
	if p := AsyncPaths([]*Type{String, Result(U8, String)}); len(p) != 0 {
		t.Errorf("sync types have paths %v", p)
	}
}
