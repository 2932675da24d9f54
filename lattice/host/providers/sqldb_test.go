package providers

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testtool"
	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
	"github.com/wasmlattice/wash/lattice/natsd"
	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
	"github.com/wasmlattice/wash/runtime/cabi"
)

// The case list must follow the WIT file the example component is built from.
func TestPgValueCasesMatchWIT(t *testing.T) {
	b, err := os.ReadFile("../../../examples/pg-counter/wit/deps/postgres/types.wit")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "variant pg-value {")
	j := strings.Index(s[i:], "\n  }")
	body := regexp.MustCompile(`//[^\n]*`).ReplaceAllString(s[i+len("variant pg-value {"):i+j], "")
	for paren := regexp.MustCompile(`\([^()]*\)`); paren.MatchString(body); {
		body = paren.ReplaceAllString(body, "")
	}
	var cases []string
	for _, c := range strings.Split(body, ",") {
		if c = strings.TrimPrefix(strings.TrimSpace(c), "%"); c != "" {
			cases = append(cases, c)
		}
	}
	if strings.Join(cases, " ") != strings.Join(pgValueCases, " ") {
		t.Fatalf("pg-value cases differ from the WIT:\nWIT:  %v\nours: %v", cases, pgValueCases)
	}
}

func TestHashableFloats(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.5, 3.141592653589793, -2.5e-300, 1e300} {
		got, err := floatFromHashable(hashableF64(f))
		if err != nil || got != f {
			t.Errorf("f64 %v round trip = %v %v", f, got, err)
		}
	}
	for _, f := range []float32{0, 1, -1, 0.25, 3.1415927, 1e30} {
		got, err := floatFromHashable(hashableF32(f))
		if err != nil || float32(got) != f {
			t.Errorf("f32 %v round trip = %v %v", f, got, err)
		}
	}
	// Rust: 1.0f64.integer_decode() == (4503599627370496, -52, 1)
	if v := hashableF64(1).([]cabi.Value); v[0] != uint64(4503599627370496) || v[1] != int16(-52) || v[2] != int8(1) {
		t.Errorf("integer_decode(1.0) = %v", v)
	}
}

func pgSession(t *testing.T, p *PostgresProvider, pg *providertest.Postgres, source string) *PostgresSession {
	t.Helper()
	s, err := p.Open(pgLink(pg, source))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pgLink(pg *providertest.Postgres, source string) InterfaceLinkDefinition {
	return InterfaceLinkDefinition{SourceID: source, Target: "pg", WitNamespace: "wasmcloud", WitPackage: "postgres", TargetConfig: pg.Config()}
}

func variant(name string, v cabi.Value) cabi.Value { return pgv(name, v) }

// pgCalls calls a PostgresBackend the way a component's host functions do, one method per
// WIT function, unpacking the result.
type pgCalls struct {
	t *testing.T
	b PostgresBackend
}

func (c pgCalls) call(ctx context.Context, f *interfaces.Func, args ...cabi.Value) cabi.ResultValue {
	c.t.Helper()
	v, err := c.b.Call(ctx, f, args)
	if err != nil {
		c.t.Fatalf("%s: the call failed: %v", f.Name, err)
	}
	r, ok := v.(cabi.ResultValue)
	if !ok {
		c.t.Fatalf("%s: result %#v", f.Name, v)
	}
	return r
}

func errCase(r cabi.ResultValue) *cabi.VariantValue {
	if !r.IsErr {
		return nil
	}
	v := r.Value.(cabi.VariantValue)
	return &v
}

func list(params []cabi.Value) []cabi.Value {
	if params == nil {
		return []cabi.Value{}
	}
	return params
}

func (c pgCalls) Query(ctx context.Context, q string, params []cabi.Value) (cabi.Value, *cabi.VariantValue) {
	r := c.call(ctx, interfaces.PostgresQueryFunc, q, list(params))
	return r.Value, errCase(r)
}

func (c pgCalls) QueryBatch(ctx context.Context, q string) *cabi.VariantValue {
	return errCase(c.call(ctx, interfaces.PostgresQueryBatchFunc, q))
}

func (c pgCalls) Prepare(ctx context.Context, q string) (string, *cabi.VariantValue) {
	r := c.call(ctx, interfaces.PostgresPrepareFunc, q)
	if r.IsErr {
		return "", errCase(r)
	}
	return r.Value.(string), nil
}

func (c pgCalls) Exec(ctx context.Context, tok string, params []cabi.Value) (uint64, *cabi.VariantValue) {
	r := c.call(ctx, interfaces.PostgresExecFunc, tok, list(params))
	if r.IsErr {
		return 0, errCase(r)
	}
	return r.Value.(uint64), nil
}

// overWRPC serves p's wasmcloud:postgres exports on a NATS server, as a builtin on another
// host does, and returns how a component there reaches it: over wRPC with its source-id.
func overWRPC(t *testing.T, p *PostgresProvider, pg *providertest.Postgres) func(source string) PostgresBackend {
	srv, err := natsd.Start(natsd.Options{Port: 0, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	conn := func() *wrpc.Conn {
		nc, err := nats.Connect(srv.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		c, err := wrpc.NewConn(nc, wrpc.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	server, client := conn(), conn()
	caller := func(ctx context.Context, ns, pkg string) (InterfaceLinkDefinition, error) {
		if ns != "wasmcloud" || pkg != "postgres" {
			return InterfaceLinkDefinition{}, fmt.Errorf("unexpected link lookup %s:%s", ns, pkg)
		}
		return pgLink(pg, wrpc.InvocationHeader(ctx).Get("source-id")), nil
	}
	if _, err := server.Serve(wrpc.ServeOptions{Prefix: "default.pg", Queue: "default.pg"}, WRPCExports(p, caller)...); err != nil {
		t.Fatal(err)
	}
	return func(source string) PostgresBackend {
		return &RemotePostgres{Conn: client, Invocation: wrpc.Invocation{Prefix: "default.pg",
			Header: nats.Header{"source-id": {source}, "link-name": {"default"}}, Timeout: 10 * time.Second}}
	}
}

// Query and prepared statements against a real PostgreSQL: parameters and results of the
// common types, errors as the interface's cases, statements scoped to their component. The
// same calls run on the provider's session in process and from another host over wRPC
// (RemotePostgres to the provider's exports), with the same results.
func TestPostgresProvider(t *testing.T) {
	pg := providertest.StartPostgres(t)
	t.Run("in process", func(t *testing.T) {
		p := newPostgresProvider("pg")
		defer p.Stop(context.Background())
		testPostgres(t, p, pg, "inproc_", func(source string) PostgresBackend { return pgSession(t, p, pg, source) })
	})
	t.Run("over wRPC", func(t *testing.T) {
		p := newPostgresProvider("pg")
		defer p.Stop(context.Background())
		testPostgres(t, p, pg, "remote_", overWRPC(t, p, pg))
	})
}

func testPostgres(t *testing.T, p *PostgresProvider, pg *providertest.Postgres, prefix string, open func(source string) PostgresBackend) {
	ctx := context.Background()
	s := pgCalls{t, open("comp-a")}
	tbl := strings.NewReplacer("items", prefix+"items", "log", prefix+"log")
	if qe := s.QueryBatch(ctx, tbl.Replace(`CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2), tags text[], seen date, at timestamptz, ok boolean, raw bytea, ratio float8, small int2, meta jsonb, uid uuid, ip inet);
		CREATE TABLE log (n int)`)); qe != nil {
		t.Fatalf("query-batch: %v", qe)
	}
	params := []cabi.Value{
		variant("int8", int64(7)), variant("text", "widget"), variant("numeric", "12.50"),
		variant("text-array", []cabi.Value{"a", "b"}),
		variant("date", cabi.VariantValue{Case: 2, Value: []cabi.Value{int32(2024), uint32(2), uint32(29)}}),
		variant("timestamp-tz", []cabi.Value{
			[]cabi.Value{cabi.VariantValue{Case: 2, Value: []cabi.Value{int32(2024), uint32(1), uint32(2)}},
				[]cabi.Value{uint32(3), uint32(4), uint32(5), uint32(6)}},
			cabi.VariantValue{Case: 0, Value: int32(3600)}}),
		variant("bool", true), variant("bytea", []byte{0, 1, 2}), variant("float8", hashableF64(0.25)),
		variant("int2", int16(-3)), variant("jsonb", `{"k": [1, 2]}`),
		variant("uuid", "0e6a3f1c-2f0b-4d7e-9c1a-3b5d7f9e1a2c"), variant("inet", "10.1.2.3"),
	}
	rows, qe := s.Query(ctx, tbl.Replace(`INSERT INTO items VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING *`), params)
	if qe != nil {
		t.Fatalf("insert: %v", qe)
	}
	row := rows.([]cabi.Value)[0].([]cabi.Value)
	got := map[string]cabi.VariantValue{}
	for _, e := range row {
		f := e.([]cabi.Value)
		got[f[0].(string)] = f[1].(cabi.VariantValue)
	}
	check := func(col, kase string, want cabi.Value) {
		t.Helper()
		v := got[col]
		if pgValueCases[v.Case] != kase || !reflect.DeepEqual(v.Value, want) {
			t.Errorf("%s = %s(%#v), want %s(%#v)", col, pgValueCases[v.Case], v.Value, kase, want)
		}
	}
	check("id", "int8", int64(7))
	check("name", "text", "widget")
	check("price", "numeric", "12.50")
	check("tags", "text-array", []cabi.Value{"a", "b"})
	check("seen", "date", cabi.VariantValue{Case: 2, Value: []cabi.Value{int32(2024), uint32(2), uint32(29)}})
	// 03:04:05.000006 at +01:00 is 02:04:05.000006 UTC
	check("at", "timestamp-tz", []cabi.Value{
		[]cabi.Value{cabi.VariantValue{Case: 2, Value: []cabi.Value{int32(2024), uint32(1), uint32(2)}},
			[]cabi.Value{uint32(2), uint32(4), uint32(5), uint32(6)}},
		cabi.VariantValue{Case: 0, Value: int32(0)}})
	check("ok", "bool", true)
	check("raw", "bytea", []byte{0, 1, 2})
	check("ratio", "float8", hashableF64(0.25))
	check("small", "int2", int16(-3))
	check("meta", "jsonb", `{"k": [1, 2]}`)
	check("uid", "uuid", "0e6a3f1c-2f0b-4d7e-9c1a-3b5d7f9e1a2c")
	check("ip", "inet", "10.1.2.3")

	// NULLs both ways
	rows, qe = s.Query(ctx, `SELECT $1::text AS a, NULL::int AS b`, []cabi.Value{variant("null", nil)})
	if qe != nil || len(rows.([]cabi.Value)) != 1 {
		t.Fatalf("nulls: %v %v", rows, qe)
	}
	for _, e := range rows.([]cabi.Value)[0].([]cabi.Value) {
		if v := e.([]cabi.Value)[1].(cabi.VariantValue); v.Case != 0 {
			t.Errorf("column %v is not null: %v", e.([]cabi.Value)[0], v)
		}
	}

	// errors: bad SQL, a wrong parameter, a missing table; the session serves on
	for _, c := range []struct {
		sql    string
		params []cabi.Value
		kase   uint32
		want   string
	}{
		{"SELEC 1", nil, 1, "syntax error"},
		{"SELECT * FROM nope", nil, 1, `relation "nope" does not exist`},
		{"SELECT $1::int", []cabi.Value{variant("text", "x")}, 0, "invalid input syntax"},
		{"SELECT $1::int", nil, 0, "expected 1 arguments"},
		{"SELECT $1", []cabi.Value{variant("circle", []cabi.Value{[]cabi.Value{hashableF64(1), hashableF64(2)}, hashableF64(3)})}, 0, "not supported as a parameter"},
	} {
		_, qe := s.Query(ctx, c.sql, c.params)
		if qe == nil || qe.Case != c.kase || !strings.Contains(qe.Value.(string), c.want) {
			t.Errorf("%q: error %+v, want case %d with %q", c.sql, qe, c.kase, c.want)
		}
	}
	if qe := s.QueryBatch(ctx, "DROP TABLE nope"); qe == nil || !strings.Contains(qe.Value.(string), "does not exist") {
		t.Errorf("query-batch error: %+v", qe)
	}

	// prepared statements
	tok, pe := s.Prepare(ctx, tbl.Replace("INSERT INTO log VALUES ($1)"))
	if pe != nil || !strings.HasPrefix(tok, "prepared-statement-") {
		t.Fatalf("prepare: %q %v", tok, pe)
	}
	for i := range 3 {
		if n, ee := s.Exec(ctx, tok, []cabi.Value{variant("int4", int32(i))}); ee != nil || n != 1 {
			t.Fatalf("exec: %d %v", n, ee)
		}
	}
	if _, pe := s.Prepare(ctx, "INSERT INTO nope VALUES (1)"); pe == nil || pe.Case != 0 || !strings.Contains(pe.Value.(string), `relation "nope" does not exist`) {
		t.Errorf("prepare of a bad statement: %+v", pe)
	}
	if _, ee := s.Exec(ctx, "prepared-statement-NOPE", nil); ee == nil || ee.Case != 0 {
		t.Errorf("unknown token: %+v", ee)
	}
	other := pgCalls{t, open("comp-b")}
	if _, ee := other.Exec(ctx, tok, []cabi.Value{variant("int4", int32(9))}); ee == nil || ee.Case != 0 {
		t.Errorf("another component's token: %+v", ee)
	}
	rows, _ = s.Query(ctx, tbl.Replace("SELECT count(*) AS n FROM log"), nil)
	if v := rows.([]cabi.Value)[0].([]cabi.Value)[0].([]cabi.Value)[1].(cabi.VariantValue); v.Value != int64(3) {
		t.Errorf("log rows: %v", v)
	}

	// deleting the link forgets its statements
	_ = p.DeleteLink(ctx, Link{SourceID: "comp-a", Target: "pg", WitNamespace: "wasmcloud", WitPackage: "postgres"})
	s = pgCalls{t, open("comp-a")}
	if _, ee := s.Exec(ctx, tok, []cabi.Value{variant("int4", int32(1))}); ee == nil || ee.Case != 0 {
		t.Errorf("token after link delete: %+v", ee)
	}
}

func TestPostgresConfigErrors(t *testing.T) {
	p := newPostgresProvider("pg")
	err := p.PutLink(context.Background(), Link{SourceID: "c", Target: "pg", WitNamespace: "wasmcloud", WitPackage: "postgres",
		TargetConfig: map[string]string{"POSTGRES_HOST": "db"}})
	if err == nil || !strings.Contains(err.Error(), "no POSTGRES_DATABASE, POSTGRES_USERNAME in its target config") {
		t.Fatalf("missing keys: %v", err)
	}
	_, err = p.Open(InterfaceLinkDefinition{SourceID: "c", Target: "pg", TargetConfig: map[string]string{
		"postgres_host": "db", "POSTGRES_USERNAME": "u", "POSTGRES_DATABASE": "d", "POSTGRES_PORT": "99999"}})
	if err == nil || !strings.Contains(err.Error(), `POSTGRES_PORT "99999" is not a port number`) {
		t.Fatalf("bad port: %v", err)
	}
	// a refused connection reaches the caller as an error value, not a hang or a panic
	port := testtool.FreePort(t)
	s, err := p.Open(InterfaceLinkDefinition{SourceID: "c", Target: "pg", TargetConfig: map[string]string{
		"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": strconv.Itoa(port), "POSTGRES_USERNAME": "u", "POSTGRES_PASSWORD": "secret", "POSTGRES_DATABASE": "d"}})
	if err != nil {
		t.Fatal(err)
	}
	_, qe := s.Query(context.Background(), "SELECT 1", nil)
	if qe == nil || qe.Case != 2 || strings.Contains(qe.Value.(string), "secret") {
		t.Fatalf("refused: %+v", qe)
	}
	_ = p.Stop(context.Background())
}

func TestBuiltinTwinNames(t *testing.T) {
	for ref, want := range map[string]string{
		"ghcr.io/wasmcloud/http-server:0.23.0":          "http-server",
		"oci://ghcr.io/wasmcloud/keyvalue-redis:0.28.0": "keyvalue-redis",
		"ghcr.io/wasmcloud/sqldb-postgres@sha256:ab":    "sqldb-postgres",
		"ghcr.io/wasmcloud/keyvalue-inmemory:1":         "",
		"ghcr.io/wasmcloud/nope:1":                      "",
		"ghcr.io/other/http-server:1":                   "",
		"docker.io/wasmcloud/http-server:1":             "",
	} {
		got, ok := BuiltinTwin(ref)
		if got != want || ok != (want != "") {
			t.Errorf("BuiltinTwin(%q) = %q %v, want %q", ref, got, ok, want)
		}
	}
}
