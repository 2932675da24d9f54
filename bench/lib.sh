# Shared set-up of the bench/*.sh scripts, sourced (`. bench/lib.sh`) from the repository root
# after `set -eu`: a temporary directory $tmp holding a private WASH_HOME and the wash binary
# ($W, built by build_wash), clean-up on exit of wash and of the background processes listed
# in $pids, free loopback ports, `wash up` on a fresh NATS port, waiting for a server, and wrk
# runs with their figures parsed. Each script states only what it measures.
#
# Scripts tune wrk through DURATION, CONNECTIONS and THREADS (defaults below) and may define
# bench_stop, run at exit after `wash down`, for servers they started themselves.

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-20}
THREADS=${THREADS:-2}

tmp=$(mktemp -d)
pids=""
export WASH_HOME="$tmp/home"
W="$tmp/wash"
bench_stop() { :; }
bench_cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	"$W" down --all >/dev/null 2>&1 || true
	bench_stop
	rm -rf "$tmp"
}
trap bench_cleanup EXIT INT TERM

# need HINT TOOL...: stop unless every TOOL is installed; HINT says how to get them.
need() {
	hint=$1
	shift
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || { echo "$c is required ($hint)" >&2; exit 1; }
	done
}

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

build_wash() { go build -o "$W" ./cmd/wash; }

# up_lattice [WASH UP ARGS...]: `wash up -d` on a free NATS port, which becomes $nats and the
# default of every later wash command (WASMCLOUD_CTL_PORT).
up_lattice() {
	nats=$(free_port)
	export WASMCLOUD_CTL_PORT=$nats
	"$W" up -d --nats-port "$nats" "$@" >/dev/null
}

# serve_http COMPONENT PORT CONFIG [LINK_NAME]: the built-in http-server, started as provider
# http-server, serves COMPONENT on 127.0.0.1:PORT; the address goes in config CONFIG.
serve_http() {
	"$W" config put "$3" "address=127.0.0.1:$2" >/dev/null
	"$W" link put http-server "$1" wasi http --interface incoming-handler --source-config "$3" ${4:+--link-name "$4"} >/dev/null
}

# wait_up PORT [PATH] [TRIES]: wait until http://127.0.0.1:PORT/PATH answers 2xx, polling every
# 0.1 s for at most TRIES times (default 300).
wait_up() {
	i=0
	until curl -fsS -o /dev/null "http://127.0.0.1:$1/${2:-}"; do
		i=$((i + 1)); [ $i -lt "${3:-300}" ] || { echo "nothing answers on port $1" >&2; exit 1; }
		sleep 0.1
	done
}

# wrk_warm URL [DURATION]: load URL for a while (default 3s) and forget the figures.
wrk_warm() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"${2:-3s}" "$1" >/dev/null 2>&1 || true; }

# wrk_latency URL [WRK ARGS...]: one measured wrk --latency run of $DURATION; leaves wrk's output
# in $out and its figures in $rps, $p50, $p99, $reqs (requests completed) and $errs (wrk's error
# lines on one line, empty when there were none).
wrk_latency() {
	url=$1
	shift
	out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")
	rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
	p50=$(echo "$out" | awk '$1=="50%" {print $2}')
	p99=$(echo "$out" | awk '$1=="99%" {print $2}')
	reqs=$(echo "$out" | awk '/requests in/ {print $1}')
	errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {printf "%s ", $0}')
}
