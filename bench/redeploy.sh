#!/bin/sh
# Deploy time of the 14 MB componentize-js guest through wadm, cold and with the compilation
# cache warm: `wash app deploy` (which returns once wadm reports the app Deployed) on a fresh
# $WASH_HOME, then again after `wash down` / `wash up` (cache warm, new process), each next to
# the same deploy of the 8 KB wat-hello guest as a baseline from the same run. Every deploy is
# checked with a request. Prints wall-clock seconds, the CPU seconds the lattice process spent
# on the deploy (what a busy machine stretches into the wall-clock time) and the load average.
#
#   bench/redeploy.sh
#   RUNS=5 bench/redeploy.sh
#
# Needs node + npm (the JS guest is built with jco into the user cache on first use).
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
. bench/lib.sh
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

echo "building wash and the guests…" >&2
build_wash
js=$(go run ./bench/guestpath js-hello)
wat=$(go run ./bench/guestpath wat-hello)

# manifest NAME WASM PORT
manifest() {
	cat >"$tmp/$1.yaml" <<EOF
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: $1
  annotations:
    version: v$(date +%s%N)
spec:
  components:
    - name: guest
      type: component
      properties:
        image: file://$2
      traits:
        - type: spreadscaler
          properties:
            instances: 20
    - name: httpserver
      type: capability
      properties:
        image: wasmcloud+builtin://http-server
      traits:
        - type: link
          properties:
            target:
              name: guest
            namespace: wasi
            package: http
            interfaces: [incoming-handler]
            source:
              config:
                - name: $1-address
                  properties:
                    address: 127.0.0.1:$3
EOF
}

# cpu: user+system seconds of the lattice process so far
cpu() {
	pid=$(sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p' "$WASH_HOME"/hosts/*.json | head -1)
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$pid/stat"
}

# deploy NAME WASM -> prints "wall s (cpu s)" to Deployed, checks an answer
deploy() {
	port=$(free_port)
	manifest "$1" "$2" "$port"
	c0=$(cpu)
	t0=$(now)
	"$W" app deploy "$tmp/$1.yaml" >/dev/null
	secs=$(since "$t0")
	secs="$secs s (cpu $(awk -v a="$c0" -v b="$(cpu)" 'BEGIN { printf "%.3f", b - a }') s)"
	curl -fsS -o /dev/null "http://127.0.0.1:$port/check" || { echo "$1 does not answer after deploy" >&2; exit 1; }
	"$W" app delete "$1" >/dev/null 2>&1 || "$W" app undeploy "$1" >/dev/null 2>&1 || true
	echo "$secs"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
up_lattice
echo "cold (empty compilation cache):   js-hello $(deploy js-cold "$js")   wat-hello $(deploy wat-cold "$wat")"
"$W" down --all >/dev/null
i=1
while [ "$i" -le "$RUNS" ]; do
	up_lattice
	echo "after down/up, cache warm (#$i):   js-hello $(deploy "js-$i" "$js")   wat-hello $(deploy "wat-$i" "$wat")"
	"$W" down --all >/dev/null
	i=$((i + 1))
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
