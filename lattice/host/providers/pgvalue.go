package providers

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
	"github.com/wasmlattice/wash/runtime/cabi"
)

// pgValueCases are the case names of wasmcloud:postgres/types.pg-value, in WIT order (a
// case's index is its discriminant), from the wire declaration both sides share.
// TestPgValueCasesMatchWIT checks them against the WIT file.
var pgValueCases = func() []string {
	out := make([]string, len(interfaces.PgValue.Cases))
	for i, c := range interfaces.PgValue.Cases {
		out[i] = c.Name
	}
	return out
}()

var pgCase = func() map[string]uint32 {
	m := make(map[string]uint32, len(pgValueCases))
	for i, c := range pgValueCases {
		m[c] = uint32(i)
	}
	return m
}()

func pgv(name string, v cabi.Value) cabi.VariantValue {
	c, ok := pgCase[name]
	if !ok {
		panic("unknown pg-value case " + name)
	}
	return cabi.VariantValue{Case: c, Value: v}
}

// hashableF64 is WIT's hashable-f64 (tuple<u64, s16, s8>): mantissa, exponent and sign such
// that f = sign * mantissa * 2^exponent, as Rust's integer_decode gives them.
func hashableF64(f float64) cabi.Value { return integerDecode(math.Float64bits(f), 52, 11) }

// hashableF32 is integer_decode of an f32, widened into the same tuple.
func hashableF32(f float32) cabi.Value { return integerDecode(uint64(math.Float32bits(f)), 23, 8) }

// integerDecode is Rust's integer_decode of the IEEE 754 bits of a float with fracBits
// fraction and expBits exponent bits: (mantissa, exponent, sign) as hashable-f64 holds them.
func integerDecode(bits uint64, fracBits, expBits uint) cabi.Value {
	sign := int8(1)
	if bits>>(fracBits+expBits) != 0 {
		sign = -1
	}
	expMask := uint64(1)<<expBits - 1
	exp := int16((bits >> fracBits) & expMask)
	frac := bits & (uint64(1)<<fracBits - 1)
	var mant uint64
	if exp == 0 {
		mant = frac << 1
	} else {
		mant = frac | uint64(1)<<fracBits
	}
	exp -= int16(expMask>>1) + int16(fracBits)
	return []cabi.Value{mant, exp, sign}
}

// floatFromHashable is sign * mantissa * 2^exponent.
func floatFromHashable(v cabi.Value) (float64, error) {
	t, ok := v.([]cabi.Value)
	if !ok || len(t) != 3 {
		return 0, fmt.Errorf("expected a (mantissa, exponent, sign) tuple, got %T", v)
	}
	m, _ := t[0].(uint64)
	e, _ := t[1].(int16)
	s, _ := t[2].(int8)
	f := math.Ldexp(float64(m), int(e))
	if s < 0 {
		f = -f
	}
	return f, nil
}

// pgParam turns a pg-value the guest passed into a value pgx encodes for the parameter's
// type (strings go in text format, so the server parses numeric, uuid, inet, json, ...).
func pgParam(v cabi.Value) (any, error) {
	vv, ok := v.(cabi.VariantValue)
	if !ok || int(vv.Case) >= len(pgValueCases) {
		return nil, fmt.Errorf("not a pg-value: %T", v)
	}
	name := pgValueCases[vv.Case]
	bad := func() (any, error) {
		return nil, fmt.Errorf("pg-value %s is not supported as a parameter by sqldb-postgres; pass it as text and cast in SQL ($1::type)", name)
	}
	p := vv.Value
	switch name {
	case "null":
		return nil, nil
	case "big-int", "int8", "big-serial", "serial8", "pg-lsn", "txid-snapshot":
		switch n := p.(type) {
		case int64:
			return n, nil
		case uint64:
			if name == "pg-lsn" {
				return fmt.Sprintf("%X/%X", n>>32, uint32(n)), nil
			}
			return int64(n), nil
		}
	case "integer", "int", "int4":
		n, _ := p.(int32)
		return n, nil
	case "serial", "serial4":
		n, _ := p.(uint32)
		return int64(n), nil
	case "small-int", "int2", "small-serial", "serial2":
		n, _ := p.(int16)
		return n, nil
	case "bool", "boolean":
		b, _ := p.(bool)
		return b, nil
	case "double", "float8", "real", "float4":
		return floatFromHashable(p)
	case "numeric", "decimal", "money", "cidr", "inet", "json", "jsonb", "name", "text", "xml",
		"ts-query", "uuid":
		s, _ := p.(string)
		return s, nil
	case "bytea":
		b, _ := p.([]byte)
		if b == nil {
			b = []byte{}
		}
		return b, nil
	case "char", "varchar", "bit-varying", "varbit":
		t, _ := p.([]cabi.Value)
		if len(t) == 2 {
			b, _ := t[1].([]byte)
			if name == "char" || name == "varchar" {
				return string(b), nil
			}
		}
	case "int8-array":
		return listOf(p, func(x cabi.Value) (int64, error) { n, _ := x.(int64); return n, nil })
	case "int4-array":
		return listOf(p, func(x cabi.Value) (int32, error) { n, _ := x.(int32); return n, nil })
	case "int2-array", "int2-vector":
		return listOf(p, func(x cabi.Value) (int16, error) { n, _ := x.(int16); return n, nil })
	case "bool-array":
		return listOf(p, func(x cabi.Value) (bool, error) { b, _ := x.(bool); return b, nil })
	case "float8-array", "float4-array":
		return listOf(p, floatFromHashable)
	case "numeric-array", "money-array", "cidr-array", "inet-array", "json-array", "jsonb-array",
		"name-array", "text-array", "xml-array", "uuid-array":
		return listOf(p, func(x cabi.Value) (string, error) { s, _ := x.(string); return s, nil })
	case "bytea-array":
		return listOf(p, func(x cabi.Value) ([]byte, error) { b, _ := x.([]byte); return b, nil })
	case "varchar-array", "char-array":
		return listOf(p, func(x cabi.Value) (string, error) {
			t, _ := x.([]cabi.Value)
			if len(t) != 2 {
				return "", fmt.Errorf("expected a (length, bytes) tuple")
			}
			b, _ := t[1].([]byte)
			return string(b), nil
		})
	case "macaddr", "macaddr8":
		rec, _ := p.([]cabi.Value)
		if len(rec) == 1 {
			t, _ := rec[0].([]cabi.Value)
			hw := make(net.HardwareAddr, len(t))
			for i, x := range t {
				hw[i], _ = x.(uint8)
			}
			return hw, nil
		}
	case "date":
		return pgDateParam(p)
	case "time":
		us, err := pgTimeMicros(p)
		return pgtype.Time{Microseconds: us, Valid: true}, err
	case "timestamp":
		ts, err := pgTimestamp(p)
		if err != nil {
			return nil, err
		}
		return pgtype.Timestamp{Time: ts, Valid: true}, nil
	case "timestamp-tz":
		rec, _ := p.([]cabi.Value)
		if len(rec) != 2 {
			return nil, fmt.Errorf("timestamp-tz: expected a record of 2 fields")
		}
		ts, err := pgTimestamp(rec[0])
		if err != nil {
			return nil, err
		}
		off, _ := rec[1].(cabi.VariantValue)
		secs, _ := off.Value.(int32)
		if off.Case == 1 { // western-hemisphere-secs
			secs = -secs
		}
		return time.Date(ts.Year(), ts.Month(), ts.Day(), ts.Hour(), ts.Minute(), ts.Second(), ts.Nanosecond(),
			time.FixedZone("", int(secs))), nil
	case "hstore":
		pairs, _ := p.([]cabi.Value)
		h := pgtype.Hstore{}
		for _, x := range pairs {
			t, _ := x.([]cabi.Value)
			if len(t) != 2 {
				continue
			}
			k, _ := t[0].(string)
			var val *string
			if o, ok := t[1].(cabi.OptionValue); ok && o.IsSome {
				s, _ := o.Value.(string)
				val = &s
			}
			h[k] = val
		}
		return h, nil
	}
	return bad()
}

func listOf[T any](v cabi.Value, f func(cabi.Value) (T, error)) ([]T, error) {
	l, _ := v.([]cabi.Value)
	out := make([]T, 0, len(l))
	for _, x := range l {
		e, err := f(x)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func pgDateParam(v cabi.Value) (pgtype.Date, error) {
	d, ok := v.(cabi.VariantValue)
	if !ok {
		return pgtype.Date{}, fmt.Errorf("date: expected a variant, got %T", v)
	}
	switch d.Case {
	case 0:
		return pgtype.Date{InfinityModifier: pgtype.Infinity, Valid: true}, nil
	case 1:
		return pgtype.Date{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, nil
	}
	t, _ := d.Value.([]cabi.Value)
	if len(t) != 3 {
		return pgtype.Date{}, fmt.Errorf("date: expected (year, month, day)")
	}
	y, _ := t[0].(int32)
	m, _ := t[1].(uint32)
	day, _ := t[2].(uint32)
	if m < 1 || m > 12 || day < 1 || day > 31 {
		return pgtype.Date{}, fmt.Errorf("date: %d-%d-%d is not a date", y, m, day)
	}
	return pgtype.Date{Time: time.Date(int(y), time.Month(m), int(day), 0, 0, 0, 0, time.UTC), Valid: true}, nil
}

func pgTimeMicros(v cabi.Value) (int64, error) {
	rec, _ := v.([]cabi.Value)
	if len(rec) != 4 {
		return 0, fmt.Errorf("time: expected (hour, min, sec, micro)")
	}
	var f [4]uint32
	for i := range f {
		f[i], _ = rec[i].(uint32)
	}
	if f[0] > 24 || f[1] > 59 || f[2] > 60 || f[3] > 999999 {
		return 0, fmt.Errorf("time: %d:%d:%d.%06d is not a time of day", f[0], f[1], f[2], f[3])
	}
	return ((int64(f[0])*60+int64(f[1]))*60+int64(f[2]))*1e6 + int64(f[3]), nil
}

func pgTimestamp(v cabi.Value) (time.Time, error) {
	rec, _ := v.([]cabi.Value)
	if len(rec) != 2 {
		return time.Time{}, fmt.Errorf("timestamp: expected a record of date and time")
	}
	d, err := pgDateParam(rec[0])
	if err != nil {
		return time.Time{}, err
	}
	if d.InfinityModifier != pgtype.Finite {
		return time.Time{}, fmt.Errorf("timestamp: infinite dates are not supported in timestamps")
	}
	us, err := pgTimeMicros(rec[1])
	if err != nil {
		return time.Time{}, err
	}
	return d.Time.Add(time.Duration(us) * time.Microsecond), nil
}

// pgDateValue is a date variant.
func pgDateValue(d pgtype.Date) cabi.Value {
	switch d.InfinityModifier {
	case pgtype.Infinity:
		return cabi.VariantValue{Case: datePositiveInfinity}
	case pgtype.NegativeInfinity:
		return cabi.VariantValue{Case: dateNegativeInfinity}
	}
	t := d.Time
	return cabi.VariantValue{Case: dateYMD, Value: []cabi.Value{int32(t.Year()), uint32(t.Month()), uint32(t.Day())}}
}

func pgTimeValue(us int64) cabi.Value {
	return []cabi.Value{uint32(us / 3600e6), uint32(us / 60e6 % 60), uint32(us / 1e6 % 60), uint32(us % 1e6)}
}

func pgTimestampValue(t time.Time) cabi.Value {
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	return []cabi.Value{
		pgDateValue(pgtype.Date{Time: day, Valid: true}),
		pgTimeValue(wall.Sub(day).Microseconds()),
	}
}

// Type OIDs the provider decodes in binary; every other column arrives as text.
var pgBinaryOIDs = []uint32{
	pgtype.BoolOID, pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.Float4OID,
	pgtype.Float8OID, pgtype.ByteaOID, pgtype.DateOID, pgtype.TimeOID, pgtype.TimestampOID,
	pgtype.TimestamptzOID, pgtype.MacaddrOID, pgtype.BoolArrayOID, pgtype.Int2ArrayOID,
	pgtype.Int4ArrayOID, pgtype.Int8ArrayOID, pgtype.Float4ArrayOID, pgtype.Float8ArrayOID,
	pgtype.ByteaArrayOID, pgtype.TextArrayOID, pgtype.VarcharArrayOID, pgtype.NumericArrayOID,
	pgtype.UUIDArrayOID, pgtype.NameArrayOID,
}

// pgTextCases names the pg-value case a column the server sent as text becomes, by type OID;
// any other type's text is the case text.
var pgTextCases = map[uint32]string{
	pgtype.NumericOID: "numeric", pgtype.UUIDOID: "uuid", pgtype.JSONOID: "json", pgtype.JSONBOID: "jsonb",
	pgtype.InetOID: "inet", pgtype.CIDROID: "cidr", pgtype.NameOID: "name", pgtype.XMLOID: "xml",
	790: "money", 3615: "ts-query",
}

// pgResultValue decodes one column value (raw in format) into a pg-value. Types without a
// case of their own, and every column the server sent as text, become their text form in the
// case named after the type when there is one (numeric, uuid, json, ...), else text.
func pgResultValue(m *pgtype.Map, oid uint32, format int16, raw []byte) (cabi.Value, error) {
	if raw == nil {
		return pgv("null", nil), nil
	}
	if format == pgtype.TextFormatCode {
		switch oid {
		case pgtype.VarcharOID:
			return pgv("varchar", []cabi.Value{cabi.None(), raw}), nil
		case pgtype.BPCharOID, pgtype.QCharOID:
			return pgv("char", []cabi.Value{uint32(len(raw)), raw}), nil
		}
		return pgv(cmp.Or(pgTextCases[oid], "text"), string(raw)), nil
	}
	scan := func(dst any) error { return m.Scan(oid, format, raw, dst) }
	switch oid {
	case pgtype.BoolOID:
		return scanScalar(scan, "bool", func(b bool) cabi.Value { return b })
	case pgtype.Int2OID:
		return scanScalar(scan, "int2", func(n int16) cabi.Value { return n })
	case pgtype.Int4OID:
		return scanScalar(scan, "int4", func(n int32) cabi.Value { return n })
	case pgtype.Int8OID:
		return scanScalar(scan, "int8", func(n int64) cabi.Value { return n })
	case pgtype.Float4OID:
		return scanScalar(scan, "float4", hashableF32)
	case pgtype.Float8OID:
		return scanScalar(scan, "float8", hashableF64)
	case pgtype.ByteaOID:
		return scanScalar(scan, "bytea", nonNilBytes)
	case pgtype.DateOID:
		return scanScalar(scan, "date", pgDateValue)
	case pgtype.TimeOID:
		return scanScalar(scan, "time", func(t pgtype.Time) cabi.Value { return pgTimeValue(t.Microseconds) })
	case pgtype.TimestampOID:
		t, err := scanFinite(scan, func(v pgtype.Timestamp) (time.Time, pgtype.InfinityModifier) { return v.Time, v.InfinityModifier })
		if err != nil {
			return nil, err
		}
		return pgv("timestamp", pgTimestampValue(t)), nil
	case pgtype.TimestamptzOID:
		t, err := scanFinite(scan, func(v pgtype.Timestamptz) (time.Time, pgtype.InfinityModifier) { return v.Time, v.InfinityModifier })
		if err != nil {
			return nil, err
		}
		return pgv("timestamp-tz", []cabi.Value{pgTimestampValue(t.UTC()), cabi.VariantValue{Case: offsetEast, Value: int32(0)}}), nil
	case pgtype.MacaddrOID:
		var hw net.HardwareAddr
		if err := scan(&hw); err != nil {
			return nil, err
		}
		if len(hw) != 6 {
			return pgv("text", hw.String()), nil
		}
		t := make([]cabi.Value, 6)
		for i, b := range hw {
			t[i] = b
		}
		return pgv("macaddr", []cabi.Value{t}), nil
	case pgtype.BoolArrayOID:
		return scanArray[bool](m, oid, format, raw, "bool-array", func(b bool) cabi.Value { return b })
	case pgtype.Int2ArrayOID:
		return scanArray[int16](m, oid, format, raw, "int2-array", func(n int16) cabi.Value { return n })
	case pgtype.Int4ArrayOID:
		return scanArray[int32](m, oid, format, raw, "int4-array", func(n int32) cabi.Value { return n })
	case pgtype.Int8ArrayOID:
		return scanArray[int64](m, oid, format, raw, "int8-array", func(n int64) cabi.Value { return n })
	case pgtype.Float4ArrayOID:
		return scanArray[float32](m, oid, format, raw, "float4-array", hashableF32)
	case pgtype.Float8ArrayOID:
		return scanArray[float64](m, oid, format, raw, "float8-array", hashableF64)
	case pgtype.ByteaArrayOID:
		return scanArray[[]byte](m, oid, format, raw, "bytea-array", nonNilBytes)
	case pgtype.TextArrayOID:
		return scanArray[string](m, oid, format, raw, "text-array", func(s string) cabi.Value { return s })
	case pgtype.NameArrayOID:
		return scanArray[string](m, oid, format, raw, "name-array", func(s string) cabi.Value { return s })
	case pgtype.VarcharArrayOID:
		return scanArray[string](m, oid, format, raw, "varchar-array", func(s string) cabi.Value {
			return []cabi.Value{cabi.None(), []byte(s)}
		})
	case pgtype.NumericArrayOID:
		return scanArray[pgtype.Numeric](m, oid, format, raw, "numeric-array", func(n pgtype.Numeric) cabi.Value {
			v, _ := n.Value()
			s, _ := v.(string)
			return s
		})
	case pgtype.UUIDArrayOID:
		return scanArray[pgtype.UUID](m, oid, format, raw, "uuid-array", func(u pgtype.UUID) cabi.Value {
			b := u.Bytes
			return fmt.Sprintf("%s-%s-%s-%s-%s", hex.EncodeToString(b[0:4]), hex.EncodeToString(b[4:6]),
				hex.EncodeToString(b[6:8]), hex.EncodeToString(b[8:10]), hex.EncodeToString(b[10:16]))
		})
	}
	return nil, fmt.Errorf("type OID %d has no pg-value mapping", oid)
}

// scanScalar decodes a binary column into a T and makes f's value of it the pg-value case
// name; a decoding error comes with the zero T's value.
func scanScalar[T any](scan func(any) error, name string, f func(T) cabi.Value) (cabi.Value, error) {
	var v T
	err := scan(&v)
	return pgv(name, f(v)), err
}

// scanFinite decodes a timestamp column into a T (pgtype.Timestamp or Timestamptz) and returns
// the time get reads from it; infinite timestamps have no pg-value.
func scanFinite[T any](scan func(any) error, get func(T) (time.Time, pgtype.InfinityModifier)) (time.Time, error) {
	var v T
	if err := scan(&v); err != nil {
		return time.Time{}, err
	}
	t, inf := get(v)
	if inf != pgtype.Finite {
		return time.Time{}, fmt.Errorf("infinite timestamps have no pg-value")
	}
	return t, nil
}

// nonNilBytes is a bytea as a pg-value: never nil, an empty value is empty bytes.
func nonNilBytes(b []byte) cabi.Value { return nonNilSlice(b) }

func scanArray[T any](m *pgtype.Map, oid uint32, format int16, raw []byte, name string, f func(T) cabi.Value) (cabi.Value, error) {
	var xs []T
	if err := m.Scan(oid, format, raw, &xs); err != nil {
		return nil, err
	}
	out := make([]cabi.Value, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return pgv(name, out), nil
}
