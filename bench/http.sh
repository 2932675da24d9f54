#!/bin/sh
# HTTP throughput of the built-in http-server: wat-hello and go-hello served by `wash up`
# through wasmcloud+builtin://http-server, against `jco serve` on the same fixtures (when node
# and npm are present) and against a plain Go net/http handler writing the same body.
# Prints requests/s and p50/p99 latency per target, then ratios.
#
#   bench/http.sh                    # 10 s per target, 20 connections
#   DURATION=30s CONNECTIONS=50 bench/http.sh
#
# Needs wrk (installed with apt-get when missing and running as root). FIXTURES points at the
# shared fixtures (default ../shared/fixtures/components beside the repository).
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-20}
THREADS=${THREADS:-2}
FIXTURES=${FIXTURES:-$root/../shared/fixtures/components}
wat=$FIXTURES/wat-hello/hello.component.wasm
gow=$FIXTURES/go-hello/gohello.component.wasm
[ -f "$wat" ] && [ -f "$gow" ] || { echo "fixtures not found under $FIXTURES (set FIXTURES)" >&2; exit 1; }

if ! command -v wrk >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
	else
		echo "wrk is required (apt-get install wrk)" >&2
		exit 1
	fi
fi

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

echo "building wash and the plain Go baseline…" >&2
go build -o "$tmp/wash" ./cmd/wash
go build -o "$tmp/plainhttp" ./bench/plainhttp
W="$tmp/wash"

nats=$(free_port)
export WASMCLOUD_CTL_PORT=$nats
"$W" up -d --nats-port "$nats" >/dev/null
p_wat=$(free_port); p_go=$(free_port); p_plain=$(free_port)
"$W" start component "$wat" wat-hello --max-instances 100 >/dev/null
"$W" start component "$gow" go-hello --max-instances 100 >/dev/null
"$W" start provider wasmcloud+builtin://http-server http-server >/dev/null
"$W" config put bench-wat "address=127.0.0.1:$p_wat" >/dev/null
"$W" config put bench-go "address=127.0.0.1:$p_go" >/dev/null
"$W" link put http-server wat-hello wasi http --interface incoming-handler --source-config bench-wat --link-name wat >/dev/null
"$W" link put http-server go-hello wasi http --interface incoming-handler --source-config bench-go --link-name go >/dev/null
"$tmp/plainhttp" -addr "127.0.0.1:$p_plain" & pids="$pids $!"

jco=""
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
	jco="$FIXTURES/tools/jco.sh"
	p_jwat=$(free_port); p_jgo=$(free_port)
	"$jco" serve --port "$p_jwat" --host 127.0.0.1 "$wat" >"$tmp/jco-wat.log" 2>&1 & pids="$pids $!"
	"$jco" serve --port "$p_jgo" --host 127.0.0.1 "$gow" >"$tmp/jco-go.log" 2>&1 & pids="$pids $!"
fi

wait_up() {
	i=0
	until curl -fsS -o /dev/null "http://127.0.0.1:$1/"; do
		i=$((i + 1)); [ $i -lt 300 ] || { echo "nothing answers on port $1" >&2; exit 1; }
		sleep 0.1
	done
}

# run NAME PORT -> prints "name req/s p50 p99" and records req/s in $tmp/NAME
run() {
	wait_up "$2"
	curl -fsS "http://127.0.0.1:$2/warm" >/dev/null
	wrk -t"$THREADS" -c"$CONNECTIONS" -d5s "http://127.0.0.1:$2/bench" >/dev/null 2>&1 || true # warm up
	out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$2/bench")
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1=="50%" {print $2}')
	p99=$(echo "$out" | awk '$1=="99%" {print $2}')
	errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
	printf '%-22s %12s %10s %10s %s\n' "$1" "$rps" "$p50" "$p99" "$errs"
	echo "$rps" >"$tmp/$1"
}

# every server must be up (jco compiles at start) before anything is measured
for p in $p_wat $p_go $p_plain ${p_jwat:-} ${p_jgo:-}; do wait_up "$p"; done
sleep 1

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores"
printf '%-22s %12s %10s %10s\n' target "req/s" p50 p99
run wash-wat-hello "$p_wat"
run wash-go-hello "$p_go"
run plain-go "$p_plain"
if [ -n "$jco" ]; then
	run jco-wat-hello "$p_jwat"
	run jco-go-hello "$p_jgo"
else
	echo "(node/npm not found: jco columns skipped)"
fi

ratio() { awk -v a="$(cat "$tmp/$1")" -v b="$(cat "$tmp/$2")" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
echo
echo "wash wat-hello / plain Go:  $(ratio wash-wat-hello plain-go)"
echo "wash go-hello  / plain Go:  $(ratio wash-go-hello plain-go)"
if [ -n "$jco" ]; then
	echo "wash wat-hello / jco serve: $(ratio wash-wat-hello jco-wat-hello)   (target >= 10)"
	echo "wash go-hello  / jco serve: $(ratio wash-go-hello jco-go-hello)"
fi
