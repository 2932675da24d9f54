package providers

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wasmlattice/wash/lattice/host/wrpcbridge"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
	wruntime "github.com/wasmlattice/wash/runtime"
	"github.com/wasmlattice/wash/runtime/cabi"
)

// Interface names of wasmcloud:postgres as upstream's sqldb-postgres provider exports them.
const (
	PostgresQuery    = interfaces.PostgresQuery
	PostgresPrepared = interfaces.PostgresPrepared
	// SQLDBPostgres is the builtin name (wasmcloud+builtin://sqldb-postgres).
	SQLDBPostgres = "sqldb-postgres"
)

// PostgresProvider is the built-in sqldb-postgres provider. A link from a component (namespace
// wasmcloud, package postgres) is served with a connection pool built from the link's target
// config, with upstream's keys: POSTGRES_HOST, POSTGRES_PORT (5432), POSTGRES_USERNAME,
// POSTGRES_PASSWORD, POSTGRES_DATABASE, POSTGRES_TLS_REQUIRED, POSTGRES_POOL_SIZE and
// POSTGRES_SHARE_CONNECTIONS_BY_URL (one pool for every link with the same settings). Pools
// connect lazily; a link change or removal closes the old pool.
type PostgresProvider struct {
	id string

	mu    sync.Mutex
	pools map[string]*pgPool         // by pool key
	stmts map[string]pgPrepared      // by token
	links map[string]map[string]bool // source id -> pool keys it used
}

type pgPool struct {
	pool   *pgxpool.Pool
	shared bool
	users  map[string]bool // source ids
}

type pgPrepared struct {
	query  string
	source string
}

func newPostgresProvider(id string) *PostgresProvider {
	return &PostgresProvider{id: id, pools: map[string]*pgPool{}, stmts: map[string]pgPrepared{},
		links: map[string]map[string]bool{}}
}

// pgLinkConfig is what a link's target config says about the database.
type pgLinkConfig struct {
	connString string // postgres://... without the pool size
	poolSize   int
	share      bool
}

func postgresConfig(link InterfaceLinkDefinition) (pgLinkConfig, error) {
	cfg := link.TargetConfig
	get := func(k string) string { return strings.TrimSpace(configValue(cfg, "POSTGRES_"+k)) }
	host, user, db := get("HOST"), get("USERNAME"), get("DATABASE")
	var missing []string
	for k, v := range map[string]string{"POSTGRES_HOST": host, "POSTGRES_USERNAME": user, "POSTGRES_DATABASE": db} {
		if v == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return pgLinkConfig{}, fmt.Errorf("sqldb-postgres: the link from %s to %s has no %s in its target config; add them (wash config put NAME POSTGRES_HOST=... and name it in the link's target config)",
			link.SourceID, link.Target, strings.Join(missing, ", "))
	}
	port := 5432
	if p := get("PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return pgLinkConfig{}, fmt.Errorf("sqldb-postgres: POSTGRES_PORT %q is not a port number", p)
		}
		port = n
	}
	out := pgLinkConfig{poolSize: 4 * runtime.NumCPU(), share: truthy(get("SHARE_CONNECTIONS_BY_URL"))}
	if p := get("POOL_SIZE"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 10000 {
			return pgLinkConfig{}, fmt.Errorf("sqldb-postgres: POSTGRES_POOL_SIZE %q is not a pool size (1..10000)", p)
		}
		out.poolSize = n
	}
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: "/" + db}
	if pw := configValue(cfg, "POSTGRES_PASSWORD"); pw != "" {
		u.User = url.UserPassword(user, pw)
	} else {
		u.User = url.User(user)
	}
	q := url.Values{}
	if truthy(get("TLS_REQUIRED")) {
		q.Set("sslmode", "verify-full")
	} else {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	out.connString = u.String()
	return out, nil
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes":
		return true
	}
	return false
}

// PutLink checks a link from a component: a missing or bad setting is reported now (the host
// logs it), and again to the component on each call.
func (p *PostgresProvider) PutLink(_ context.Context, l Link) error {
	if l.Target != p.id || l.WitNamespace != "wasmcloud" || l.WitPackage != "postgres" {
		return nil
	}
	_, err := postgresConfig(InterfaceLinkDefinition{SourceID: l.SourceID, Target: l.Target, TargetConfig: l.TargetConfig})
	return err
}

// DeleteLink closes the pools only the link's source used and forgets its prepared
// statements.
func (p *PostgresProvider) DeleteLink(_ context.Context, l Link) error {
	if l.Target != p.id || l.WitNamespace != "wasmcloud" || l.WitPackage != "postgres" {
		return nil
	}
	var closing []*pgxpool.Pool
	p.mu.Lock()
	for key := range p.links[l.SourceID] {
		pp := p.pools[key]
		if pp == nil {
			continue
		}
		delete(pp.users, l.SourceID)
		if len(pp.users) == 0 {
			closing = append(closing, pp.pool)
			delete(p.pools, key)
		}
	}
	delete(p.links, l.SourceID)
	for tok, st := range p.stmts {
		if st.source == l.SourceID {
			delete(p.stmts, tok)
		}
	}
	p.mu.Unlock()
	for _, c := range closing {
		go c.Close() // Close waits for borrowed connections; do not block link delivery
	}
	return nil
}

// Stop closes every pool.
func (p *PostgresProvider) Stop(context.Context) error {
	p.mu.Lock()
	pools := p.pools
	p.pools, p.links, p.stmts = map[string]*pgPool{}, map[string]map[string]bool{}, map[string]pgPrepared{}
	p.mu.Unlock()
	for _, pp := range pools {
		pp.pool.Close()
	}
	return nil
}

// Open returns the session for a call through link (from the calling component): its pool,
// made on first use.
func (p *PostgresProvider) Open(link InterfaceLinkDefinition) (*PostgresSession, error) {
	cfg, err := postgresConfig(link)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%d", cfg.connString, cfg.poolSize)))
	key := hex.EncodeToString(sum[:])
	if !cfg.share {
		key = link.SourceID + "|" + key
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pp := p.pools[key]
	if pp == nil {
		pc, err := pgxpool.ParseConfig(cfg.connString)
		if err != nil {
			return nil, fmt.Errorf("sqldb-postgres: connection settings: %v", redactPG(err))
		}
		pc.MaxConns = int32(cfg.poolSize)
		pool, err := pgxpool.NewWithConfig(context.Background(), pc)
		if err != nil {
			return nil, fmt.Errorf("sqldb-postgres: creating the pool: %v", redactPG(err))
		}
		pp = &pgPool{pool: pool, shared: cfg.share, users: map[string]bool{}}
		p.pools[key] = pp
	}
	pp.users[link.SourceID] = true
	if p.links[link.SourceID] == nil {
		p.links[link.SourceID] = map[string]bool{}
	}
	p.links[link.SourceID][key] = true
	return &PostgresSession{p: p, source: link.SourceID, pool: pp.pool}, nil
}

// redactPG keeps a password out of an error that quotes the connection string.
func redactPG(err error) string {
	s := err.Error()
	if i := strings.Index(s, "postgres://"); i >= 0 {
		if j := strings.Index(s[i:], "@"); j >= 0 {
			s = s[:i] + "postgres://***" + s[i+j:]
		}
	}
	return s
}

// PostgresSession is one component's view of the provider for one call.
type PostgresSession struct {
	p      *PostgresProvider
	source string
	pool   *pgxpool.Pool
}

// Named cases of the wasmcloud:postgres error variants.
var (
	qeInvalidParams      = interfaces.Case(interfaces.QueryError, "invalid-params")
	qeInvalidQuery       = interfaces.Case(interfaces.QueryError, "invalid-query")
	qeUnexpected         = interfaces.Case(interfaces.QueryError, "unexpected")
	speUnexpected        = interfaces.Case(interfaces.StatementPrepareError, "unexpected")
	pseUnknownPrepared   = interfaces.Case(interfaces.PreparedStatementExecError, "unknown-prepared-query")
	pseQueryError        = interfaces.Case(interfaces.PreparedStatementExecError, "query-error")
	dateNegativeInfinity = interfaces.Case(interfaces.Date, "negative-infinity")
	datePositiveInfinity = interfaces.Case(interfaces.Date, "positive-infinity")
	dateYMD              = interfaces.Case(interfaces.Date, "ymd")
	offsetEast           = interfaces.Case(interfaces.Offset, "eastern-hemisphere-secs")
)

// pgSigs are the component types of the wasmcloud:postgres functions, by interface and name,
// from their wire definitions (checked against a component's imports at link time); built on
// first use, not at start-up.
var pgSigs = sync.OnceValue(func() map[string]map[string]*cabi.FuncType {
	out := map[string]map[string]*cabi.FuncType{PostgresQuery: {}, PostgresPrepared: {}}
	for _, f := range interfaces.Postgres {
		ft, err := wrpcbridge.ComponentFunc(f.Type)
		if err != nil {
			panic(fmt.Sprintf("%s#%s: %v", f.Instance, f.Name, err))
		}
		out[f.Instance][f.Name] = ft
	}
	return out
})

// queryError is wasmcloud:postgres/types.query-error case c (qe*) with a message.
func queryError(c uint32, format string, args ...any) cabi.VariantValue {
	return cabi.VariantValue{Case: c, Value: fmt.Sprintf(format, args...)}
}

// classify maps a server error to a query-error case: SQLSTATE class 42 (syntax error or
// access rule violation) is invalid-query, class 22 (data exception) invalid-params, the rest
// unexpected.
func classify(err error) cabi.VariantValue {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "42"):
			return queryError(qeInvalidQuery, "invalid query: %s (SQLSTATE %s)", pe.Message, pe.Code)
		case strings.HasPrefix(pe.Code, "22"), pe.Code == "08P01":
			return queryError(qeInvalidParams, "invalid parameters: %s (SQLSTATE %s)", pe.Message, pe.Code)
		}
		return queryError(qeUnexpected, "query failed: %s (SQLSTATE %s)", pe.Message, pe.Code)
	}
	var ae *argError
	if errors.As(err, &ae) {
		return queryError(qeInvalidParams, "invalid parameters: %s", ae.msg)
	}
	if strings.Contains(err.Error(), "expected") && strings.Contains(err.Error(), "arguments") {
		return queryError(qeInvalidParams, "invalid parameters: %s", err)
	}
	return queryError(qeUnexpected, "query failed: %s", redactPG(err))
}

type argError struct{ msg string }

func (e *argError) Error() string { return e.msg }

func pgParams(list cabi.Value) ([]any, error) {
	l, _ := list.([]cabi.Value)
	args := make([]any, 0, len(l))
	for i, v := range l {
		a, err := pgParam(v)
		if err != nil {
			return nil, &argError{fmt.Sprintf("parameter $%d: %v", i+1, err)}
		}
		args = append(args, a)
	}
	return args, nil
}

var pgResultFormats = func() pgx.QueryResultFormatsByOID {
	m := pgx.QueryResultFormatsByOID{}
	for _, oid := range pgBinaryOIDs {
		m[oid] = pgtype.BinaryFormatCode
	}
	return m
}()

// Query runs a parameterized query and returns its rows (list<result-row>).
func (s *PostgresSession) Query(ctx context.Context, query string, params cabi.Value) (cabi.Value, *cabi.VariantValue) {
	args, err := pgParams(params)
	if err != nil {
		e := classify(err)
		return nil, &e
	}
	rows, err := s.pool.Query(ctx, query, append([]any{pgResultFormats}, args...)...)
	if err != nil {
		e := classify(err)
		return nil, &e
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	m := rows.Conn().TypeMap()
	out := []cabi.Value{}
	for rows.Next() {
		raw := rows.RawValues()
		row := make([]cabi.Value, len(fields))
		for i, f := range fields {
			v, err := pgResultValue(m, f.DataTypeOID, f.Format, raw[i])
			if err != nil {
				rows.Close()
				e := queryError(qeUnexpected, "column %q: %v", f.Name, err)
				return nil, &e
			}
			row[i] = []cabi.Value{f.Name, v}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		e := classify(err)
		return nil, &e
	}
	return out, nil
}

// QueryBatch runs statements without parameters (simple protocol; several are allowed).
func (s *PostgresSession) QueryBatch(ctx context.Context, query string) *cabi.VariantValue {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		e := classify(err)
		return &e
	}
	defer conn.Release()
	if err := conn.Conn().PgConn().Exec(ctx, query).Close(); err != nil {
		e := classify(err)
		return &e
	}
	return nil
}

// Prepare checks a statement on the server and returns a token for Exec, or a
// statement-prepare-error (unexpected, with the server's message).
func (s *PostgresSession) Prepare(ctx context.Context, query string) (string, *cabi.VariantValue) {
	fail := func(err error) (string, *cabi.VariantValue) {
		return "", &cabi.VariantValue{Case: speUnexpected, Value: classify(err).Value}
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fail(err)
	}
	defer conn.Release()
	if _, err := conn.Conn().Prepare(ctx, "", query); err != nil {
		return fail(err)
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	tok := "prepared-statement-" + strings.ToUpper(hex.EncodeToString(b[:]))
	s.p.mu.Lock()
	s.p.stmts[tok] = pgPrepared{query: query, source: s.source}
	s.p.mu.Unlock()
	return tok, nil
}

// Exec runs a prepared statement and returns the rows affected. A token prepared by another
// component is unknown here.
func (s *PostgresSession) Exec(ctx context.Context, token string, params cabi.Value) (uint64, *cabi.VariantValue) {
	s.p.mu.Lock()
	st, ok := s.p.stmts[token]
	s.p.mu.Unlock()
	if !ok || st.source != s.source {
		return 0, &cabi.VariantValue{Case: pseUnknownPrepared}
	}
	args, err := pgParams(params)
	if err != nil {
		return 0, &cabi.VariantValue{Case: pseQueryError, Value: classify(err)}
	}
	tag, err := s.pool.Exec(ctx, st.query, args...)
	if err != nil {
		return 0, &cabi.VariantValue{Case: pseQueryError, Value: classify(err)}
	}
	return uint64(tag.RowsAffected()), nil
}

// PostgresInterfaces builds wasmcloud:postgres query and prepared over open, which returns
// where the calling component's link points: a session of the builtin on this host, or a
// provider elsewhere (RemotePostgres). A LinkError from open, or an error from a call that
// could not be made, fails the call; any other error from open becomes the function's
// "unexpected" error.
func PostgresInterfaces(open func(ctx context.Context) (PostgresBackend, error)) []*wruntime.HostInterface {
	out := []*wruntime.HostInterface{
		{Name: PostgresQuery, Funcs: map[string]wruntime.HostFunc{}, Types: pgSigs()[PostgresQuery]},
		{Name: PostgresPrepared, Funcs: map[string]wruntime.HostFunc{}, Types: pgSigs()[PostgresPrepared]},
	}
	for _, f := range interfaces.Postgres {
		hi := out[0]
		if f.Instance == PostgresPrepared {
			hi = out[1]
		}
		hi.Funcs[f.Name] = func(ctx context.Context, a []cabi.Value) (cabi.Value, error) {
			b, err := open(ctx)
			var le *LinkError
			if errors.As(err, &le) {
				return nil, fmt.Errorf("%s#%s: %w", f.Instance, f.Name, err)
			}
			if err != nil {
				return pgUnexpected(f, err.Error()), nil
			}
			return b.Call(ctx, f, a)
		}
	}
	return out
}
