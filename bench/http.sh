#!/bin/sh
# HTTP throughput of the corpus guests on a fresh instance per request (wash's default, as in
# wasmCloud), served by `wash up` through wasmcloud+builtin://http-server, against a plain Go
# net/http handler in the same run. Prints requests/s, p50/p99 latency and responses that did
# not say what a fresh instance says (the JS guest must answer "request 1" every time), the
# resident memory of the wash process (embedded NATS + host + wadm) when idle, after each load
# and after the idle instances expire, the load average of the machine before and after, and
# the ratios to plain Go, and the CPU time each request cost the serving process (wash, or the
# plain Go server): unlike req/s, that does not depend on what else the machine runs.
#
#   bench/http.sh                                  # 10 s per target, 20 connections, 2 threads
#   DURATION=30s CONNECTIONS=50 bench/http.sh
#   GUESTS="wat-hello js-hello" bench/http.sh
#   WASH_UP_ARGS=--reuse-instances bench/http.sh   # the opt-in reuse mode, for comparison
#
# Needs wrk (apt-get install wrk) and, for js-hello, node + npm (the guest is built with jco
# into the user cache on first use).
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
WARMUP=${WARMUP:-3s}
GUESTS=${GUESTS:-"wat-hello go-hello js-hello"}
WASH_UP_ARGS=${WASH_UP_ARGS:-}
. bench/lib.sh
need "apt-get install wrk" wrk

# resident memory as the kernel counts it: VmRSS = RssAnon (what the process allocated) +
# RssFile (mapped pages of the executable and other files) + RssShmem (memfd images, shared)
rss() { awk '/^VmRSS:/ {t=$2} /^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} /^RssShmem:/ {s=$2}
	END {printf "%d MiB (anon %d, file %d, shmem %d)", t/1024, a/1024, f/1024, s/1024}' "/proc/$1/status"; }
hwm() { awk '/^VmHWM:/ {printf "%d MiB", $2/1024}' "/proc/$1/status"; }

echo "building wash, the plain Go baseline and the guests…" >&2
build_wash
go build -o "$tmp/plainhttp" ./bench/plainhttp

cat >"$tmp/check.lua" <<'EOF'
-- counts responses that are not 200 or lack the expected text (env EXPECT)
local threads = {}
local expect = os.getenv("EXPECT") or ""
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
	if status ~= 200 or (expect ~= "" and not string.find(body, expect, 1, true)) then bad = bad + 1 end
end
function done(summary, latency, requests)
	local n = 0
	for _, t in ipairs(threads) do n = n + t:get("bad") end
	io.write(string.format("bad responses: %d\n", n))
end
EOF

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
# shellcheck disable=SC2086
up_lattice $WASH_UP_ARGS
pid=$(sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p' "$WASH_HOME"/hosts/*.json | head -1)
sleep 2
echo "wash up (pid $pid) idle, nothing deployed: resident $(rss "$pid") [the total, VmRSS, is what #15's 30 MB idle target is compared with]"

ports=""
"$W" start provider wasmcloud+builtin://http-server http-server >/dev/null
for g in $GUESTS; do
	wasm=$(go run ./bench/guestpath "$g")
	port=$(free_port)
	"$W" start component "$wasm" "$g" --max-instances "$CONNECTIONS" --wait-timeout-ms 300000 >/dev/null
	serve_http "$g" "$port" "bench-$g" "$g"
	eval "port_$(echo "$g" | tr - _)=$port"
	ports="$ports $port"
done
p_plain=$(free_port)
"$tmp/plainhttp" -addr "127.0.0.1:$p_plain" & plain_pid=$!
pids="$pids $plain_pid"

for p in $ports $p_plain; do wait_up "$p" "" 1200; done

expect_for() {
	case $1 in
	wat-hello | plain-go) echo "hello from a WAT component, path=/bench" ;;
	go-hello) echo "hello from Go (wasip1 + reactor adapter), path=/bench" ;;
	js-hello) echo "path=/bench, request 1" ;;
	esac
}

# CPU time (user + system, all threads) a process has used, in clock ticks
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run NAME PORT SERVERPID -> one line: name req/s p50 p99 bad CPU-per-request; records req/s
# in $tmp/NAME. CPU per request (the serving process's CPU time over the requests served)
# does not depend on how much of the machine other processes take, as req/s does.
run() {
	export EXPECT
	EXPECT=$(expect_for "$1")
	wrk_warm "http://127.0.0.1:$2/bench" "$WARMUP"
	t0=$(ticks "$3")
	wrk_latency "http://127.0.0.1:$2/bench" -s "$tmp/check.lua"
	t1=$(ticks "$3")
	cpu=$(awk -v t="$((t1 - t0))" -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n > 0) printf "%.0fus", t / hz / n * 1e6; else print "n/a" }')
	bad=$(echo "$out" | awk '/bad responses/ {print $3}')
	printf '%-12s %10s %9s %9s %6s %9s   %s %s\n' "$1" "$rps" "$p50" "$p99" "$bad" "$cpu" "$(rss "$pid")" "$errs"
	echo "$rps" >"$tmp/$1"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION (after $WARMUP warm-up), fresh instance per request${WASH_UP_ARGS:+ ($WASH_UP_ARGS)}"
printf '%-12s %10s %9s %9s %6s %9s   %s\n' target "req/s" p50 p99 bad "cpu/req" "wash resident after"
run plain-go "$p_plain" "$plain_pid"
for g in $GUESTS; do
	eval "run $g \$port_$(echo "$g" | tr - _) $pid"
done
echo "wash resident high-water mark: $(hwm "$pid")"
sleep 15
echo "wash resident 15 s after the load (idle instances expire after 10 s): $(rss "$pid")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

ratio() { awk -v a="$(cat "$tmp/$1")" -v b="$(cat "$tmp/$2")" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
for g in $GUESTS; do
	echo "$g / plain Go: $(ratio "$g" plain-go)"
done
