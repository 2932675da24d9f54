package interfaces

import (
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/lattice/wrpc"
)

// The wire bytes of wasmcloud:postgres calls, computed by hand from the wRPC value encoding
// (reference §2: a variant is uleb32(case) then its payload, s8 one raw byte, s16..s64
// SLEB128, u32/u64 ULEB128, records and tuples plain concatenation, result ok = 00, err = 01)
// and the case order of upstream's types.wit. An upstream provider built with
// wit-bindgen-wrpc reads and writes exactly these bytes.

func pgv(t *testing.T, name string, v wrpc.Value) wrpc.VariantValue {
	t.Helper()
	c, ok := PgValueCase(name)
	if !ok {
		t.Fatalf("no pg-value case %q", name)
	}
	return wrpc.VariantValue{Case: c, Value: v}
}

func TestPgValueCaseNumbers(t *testing.T) {
	// a few discriminants written out, so a reordering cannot pass unnoticed
	for name, want := range map[string]uint32{"null": 0, "int8": 2, "double": 9, "int4": 17, "macaddr": 46,
		"timestamp-tz": 74, "text": 88, "uuid": 94, "hstore": 96} {
		if c, ok := PgValueCase(name); !ok || c != want {
			t.Errorf("case %s = %d %v, want %d", name, c, ok, want)
		}
	}
	if n := len(PgValue.Cases); n != 97 {
		t.Errorf("pg-value has %d cases, want 97", n)
	}
}

func TestPostgresWireGoldens(t *testing.T) {
	ts := pgv(t, "timestamp-tz", []wrpc.Value{
		[]wrpc.Value{wrpc.VariantValue{Case: 2, Value: []wrpc.Value{int32(2024), uint32(2), uint32(29)}},
			[]wrpc.Value{uint32(13), uint32(5), uint32(9), uint32(123456)}},
		wrpc.VariantValue{Case: 1, Value: int32(18000)},
	})
	for _, c := range []struct {
		name string
		t    *wrpc.Type
		v    wrpc.Value
		hex  string
	}{
		{"query params", tuple(PostgresQueryFunc.Type.ParamTypes()), []wrpc.Value{"SELECT $1", []wrpc.Value{
			pgv(t, "int4", int32(-2)), pgv(t, "text", "hi"), pgv(t, "null", nil),
			pgv(t, "double", []wrpc.Value{uint64(0x18000000000000), int16(-52), int8(1)}), // 1.5
		}},
			"09 53454c45435420 2431" + // "SELECT $1"
				"04" + // four params
				"11 7e" + // int4(-2)
				"58 02 6869" + // text("hi")
				"00" + // null
				"09 80808080808080 0c 4c 01"}, // double: mantissa 2^52+2^51, exponent -52, sign 1
		{"timestamp-tz param", PgValue, ts,
			"4a" + "02 e80f 02 1d" + "0d 05 09 c0c407" + "01 d08c01"},
		{"macaddr and hstore params", wrpc.List(PgValue), []wrpc.Value{
			pgv(t, "macaddr", []wrpc.Value{[]wrpc.Value{uint8(0x08), uint8(0x00), uint8(0x2b), uint8(0x01), uint8(0x02), uint8(0x03)}}),
			pgv(t, "hstore", []wrpc.Value{[]wrpc.Value{"k", wrpc.None()}, []wrpc.Value{"a", wrpc.Some("b")}}),
		}, "02" + "2e 08002b010203" + "60 02 016b00 0161 01 0162"},
		{"query rows", tuple(PostgresQueryFunc.Type.Results), []wrpc.Value{wrpc.Ok([]wrpc.Value{
			[]wrpc.Value{[]wrpc.Value{"n", pgv(t, "int8", int64(20000))}, []wrpc.Value{"t", pgv(t, "null", nil)}},
		})}, "00 01 02 016e 02a09c01 0174 00"},
		{"query error", tuple(PostgresQueryFunc.Type.Results), []wrpc.Value{wrpc.Err(wrpc.VariantValue{Case: 1, Value: "x"})},
			"01 01 0178"},
		{"query-batch ok", tuple(PostgresQueryBatchFunc.Type.Results), []wrpc.Value{wrpc.Ok(nil)}, "00"},
		{"prepare ok", tuple(PostgresPrepareFunc.Type.Results), []wrpc.Value{wrpc.Ok("tok")}, "00 03746f6b"},
		{"prepare error", tuple(PostgresPrepareFunc.Type.Results), []wrpc.Value{wrpc.Err(wrpc.VariantValue{Case: 0, Value: "no"})}, "01 00 026e6f"},
		{"exec params", tuple(PostgresExecFunc.Type.ParamTypes()), []wrpc.Value{"tok", []wrpc.Value{pgv(t, "uuid", "u")}},
			"03746f6b 01 5e 0175"},
		{"exec ok", tuple(PostgresExecFunc.Type.Results), []wrpc.Value{wrpc.Ok(uint64(300))}, "00 ac02"},
		{"exec unknown statement", tuple(PostgresExecFunc.Type.Results), []wrpc.Value{wrpc.Err(wrpc.VariantValue{Case: 0})}, "01 00"},
		{"exec query error", tuple(PostgresExecFunc.Type.Results), []wrpc.Value{wrpc.Err(wrpc.VariantValue{Case: 1,
			Value: wrpc.VariantValue{Case: 2, Value: "boom"}})}, "01 01 02 04626f6f6d"},
	} {
		want, err := hex.DecodeString(strings.Join(strings.Fields(c.hex), ""))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := wrpc.AppendValue(nil, c.t, c.v)
		if err != nil {
			t.Fatalf("%s: encode: %v", c.name, err)
		}
		if hex.EncodeToString(got) != hex.EncodeToString(want) {
			t.Errorf("%s:\n got  %x\n want %x", c.name, got, want)
		}
		back, err := wrpc.DecodeValue(want, c.t)
		if err != nil {
			t.Fatalf("%s: decode: %v", c.name, err)
		}
		if !reflect.DeepEqual(back, c.v) {
			t.Errorf("%s: decoded %#v, want %#v", c.name, back, c.v)
		}
	}
}

func tuple(ts []*wrpc.Type) *wrpc.Type { return wrpc.Tuple(ts...) }

// Named cases are the indices of the wire definitions; an unknown name is a bug.
func TestCaseByName(t *testing.T) {
	if c := Case(KeyValueError, "other"); c != 2 {
		t.Fatalf("keyvalue error other = %d", c)
	}
	if c := Case(Method, "other"); c != 9 {
		t.Fatalf("method other = %d", c)
	}
	if c := Case(LexemeWeight, "C"); c != 2 {
		t.Fatalf("lexeme-weight C = %d", c)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("unknown case did not panic")
		}
	}()
	Case(Scheme, "ftp")
}
