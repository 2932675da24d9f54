#!/bin/sh
# pg-counter throughput: examples/pg-counter (a WAT component incrementing one row per
# request through wasmcloud:postgres) served by `wash up` through the built-in http-server and
# sqldb-postgres, against bench/pgplain, the same handler in plain Go + pgx, on the same
# PostgreSQL in the same run. Prints req/s of both and the ratio, then checks that the
# table's counters equal the requests served.
#
#   bench/pg-counter.sh                  # 10 s each, 20 connections
#   DURATION=30s CONNECTIONS=50 bench/pg-counter.sh
#
# PostgreSQL runs with synchronous_commit=off (SYNC_COMMIT=on for durable commits, which makes
# the disk the bottleneck of both servers).
#
# Needs wrk and Debian's postgresql (apt-get install wrk postgresql).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
wasm=$(pwd)/examples/pg-counter/pg-counter.component.wasm
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$pgbin" ] || { echo "PostgreSQL is required (apt-get install postgresql)" >&2; exit 1; }
need "apt-get install wrk" wrk

chmod 755 "$tmp"
asdb() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
bench_stop() {
	[ -f "$tmp/pg/postmaster.pid" ] && asdb "$pgbin/pg_ctl" -D "$tmp/pg" -m fast stop >/dev/null 2>&1 || true
}

echo "building wash and the plain Go baseline…" >&2
build_wash
go build -o "$tmp/pgplain" ./bench/pgplain

pgport=$(free_port)
mkdir -p "$tmp/pg"
[ "$(id -u)" = 0 ] && chown postgres "$tmp/pg"
asdb "$pgbin/initdb" -D "$tmp/pg" -U postgres -A trust --no-sync >/dev/null
asdb "$pgbin/pg_ctl" -D "$tmp/pg" -l "$tmp/pg/log" -w -o "-h 127.0.0.1 -p $pgport -k $tmp/pg -c max_connections=200 -c synchronous_commit=${SYNC_COMMIT:-off}" start >/dev/null
dsn="postgres://postgres@127.0.0.1:$pgport/postgres?sslmode=disable"

plain=$(free_port)
"$tmp/pgplain" -addr "127.0.0.1:$plain" -db "$dsn" &
pids="$pids $!"

up_lattice
comp=$(free_port)
"$W" start provider wasmcloud+builtin://http-server http-server >/dev/null
"$W" start provider wasmcloud+builtin://sqldb-postgres postgres >/dev/null
"$W" start component "$wasm" pgcounter --max-instances 100 >/dev/null
"$W" config put pg-conn POSTGRES_HOST=127.0.0.1 POSTGRES_PORT="$pgport" POSTGRES_USERNAME=postgres POSTGRES_DATABASE=postgres >/dev/null
"$W" link put pgcounter postgres wasmcloud postgres --interface query --interface prepared --target-config pg-conn >/dev/null
serve_http pgcounter "$comp" pg-addr

wait_up "$comp" warm
wait_up "$plain" warm

# run NAME PORT KEY -> prints a row and leaves req/s in $rps
run() {
	wrk_warm "http://127.0.0.1:$2/warm-$3"
	wrk_latency "http://127.0.0.1:$2/$3"
	last=$(curl -fsS "http://127.0.0.1:$2/$3")
	printf '%-30s %10s %9s %9s  wrk counted %s, counter now %s %s\n' "$1" "$rps" "$p50" "$p99" "$reqs" "$last" "$errs"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores; PostgreSQL, wrk, NATS and the servers share them"
printf '%-30s %10s %9s %9s\n' server "req/s" p50 p99
run "plain Go + pgx (baseline)" "$plain" plain
base=$rps
run "pg-counter via wash" "$comp" wash
echo "ratio wash / plain: $(echo "$rps $base" | awk '{printf "%.0f %%", 100*$1/$2}')"
echo "table: $(asdb "$pgbin/psql" -h 127.0.0.1 -p "$pgport" -U postgres -Atc "SELECT string_agg(key || '=' || value, ' ' ORDER BY key) FROM pg_counter WHERE key IN ('plain','wash')")"
