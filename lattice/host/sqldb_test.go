package host_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
)

// pgCounter serves examples/pg-counter behind the builtin http-server, linked to a
// sqldb-postgres provider with the server's settings as named config; it returns the base URL.
func pgCounter(t *testing.T, l *lattice, pg *providertest.Postgres, instances uint32) string {
	t.Helper()
	l.scale("pgcounter", fixtureRef(t, "../../examples/pg-counter/pg-counter.component.wasm"), instances, nil)
	l.linkBuiltin("pg", "sqldb-postgres", ctl.Link{SourceID: "pgcounter", Target: "pg", WitNamespace: "wasmcloud", WitPackage: "postgres",
		Interfaces: []string{"query", "prepared"}, TargetConfig: []string{"pg-conn"}}, "pg-conn", pg.Config())
	return l.serveHTTP("pgcounter")
}

// The pg-counter example through the host: 20 clients × 1,000 increments of one counter get
// the answers 1..20,000 exactly once each, and pg_counter_log holds exactly those values. A
// statement the database rejects reaches the component as the interface's error (answered
// 500 with Postgres's message, logged by the host), and the provider serves on.
func TestPgCounterThroughHost(t *testing.T) {
	pg := providertest.StartPostgres(t)
	l, log := newLoggedLattice(t, host.Config{})
	base := pgCounter(t, l, pg, 20)

	// the first request creates the tables
	if code, body := waitServed(t, base+"/warmup"); code != 200 || body != "1\n" {
		t.Fatalf("first GET: %d %q", code, body)
	}
	if code, body := do(t, http.MethodGet, base+"/warmup", ""); code != 200 || body != "2\n" {
		t.Fatalf("second GET: %d %q", code, body)
	}

	const clients, per = 20, 1000
	var mu sync.Mutex
	var got []int
	var firstErr error
	var wg sync.WaitGroup
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for range clients {
		wg.Go(func() {
			for range per {
				n, err := func() (int, error) {
					res, err := hc.Get(base + "/hits")
					if err != nil {
						return 0, err
					}
					defer res.Body.Close()
					b, _ := io.ReadAll(res.Body)
					if res.StatusCode != 200 {
						return 0, fmt.Errorf("%d %q", res.StatusCode, b)
					}
					return strconv.Atoi(strings.TrimSpace(string(b)))
				}()
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				got = append(got, n)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("concurrent increments: %v", firstErr)
	}
	slices.Sort(got)
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("answer %d is %d (want 1..%d, each once)", i, n, clients*per)
		}
	}
	db, err := pgx.Connect(context.Background(), pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	var count, lo, hi, distinct, value int64
	if err := db.QueryRow(context.Background(), `SELECT count(*), min(value), max(value), count(DISTINCT value) FROM pg_counter_log WHERE key = 'hits'`).Scan(&count, &lo, &hi, &distinct); err != nil {
		t.Fatal(err)
	}
	if count != clients*per || lo != 1 || hi != clients*per || distinct != clients*per {
		t.Fatalf("pg_counter_log: %d rows, values %d..%d, %d distinct; want 1..%d", count, lo, hi, distinct, clients*per)
	}
	if err := db.QueryRow(context.Background(), `SELECT value FROM pg_counter WHERE key = 'hits'`).Scan(&value); err != nil || value != clients*per {
		t.Fatalf("pg_counter hits = %d %v", value, err)
	}

	// the component's statement becomes invalid: the error reaches it, the provider serves on
	if _, err := db.Exec(context.Background(), `ALTER TABLE pg_counter RENAME COLUMN value TO v`); err != nil {
		t.Fatal(err)
	}
	code, body := do(t, http.MethodGet, base+"/hits", "")
	if code != 500 || !strings.Contains(body, `query failed: invalid query: column "value" of relation "pg_counter" does not exist`) {
		t.Fatalf("GET with a broken statement: %d %q", code, body)
	}
	waitLog(t, log, "component_id=pgcounter provider_id=pg", "function=wasmcloud:postgres/query@0.1.1-draft#query", `column \"value\" of relation \"pg_counter\" does not exist`)
	if _, err := db.Exec(context.Background(), `ALTER TABLE pg_counter RENAME COLUMN v TO value`); err != nil {
		t.Fatal(err)
	}
	if code, body := do(t, http.MethodGet, base+"/hits", ""); code != 200 || body != fmt.Sprintf("%d\n", clients*per+1) {
		t.Fatalf("GET after the fix: %d %q", code, body)
	}
}

// A link without the connection settings: the host logs the provider's complaint when the
// link arrives and every call answers 500 naming the missing keys.
func TestPgCounterMissingConfig(t *testing.T) {
	l, log := newLoggedLattice(t, host.Config{})
	l.scale("pgcounter", fixtureRef(t, "../../examples/pg-counter/pg-counter.component.wasm"), 1, nil)
	l.startBuiltin("pg", "sqldb-postgres")
	l.ok(l.c.PutLink(context.Background(), ctl.Link{SourceID: "pgcounter", Target: "pg", WitNamespace: "wasmcloud", WitPackage: "postgres",
		Interfaces: []string{"query"}}))
	code, body := waitServed(t, l.serveHTTP("pgcounter")+"/x")
	if code != 500 || !strings.Contains(body, "has no POSTGRES_DATABASE, POSTGRES_HOST, POSTGRES_USERNAME in its target config") {
		t.Fatalf("GET: %d %q", code, body)
	}
	waitLog(t, log, "builtin provider rejected a link", "POSTGRES_HOST")
}
