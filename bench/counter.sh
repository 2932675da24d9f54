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
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-20}
THREADS=${THREADS:-2}
wasm=$(pwd)/lattice/host/providers/testdata/counter/counter.component.wasm
for c in wrk redis-server redis-cli; do
	command -v $c >/dev/null 2>&1 || { echo "$c is required (apt-get install wrk redis-server)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pids=""
export WASH_HOME="$tmp/home"
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	"$tmp/wash" down --all >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

echo "building wash…" >&2
go build -o "$tmp/wash" ./cmd/wash
W="$tmp/wash"

rport=$(free_port)
mkdir -p "$tmp/redis"
redis-server --bind 127.0.0.1 --port "$rport" --dir "$tmp/redis" --save '' --appendonly no --daemonize no >"$tmp/redis.log" 2>&1 &
pids="$pids $!"

nats=$(free_port)
export WASMCLOUD_CTL_PORT=$nats
"$W" up -d --nats-port "$nats" >/dev/null
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
	"$W" config put "addr-$1" "address=127.0.0.1:$port" >/dev/null
	"$W" link put http-server "counter-$1" wasi http --interface incoming-handler --source-config "addr-$1" --link-name "$1" >/dev/null
	echo "$port"
}
p_redis=$(setup redis keyvalue-redis redis-url)
p_nats=$(setup nats keyvalue-nats)
p_mem=$(setup mem keyvalue-inmemory)

wait_up() {
	i=0
	until curl -fsS -o /dev/null "http://127.0.0.1:$1/warm"; do
		i=$((i + 1)); [ $i -lt 300 ] || { echo "nothing answers on port $1" >&2; exit 1; }
		sleep 0.1
	done
}
for p in $p_redis $p_nats $p_mem; do wait_up "$p"; done

# run NAME PORT -> "name req/s p50 p99 errors", then the counter's final value vs requests
run() {
	wrk -t"$THREADS" -c"$CONNECTIONS" -d3s "http://127.0.0.1:$2/warmup" >/dev/null 2>&1 || true
	out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$2/bench")
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1=="50%" {print $2}')
	p99=$(echo "$out" | awk '$1=="99%" {print $2}')
	reqs=$(echo "$out" | awk '/requests in/ {print $1}')
	errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
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
