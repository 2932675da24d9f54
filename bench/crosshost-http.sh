#!/bin/sh
# HTTP through the built-in http-server on host A to a component on host B (another wash
# process; the call goes over NATS with wRPC), against the same component on host A, in the
# same run and alternating: wrk req/s of each, the ratio cross-host / same-host per round, and
# the CPU time both wash processes spent per request (same/cross).
#
#   bench/crosshost-http.sh                         # 3 rounds of 10 s, wrk -t2 -c20
#   ROUNDS=6 DURATION=5s bench/crosshost-http.sh
#   WASH=/tmp/wash-before bench/crosshost-http.sh   # a given binary instead of building one
#
# Host A runs the embedded NATS server and the http-server; the component (examples/hello-http,
# a fresh instance per request) runs once on A ("hello-same") and once on B ("hello-cross"),
# each behind its own listen address of the one http-server.
set -eu
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-20}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
command -v wrk >/dev/null 2>&1 || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

tmp=$(mktemp -d)
export WASH_HOME="$tmp/home"
cleanup() {
	"$tmp/wash" down --all >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# WASH=/path/to/wash measures that binary (say, before and after a change in one run)
if [ -n "${WASH:-}" ]; then cp "$WASH" "$tmp/wash"; else go build -o "$tmp/wash" ./cmd/wash; fi
W="$tmp/wash"
nats=$(free_port)
export WASMCLOUD_CTL_PORT=$nats
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
"$W" up -d --nats-port "$nats" -o json >"$tmp/a.json"
"$W" up -d --multi-local --nats-port "$nats" -o json >"$tmp/b.json"
host_id() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("host_id") or d["host"]["id"])' "$1"; }
A=$(host_id "$tmp/a.json")
B=$(host_id "$tmp/b.json")
wasm=$(pwd)/examples/hello-http/hello.component.wasm
p_same=$(free_port)
p_cross=$(free_port)
"$W" start provider wasmcloud+builtin://http-server http-server --host-id "$A" >/dev/null
"$W" start component "$wasm" hello-same --host-id "$A" --max-instances "$CONNECTIONS" >/dev/null
"$W" start component "$wasm" hello-cross --host-id "$B" --max-instances "$CONNECTIONS" >/dev/null
"$W" config put bench-same "address=127.0.0.1:$p_same" >/dev/null
"$W" config put bench-cross "address=127.0.0.1:$p_cross" >/dev/null
"$W" link put http-server hello-same wasi http --interface incoming-handler --source-config bench-same --link-name same >/dev/null
"$W" link put http-server hello-cross wasi http --interface incoming-handler --source-config bench-cross --link-name cross >/dev/null
for p in $p_same $p_cross; do
	i=0
	until curl -fsS -o /dev/null "http://127.0.0.1:$p/"; do
		i=$((i + 1)); [ $i -lt 300 ] || { echo "nothing answers on port $p" >&2; exit 1; }
		sleep 0.1
	done
done

# CPU time (utime+stime, in clock ticks) of both wash processes: the cross-host ratio is
# bounded by CPU per request once the machine is busy
pids=$(pgrep -f "^$W up" | tr '\n' ' ')
[ -n "$pids" ] || { echo "cannot find the wash up processes of $W" >&2; exit 1; }
ticks() { cat $(for p in $pids; do echo "/proc/$p/stat"; done) | awk '{t += $14 + $15} END {print t}'; }
# rps PORT: "req/s cpu-us-per-request" of one wrk run
rps() {
	t0=$(ticks)
	out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:$1/bench")
	t1=$(ticks)
	bad=$(echo "$out" | awk '/Non-2xx|Socket errors/ {printf "%s ", $0}')
	[ -z "$bad" ] || echo "  port $1: $bad" >&2
	echo "$out" | awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '/requests in/ {n = $1} /Requests\/sec/ {printf "%s %.0f\n", $2, t * 1e6 / hz / n}'
}
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "http://127.0.0.1:$p_same/bench" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "http://127.0.0.1:$p_cross/bench" >/dev/null
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, http-server on host A; component on A (same) or on B (cross)"
printf '%-6s %12s %12s %8s %14s\n' round "same req/s" "cross req/s" ratio "cpu us/req s/c"
r=1
sum=0
tsame=0
tcross=0
while [ $r -le "$ROUNDS" ]; do
	set -- $(rps "$p_same") $(rps "$p_cross")
	s=$1 c=$3
	ratio=$(awk -v a="$c" -v b="$s" 'BEGIN { printf "%.2f", a / b }')
	printf '%-6s %12s %12s %8s %14s\n' "$r" "$s" "$c" "$ratio" "$2/$4"
	sum=$(awk -v a="$sum" -v b="$ratio" 'BEGIN { print a + b }')
	tsame=$(awk -v a="$tsame" -v b="$s" 'BEGIN { print a + b }')
	tcross=$(awk -v a="$tcross" -v b="$c" 'BEGIN { print a + b }')
	r=$((r + 1))
done
echo "mean ratio: $(awk -v s="$sum" -v n="$ROUNDS" 'BEGIN { printf "%.2f", s / n }'), ratio of the totals: $(awk -v c="$tcross" -v s="$tsame" 'BEGIN { printf "%.2f", c / s }')"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
