#!/bin/sh
# Counter throughput: the WAT counter component (wasi:keyvalue atomics increment of one key
# per request) served by `wash up` through wasmcloud+builtin://http-server, once per built-in
# key-value provider: keyvalue-redis (a redis-server started here on a free loopback port),
# keyvalue-nats (the lattice's JetStream) and keyvalue-inmemory (reference). Every request
# increments the same key, so this measures the atomic increment path end to end. After each
# run the key's value is compared with the number of requests wrk completed.
#
#   bench/counter.sh                  # 10 s per backend, 20 connections
#   DURATION=30s CONNECTIONS=50 bench/counter.sh
#
# Needs wrk and redis-server (apt-get install wrk redis-server).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
wasm=$(pwd)/lattice/host/providers/testdata/counter/counter.component.wasm
need "apt-get install wrk redis-server" wrk redis-server redis-cli

echo "building wash…" >&2
build_wash

rport=$(free_port)
mkdir -p "$tmp/redis"
redis-server --bind 127.0.0.1 --port "$rport" --dir "$tmp/redis" --save '' --appendonly no --daemonize no >"$tmp/redis.log" 2>&1 &
pids="$pids $!"

up_lattice
"$W" start provider wasmcloud+builtin://http-server http-server >/dev/null
"$W" config put redis-url "url=redis://127.0.0.1:$rport" >/dev/null

# setup NAME BUILTIN [TARGET_CONFIG] -> a counter component NAME linked to a provider kv-NAME
# and served on its own port (printed)
setup() {
	port=$(free_port)
	"$W" start component "$wasm" "counter-$1" --max-instances 100 >/dev/null
	"$W" start provider "wasmcloud+builtin://$2" "kv-$1" >/dev/null
	tc=""
	[ -n "${3:-}" ] && tc="--target-config $3"
	# shellcheck disable=SC2086
	"$W" link put "counter-$1" "kv-$1" wasi keyvalue --interface store --interface atomics $tc >/dev/null
	serve_http "counter-$1" "$port" "addr-$1" "$1"
	echo "$port"
}
p_redis=$(setup redis keyvalue-redis redis-url)
p_nats=$(setup nats keyvalue-nats)
p_mem=$(setup mem keyvalue-inmemory)

for p in $p_redis $p_nats $p_mem; do wait_up "$p" warm; done

# run NAME PORT -> "name req/s p50 p99 errors", then the counter's final value vs requests
run() {
	wrk_warm "http://127.0.0.1:$2/warmup"
	wrk_latency "http://127.0.0.1:$2/bench"
	last=$(curl -fsS "http://127.0.0.1:$2/bench")
	# the counter may exceed wrk's count by up to CONNECTIONS: requests in flight when wrk
	# stops still complete on the server
	printf '%-18s %12s %10s %10s  wrk counted %s, counter now %s %s\n' "$1" "$rps" "$p50" "$p99" "$reqs" "$last" "$errs"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, one key incremented per request"
printf '%-18s %12s %10s %10s\n' backend "req/s" p50 p99
run keyvalue-redis "$p_redis"
run keyvalue-nats "$p_nats"
run keyvalue-inmemory "$p_mem"
echo "redis-cli GET bench: $(redis-cli -p "$rport" GET bench)"
