// Command pgplain is the baseline of bench/pg-counter.sh: the pg-counter example's handler in
// plain Go with pgx (the same statement, the same pool size as sqldb-postgres's default), so
// the benchmark shows what the component, the host and the provider cost.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	upsert = `WITH c AS (INSERT INTO pg_counter (key, value) VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET value = pg_counter.value + 1 RETURNING key, value) INSERT INTO pg_counter_log (key, value) SELECT key, value FROM c RETURNING value`
	create = `CREATE TABLE IF NOT EXISTS pg_counter (key text PRIMARY KEY, value bigint NOT NULL); CREATE TABLE IF NOT EXISTS pg_counter_log (key text NOT NULL, value bigint NOT NULL)`
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8091", "listen address")
	dsn := flag.String("db", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "database URL")
	flag.Parse()
	cfg, err := pgxpool.ParseConfig(*dsn)
	if err != nil {
		log.Fatal(err)
	}
	cfg.MaxConns = int32(4 * runtime.NumCPU())
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), create); err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.URL.Path, "/")
		if key == "" {
			key = "root"
		}
		var n int64
		if err := pool.QueryRow(r.Context(), upsert, key).Scan(&n); err != nil {
			w.Header().Set("content-type", "text/plain")
			w.WriteHeader(500)
			fmt.Fprintf(w, "query failed: %v\n", err)
			return
		}
		w.Header().Set("content-type", "text/plain")
		fmt.Fprintf(w, "%d\n", n)
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
