package host_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
)

// The providers that talk to outside servers, used from another host: the provider runs on
// host 0, the components only on host 1 (behind an http-server there), so every call crosses
// the lattice over wRPC.

// sqldb-postgres on host 0 serves wasmcloud:postgres to pg-counter (query, query-batch) and
// pgnotes (prepare, exec) on host 1, against a real PostgreSQL: concurrent increments come
// back exactly once each, error values (a broken statement, an unknown prepared statement, a
// constraint violation nested in exec's error) reach the components as values, and once the
// provider stops the calls fail naming it.
func TestPostgresAcrossHosts(t *testing.T) {
	pg := providertest.StartPostgres(t)
	m := newMultiHost(t, 2, host.Config{})
	ctx := context.Background()
	m.startBuiltin(0, "pg", "sqldb-postgres")
	m.ok(m.c.PutConfig(ctx, "pg-conn", pg.Config()))
	m.scale(1, "pgcounter", fixtureRef(t, "../../examples/pg-counter/pg-counter.component.wasm"), 8)
	m.scale(1, "pgnotes", fixtureRef(t, "providers/testdata/pgnotes/pgnotes.component.wasm"), 2)
	for _, id := range []string{"pgcounter", "pgnotes"} {
		m.link(ctl.Link{SourceID: id, Target: "pg", WitNamespace: "wasmcloud", WitPackage: "postgres",
			Interfaces: []string{"query", "prepared"}, TargetConfig: []string{"pg-conn"}})
	}
	m.startBuiltin(1, "http", "http-server")
	counterAddr, notesAddr := pair(freeAddrs(t, 2))
	m.serveHTTP("http", "pgcounter", counterAddr)
	m.serveHTTP("http", "pgnotes", notesAddr)
	counter, notes := "http://"+counterAddr, "http://"+notesAddr

	// query-batch creates the tables on the first request, query counts
	waitServed(t, notes+"/~warmup") // the http-server answers; "~" inserts nothing
	if code, body := waitServed(t, counter+"/warmup"); code != 200 || body != "1\n" {
		waitBody(t, counter+"/warmup", 200, "1\n") // a request before the link arrived counted nothing
	}
	const clients, per = 8, 50
	countsExactly(t, counter+"/hits", clients, per)

	db, err := pgx.Connect(ctx, pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	exec := func(sql string) {
		t.Helper()
		if _, err := db.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	// an error value from the other host: the statement fails, the provider serves on
	exec(`ALTER TABLE pg_counter RENAME COLUMN value TO v`)
	if code, body := do(t, http.MethodGet, counter+"/hits", ""); code != 500 ||
		!strings.Contains(body, `query failed: invalid query: column "value" of relation "pg_counter" does not exist`) {
		t.Fatalf("broken statement: %d %q", code, body)
	}
	exec(`ALTER TABLE pg_counter RENAME COLUMN v TO value`)
	if code, body := do(t, http.MethodGet, counter+"/hits", ""); code != 200 || body != fmt.Sprintf("%d\n", clients*per+1) {
		t.Fatalf("after the fix: %d %q", code, body)
	}

	// prepared statements: prepare and exec over wRPC, and exec's error cases
	exec(`CREATE TABLE pg_notes (note text CHECK (length(note) <= 20))`)
	if code, body := do(t, http.MethodGet, notes+"/across-hosts", ""); code != 200 || body != "inserted 1\n" {
		t.Fatalf("prepared insert: %d %q", code, body)
	}
	if code, body := do(t, http.MethodGet, notes+"/~stale", ""); code != 404 || body != "unknown prepared statement\n" {
		t.Fatalf("unknown token: %d %q", code, body)
	}
	if code, body := do(t, http.MethodGet, notes+"/"+strings.Repeat("x", 30), ""); code != 500 ||
		!strings.Contains(body, `exec failed: query failed: new row for relation "pg_notes" violates check constraint`) {
		t.Fatalf("constraint violation: %d %q", code, body)
	}
	var notesRows []string
	rows, err := db.Query(ctx, `SELECT note FROM pg_notes`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		notesRows = append(notesRows, s)
	}
	if !slices.Equal(notesRows, []string{"across-hosts"}) {
		t.Fatalf("pg_notes = %q", notesRows)
	}

	// the provider stops: the call cannot be made and fails naming the missing provider
	m.ok(m.c.StopProvider(ctx, ctl.StopProviderCommand{HostID: m.hosts[0].ID(), ProviderID: "pg"}))
	m.evs.waitFor(t, events.ProviderStopped, func(d map[string]any) bool { return d["provider_id"] == "pg" })
	waitBody(t, counter+"/hits", 500, `pg is not running anywhere in lattice "default"`)
}

// blobstore-s3 on host 0 (against a real S3 gateway) stores the files of examples/s3-files on
// host 1: object data streams across the lattice both ways, and S3's refusal of wrong
// credentials reaches the component as an error value.
func TestS3FilesAcrossHosts(t *testing.T) {
	gw := providertest.StartS3(t, "washtest", "washtest-secret-key")
	m := newMultiHost(t, 2, host.Config{})
	ctx := context.Background()
	m.startBuiltin(0, "s3", "blobstore-s3")
	cfg, _ := json.Marshal(map[string]string{"access_key_id": gw.AccessKey, "secret_access_key": gw.SecretKey, "endpoint": gw.Endpoint})
	m.ok(m.c.PutConfig(ctx, "s3-conn", map[string]string{"config_json": string(cfg)}))
	m.scale(1, "files", fixtureRef(t, "../../examples/s3-files/s3-files.component.wasm"), 4)
	m.link(blobstoreLink("files", "s3", "s3-conn"))
	m.startBuiltin(1, "http", "http-server")
	addr := freeAddr(t)
	m.serveHTTP("http", "files", addr)
	base := "http://" + addr

	waitServed(t, base+"/")
	waitBody(t, base+"/", 200, "")
	// 4 MiB: several multipart parts, many wRPC chunks
	checkS3Files(t, base, 4<<20, gw, func(cfg map[string]string) { m.ok(m.c.PutConfig(ctx, "s3-conn", cfg)) })
}

// messaging-kafka on host 0 (against kfake, a Kafka-protocol broker) delivers a topic's
// records to msgecho's handler on host 1, and the echo msgecho publishes goes back through the
// provider's consumer interface: both directions cross the lattice.
func TestKafkaAcrossHosts(t *testing.T) {
	brokers := startKafka(t)
	m := newMultiHost(t, 2, host.Config{})
	m.scale(1, "echo", fixtureRef(t, "providers/testdata/msgecho/msgecho.component.wasm"), 2)
	m.startBuiltin(0, "kafka", "messaging-kafka")
	m.ok(m.c.PutConfig(context.Background(), "kafka-orders", kafkaOrders(brokers)))
	m.link(kafkaEchoLink)
	if !kafkaEchoes(t, brokers, "across ", "echo: across ") {
		t.Fatal("no echo on orders.reply within 30s")
	}
}

// keyvalue-vault on host 0 (against a real Vault) keeps the counter on host 1: concurrent
// increments through wasi:keyvalue/atomics across the lattice come back exactly once each,
// land in Vault in upstream's layout (secret path = bucket, field = key, value = unpadded
// base64), and Vault's refusal of a wrong token reaches the component as access-denied.
func TestVaultAcrossHosts(t *testing.T) {
	v := providertest.StartVault(t)
	m := newMultiHost(t, 2, host.Config{})
	ctx := context.Background()
	m.startBuiltin(0, "vault", "keyvalue-vault")
	m.ok(m.c.PutConfig(ctx, "vault-conn", map[string]string{"addr": v.Addr, "token": v.Token}))
	m.scale(1, "counter", fixtureRef(t, "providers/testdata/counter/counter.component.wasm"), 8)
	m.link(ctl.Link{SourceID: "counter", Target: "vault", WitNamespace: "wasi", WitPackage: "keyvalue",
		Interfaces: []string{"store", "atomics"}, TargetConfig: []string{"vault-conn"}})
	m.startBuiltin(1, "http", "http-server")
	addr := freeAddr(t)
	m.serveHTTP("http", "counter", addr)
	base := "http://" + addr

	waitServed(t, base+"/warmup")        // the http-server listens
	waitBody(t, base+"/warmup", 200, "") // and the link has reached the provider
	const clients, per = 8, 25
	countsExactly(t, base+"/hits", clients, per)

	// what the provider on the other host wrote, read through Vault's own API
	fields, err := v.Fields("default")
	want := base64.RawStdEncoding.EncodeToString([]byte(strconv.Itoa(clients * per)))
	if err != nil || fields["hits"] != want {
		t.Fatalf("secret default: field hits = %q (want %q), %v", fields["hits"], want, err)
	}

	// a wrong token: Vault refuses, the component gets access-denied as a value
	m.ok(m.c.PutConfig(ctx, "vault-conn", map[string]string{"addr": v.Addr, "token": "not-a-token"}))
	waitBody(t, base+"/hits", 500, "access denied")
}

// countsExactly sends clients × per concurrent GETs to a counter at url that starts at 0:
// the answers are 1..clients×per, each once.
func countsExactly(t *testing.T, url string, clients, per int) {
	t.Helper()
	var mu sync.Mutex
	var got []int
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range per {
				code, body, err := get(url)
				n, _ := strconv.Atoi(strings.TrimSpace(body))
				if err != nil || code != 200 {
					n = -1
					t.Errorf("GET %s: %d %q %v", url, code, body, err)
				}
				mu.Lock()
				got = append(got, n)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(got)
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("answer %d is %d (want 1..%d, each once)", i, n, clients*per)
		}
	}
}
