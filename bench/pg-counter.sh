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
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-20}
THREADS=${THREADS:-2}
wasm=$(pwd)/examples/pg-counter/pg-counter.component.wasm
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$pgbin" ] || { echo "PostgreSQL is required (apt-get install postgresql)" >&2; exit 1; }
command -v wrk >/dev/null 2>&1 || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=""
export WASH_HOME="$tmp/home"
asdb() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	"$tmp/wash" down --all >/dev/null 2>&1 || true
	[ -f "$tmp/pg/postmaster.pid" ] && asdb "$pgbin/pg_ctl" -D "$tmp/pg" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

echo "building wash and the plain Go baseline…" >&2
go build -o "$tmp/wash" ./cmd/wash
go build -o "$tmp/pgplain" ./bench/pgplain
W="$tmp/wash"

pgport=$(free_port)
mkdir -p "$tmp/pg"
[ "$(id -u)" = 0 ] && chown postgres "$tmp/pg"
asdb "$pgbin/initdb" -D "$tmp/pg" -U postgres -A trust --no-sync >/dev/null
asdb "$pgbin/pg_ctl" -D "$tmp/pg" -l "$tmp/pg/log" -w -o "-h 127.0.0.1 -p $pgport -k $tmp/pg -c max_connections=200 -c synchronous_commit=${SYNC_COMMIT:-off}" start >/dev/null
dsn="postgres://postgres@127.0.0.1:$pgport/postgres?sslmode=disable"

plain=$(free_port)
"$tmp/pgplain" -addr "127.0.0.1:$plain" -db "$dsn" &
pids="$pids $!"

nats=$(free_port)
export WASMCLOUD_CTL_PORT=$nats
"$W" up -d --nats-port "$nats" >/dev/null
comp=$(free_port)
"$W" start provider wasmcloud+builtin://http-server http-server >/dev/null
"$W" start provider wasmcloud+builtin://sqldb-postgres postgres >/dev/null
"$W" start component "$wasm" pgcounter --max-instances 100 >/dev/null
"$W" config put pg-conn POSTGRES_HOST=127.0.0.1 POSTGRES_PORT="$pgport" POSTGRES_USERNAME=postgres POSTGRES_DATABASE=postgres >/dev/null
"$W" link put pgcounter postgres wasmcloud postgres --interface query --interface prepared --target-config pg-conn >/dev/null
"$W" config put pg-addr "address=127.0.0.1:$comp" >/dev/null
"$W" link put http-server pgcounter wasi http --interface incoming-handler --source-config pg-addr >/dev/null

wait_up() {
	i=0
	until curl -fsS -o /dev/null "http://127.0.0.1:$1/warm"; do
		i=$((i + 1)); [ $i -lt 300 ] || { echo "nothing answers on port $1" >&2; exit 1; }
		sleep 0.1
	done
}
wait_up "$comp"
wait_up "$plain"

# run NAME PORT KEY -> prints a row and leaves req/s in $rps
run() {
	wrk -t"$THREADS" -c"$CONNECTIONS" -d3s "http://127.0.0.1:$2/warm-$3" >/dev/null 2>&1 || true
	out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$2/$3")
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1=="50%" {print $2}')
	p99=$(echo "$out" | awk '$1=="99%" {print $2}')
	reqs=$(echo "$out" | awk '/requests in/ {print $1}')
	errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
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
