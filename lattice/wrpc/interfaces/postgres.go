package interfaces

import "github.com/wasmlattice/wash/lattice/wrpc"

// wasmcloud:postgres@0.1.1-draft, as upstream's sqldb-postgres provider exports it (wasmCloud
// 1.9.2 crates/provider-sqldb-postgres/wit/deps/postgres: types.wit, query.wit). The wire
// instance names are the WIT interface names with their version: a wasmCloud host sends a
// component's import unchanged.
const (
	PostgresQuery    = "wasmcloud:postgres/query@0.1.1-draft"
	PostgresPrepared = "wasmcloud:postgres/prepared@0.1.1-draft"
)

func rec(name string, fields ...wrpc.Field) *wrpc.Type {
	return wrpc.Named(name, wrpc.Record(fields...))
}

func fld(name string, t *wrpc.Type) wrpc.Field { return wrpc.Field{Name: name, Type: t} }

func cs(name string, t *wrpc.Type) wrpc.Case { return wrpc.Case{Name: name, Type: t} }

// The types of wasmcloud:postgres/types, in WIT order.
var (
	// QueryError is query-error: invalid-params, invalid-query, unexpected (each a string).
	QueryError = wrpc.Named("query-error", wrpc.Variant(
		cs("invalid-params", wrpc.String), cs("invalid-query", wrpc.String), cs("unexpected", wrpc.String)))
	// StatementPrepareError is statement-prepare-error: unexpected(string).
	StatementPrepareError = wrpc.Named("statement-prepare-error", wrpc.Variant(cs("unexpected", wrpc.String)))
	// PreparedStatementExecError is prepared-statement-exec-error: unknown-prepared-query,
	// query-error(query-error), unexpected(string).
	PreparedStatementExecError = wrpc.Named("prepared-statement-exec-error", wrpc.Variant(
		cs("unknown-prepared-query", nil), cs("query-error", QueryError), cs("unexpected", wrpc.String)))

	// HashableF64 is tuple<u64, s16, s8>: mantissa, exponent, sign (hashable-f32 is the same).
	HashableF64 = wrpc.Tuple(wrpc.U64, wrpc.S16, wrpc.S8)
	pgPoint     = wrpc.Tuple(HashableF64, HashableF64)
	pgPoints    = wrpc.Tuple(pgPoint, pgPoint)

	LexemeWeight = wrpc.Named("lexeme-weight", wrpc.Enum("A", "B", "C", "D"))
	Lexeme       = rec("lexeme", fld("position", wrpc.Option(wrpc.U16)), fld("weight", wrpc.Option(LexemeWeight)), fld("data", wrpc.String))
	Offset       = wrpc.Named("offset", wrpc.Variant(cs("eastern-hemisphere-secs", wrpc.S32), cs("western-hemisphere-secs", wrpc.S32)))
	Date         = wrpc.Named("date", wrpc.Variant(cs("positive-infinity", nil), cs("negative-infinity", nil),
		cs("ymd", wrpc.Tuple(wrpc.S32, wrpc.U32, wrpc.U32))))
	Interval = rec("interval", fld("start", Date), fld("start-inclusive", wrpc.Bool), fld("end", Date), fld("end-inclusive", wrpc.Bool))
	Time     = rec("time", fld("hour", wrpc.U32), fld("min", wrpc.U32), fld("sec", wrpc.U32), fld("micro", wrpc.U32))
	// TimeTz keeps upstream's misspelt field name "timesonze".
	TimeTz          = rec("time-tz", fld("timesonze", wrpc.String), fld("time", Time))
	Timestamp       = rec("timestamp", fld("date", Date), fld("time", Time))
	TimestampTz     = rec("timestamp-tz", fld("timestamp", Timestamp), fld("offset", Offset))
	MacAddressEUI48 = rec("mac-address-eui48", fld("bytes", wrpc.Tuple(wrpc.U8, wrpc.U8, wrpc.U8, wrpc.U8, wrpc.U8, wrpc.U8)))
	MacAddressEUI64 = rec("mac-address-eui64", fld("bytes", wrpc.Tuple(wrpc.U8, wrpc.U8, wrpc.U8, wrpc.U8, wrpc.U8, wrpc.U8, wrpc.U8, wrpc.U8)))

	// PgValue is pg-value: a case's index is its discriminant on the wire.
	PgValue = pgValue()

	ResultRowEntry = rec("result-row-entry", fld("column-name", wrpc.String), fld("value", PgValue))
	// ResultRow is result-row (list<result-row-entry>).
	ResultRow = wrpc.List(ResultRowEntry)

	pgParams = p("params", wrpc.List(PgValue))

	PostgresQueryFunc      = &Func{PostgresQuery, "query", wrpc.NewFunc(params(p("query", wrpc.String), pgParams), wrpc.Result(wrpc.List(ResultRow), QueryError))}
	PostgresQueryBatchFunc = &Func{PostgresQuery, "query-batch", wrpc.NewFunc(params(p("query", wrpc.String)), wrpc.Result(nil, QueryError))}
	PostgresPrepareFunc    = &Func{PostgresPrepared, "prepare", wrpc.NewFunc(params(p("statement", wrpc.String)), wrpc.Result(wrpc.String, StatementPrepareError))}
	PostgresExecFunc       = &Func{PostgresPrepared, "exec", wrpc.NewFunc(params(p("stmt-token", wrpc.String), pgParams), wrpc.Result(wrpc.U64, PreparedStatementExecError))}

	// Postgres is every function a wasmcloud:postgres provider serves.
	Postgres = []*Func{PostgresQueryFunc, PostgresQueryBatchFunc, PostgresPrepareFunc, PostgresExecFunc}
)

func pgValue() *wrpc.Type {
	list := wrpc.List
	bits := wrpc.Tuple(wrpc.U32, bytes)
	varbits := wrpc.Tuple(wrpc.Option(wrpc.U32), bytes)
	circle := wrpc.Tuple(pgPoint, HashableF64)
	return wrpc.Named("pg-value", wrpc.Variant(
		cs("null", nil),
		cs("big-int", wrpc.S64), cs("int8", wrpc.S64), cs("int8-array", list(wrpc.S64)),
		cs("big-serial", wrpc.S64), cs("serial8", wrpc.S64),
		cs("bool", wrpc.Bool), cs("boolean", wrpc.Bool), cs("bool-array", list(wrpc.Bool)),
		cs("double", HashableF64), cs("float8", HashableF64), cs("float8-array", list(HashableF64)),
		cs("real", HashableF64), cs("float4", HashableF64), cs("float4-array", list(HashableF64)),
		cs("integer", wrpc.S32), cs("int", wrpc.S32), cs("int4", wrpc.S32), cs("int4-array", list(wrpc.S32)),
		cs("numeric", wrpc.String), cs("decimal", wrpc.String), cs("numeric-array", list(wrpc.String)),
		cs("serial", wrpc.U32), cs("serial4", wrpc.U32),
		cs("small-int", wrpc.S16), cs("int2", wrpc.S16), cs("int2-array", list(wrpc.S16)),
		cs("int2-vector", list(wrpc.S16)), cs("int2-vector-array", list(list(wrpc.S16))),
		cs("small-serial", wrpc.S16), cs("serial2", wrpc.S16),
		cs("bit", bits), cs("bit-array", list(bits)),
		cs("bit-varying", varbits), cs("varbit", varbits), cs("varbit-array", list(varbits)),
		cs("bytea", bytes), cs("bytea-array", list(bytes)),
		cs("char", bits), cs("char-array", list(bits)),
		cs("varchar", varbits), cs("varchar-array", list(varbits)),
		cs("cidr", wrpc.String), cs("cidr-array", list(wrpc.String)),
		cs("inet", wrpc.String), cs("inet-array", list(wrpc.String)),
		cs("macaddr", MacAddressEUI48), cs("macaddr-array", list(MacAddressEUI48)),
		cs("macaddr8", MacAddressEUI64), cs("macaddr8-array", list(MacAddressEUI64)),
		cs("box", pgPoints), cs("box-array", list(pgPoints)),
		cs("circle", circle), cs("circle-array", list(circle)),
		cs("line", pgPoints), cs("line-array", list(pgPoints)),
		cs("lseg", pgPoints), cs("lseg-array", list(pgPoints)),
		cs("path", list(pgPoint)), cs("path-array", list(list(pgPoint))),
		cs("point", pgPoint), cs("point-array", list(pgPoint)),
		cs("polygon", list(pgPoint)), cs("polygon-array", list(list(pgPoint))),
		cs("date", Date), cs("date-array", list(Date)),
		cs("interval", Interval), cs("interval-array", list(Interval)),
		cs("time", Time), cs("time-array", list(Time)),
		cs("time-tz", TimeTz), cs("time-tz-array", list(TimeTz)),
		cs("timestamp", Timestamp), cs("timestamp-array", list(Timestamp)),
		cs("timestamp-tz", TimestampTz), cs("timestamp-tz-array", list(TimestampTz)),
		cs("json", wrpc.String), cs("json-array", list(wrpc.String)),
		cs("jsonb", wrpc.String), cs("jsonb-array", list(wrpc.String)),
		cs("money", wrpc.String), cs("money-array", list(wrpc.String)),
		cs("pg-lsn", wrpc.U64), cs("pg-lsn-array", list(wrpc.U64)),
		cs("pg-snapshot", wrpc.Tuple(wrpc.S64, wrpc.S64, list(wrpc.S64))), cs("txid-snapshot", wrpc.S64),
		cs("name", wrpc.String), cs("name-array", list(wrpc.String)),
		cs("text", wrpc.String), cs("text-array", list(wrpc.String)),
		cs("xml", wrpc.String), cs("xml-array", list(wrpc.String)),
		cs("ts-query", wrpc.String), cs("ts-vector", list(Lexeme)),
		cs("uuid", wrpc.String), cs("uuid-array", list(wrpc.String)),
		cs("hstore", list(wrpc.Tuple(wrpc.String, wrpc.Option(wrpc.String)))),
	))
}

// PgValueCase returns the discriminant of a pg-value case name, or false.
func PgValueCase(name string) (uint32, bool) {
	for i, c := range PgValue.Cases {
		if c.Name == name {
			return uint32(i), true
		}
	}
	return 0, false
}
