#!/usr/bin/env bash
# Compares a cold `wash pull` of a 10 MiB component from a loopback registry with `curl`
# fetching the same layer blob, and prints the ratio (target: wash ≤ 2× curl).
#
# The fair floor is `curl -o FILE`: wash pull writes the artifact to disk (and into its cache),
# so curl saves the blob to a file too, and the ratio is taken against that. `curl -o /dev/null`
# (network and HTTP only) is measured and printed as well, with its ratio, for transparency.
# Each output file is deleted before every run (outside the timing), for curl as for wash.
#
# WASH_BASELINE=/path/to/other/wash adds that binary's cold and warm pulls to the same
# hyperfine runs (e.g. a build of main), so before/after ratios share the machine's noise.
#
# Needs: Go, curl, Debian's docker-registry (apt-get install -y docker-registry); hyperfine
# (apt-get install -y hyperfine) is used when present, else a plain timing loop.
# Usage: bench/oci-pull.sh [runs]   (run from anywhere inside the repository)
set -euo pipefail

runs=${1:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
registry_bin=$(command -v docker-registry || true)
[ -x /usr/bin/docker-registry ] && registry_bin=/usr/bin/docker-registry
if [ -z "$registry_bin" ]; then
	echo "docker-registry is not installed (Debian: apt-get install -y docker-registry)" >&2
	exit 2
fi
command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 2; }

tmp=$(mktemp -d)
reg_pid=
cleanup() {
	[ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null && wait "$reg_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "building wash…" >&2
(cd "$root" && go build -o "$tmp/wash" ./cmd/wash)

# A free loopback port: bind :0 with Go's help would need a program; probe instead.
port=
for p in $(shuf -i 20000-60000 -n 50); do
	if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "no free port found" >&2; exit 1; }
addr=127.0.0.1:$port

cat >"$tmp/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $tmp/registry
http:
  addr: $addr
EOF
"$registry_bin" serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do
	curl -fs "http://$addr/v2/" >/dev/null && break
	sleep 0.1
done
curl -fs "http://$addr/v2/" >/dev/null || { cat "$tmp/registry.log" >&2; echo "registry did not start" >&2; exit 1; }

# A valid 10 MiB component: the component preamble, then one custom section "pad" of random bytes.
n=$((10 * 1024 * 1024))
body=$((n + 4))
leb=
v=$body
while :; do
	b=$((v & 0x7f)); v=$((v >> 7))
	if [ $v -ne 0 ]; then b=$((b | 0x80)); fi
	leb+=$(printf '\\x%02x' $b)
	[ $v -eq 0 ] && break
done
{
	printf '\x00asm\x0d\x00\x01\x00\x00'
	printf "$leb"
	printf '\x03pad'
	head -c $n /dev/urandom
} >"$tmp/big.wasm"

export WASH_HOME=$tmp/home-push
"$tmp/wash" push "$addr/bench/big:1.0.0" "$tmp/big.wasm" --insecure >/dev/null
layer=sha256:$(sha256sum "$tmp/big.wasm" | cut -d' ' -f1)
blob_url="http://$addr/v2/bench/big/blobs/$layer"
size=$(curl -fs -o /dev/null -w '%{size_download}' "$blob_url")
echo "registry $addr, blob $layer ($size bytes)" >&2

null_cmd="curl -fs -o /dev/null $blob_url"
curl_cmd="curl -fs -o $tmp/curl.bin $blob_url"
curl_clean="rm -f $tmp/curl.bin"
# Cold pull: a fresh WASH_HOME (so an empty OCI cache) every run.
clean_cmd="rm -rf $tmp/home $tmp/out.wasm"
wash_cmd="WASH_HOME=$tmp/home $tmp/wash pull --insecure $addr/bench/big:1.0.0 --destination $tmp/out.wasm"
warm_clean="rm -f $tmp/out-warm.wasm"
warm_cmd="WASH_HOME=$tmp/home-warm $tmp/wash pull --insecure $addr/bench/big:1.0.0 --destination $tmp/out-warm.wasm"
bash -c "$warm_cmd" >/dev/null 2>&1
base=${WASH_BASELINE:-}
if [ -n "$base" ]; then
	base_clean="rm -rf $tmp/home-b $tmp/out-b.wasm"
	base_cmd="WASH_HOME=$tmp/home-b $base pull --insecure $addr/bench/big:1.0.0 --destination $tmp/out-b.wasm"
	base_warm_clean="rm -f $tmp/out-bw.wasm"
	base_warm_cmd="WASH_HOME=$tmp/home-bw $base pull --insecure $addr/bench/big:1.0.0 --destination $tmp/out-bw.wasm"
	bash -c "$base_warm_cmd" >/dev/null 2>&1
fi

if command -v hyperfine >/dev/null; then
	# One hyperfine run for everything, so all figures share the same machine load. With
	# --shell bash, hyperfine subtracts the shell's own start-up time, so the figures compare.
	# The clean-ups (deleting the last run's output and cache) happen outside the timing.
	args=(--prepare "$curl_clean" -n "curl -o file" "$curl_cmd"
		--prepare "true" -n "curl -o /dev/null" "$null_cmd"
		--prepare "$clean_cmd" -n "wash pull (cold cache)" "$wash_cmd"
		--prepare "$warm_clean" -n "wash pull (warm cache)" "$warm_cmd")
	if [ -n "$base" ]; then
		args+=(--prepare "$base_clean" -n "baseline pull (cold cache)" "$base_cmd"
			--prepare "$base_warm_clean" -n "baseline pull (warm cache)" "$base_warm_cmd")
	fi
	hyperfine --style basic --shell bash --warmup 3 --runs "$runs" --export-json "$tmp/w.json" "${args[@]}" >&2
	mean() { grep -o '"mean": *[0-9.e-]*' "$tmp/w.json" | sed -n "${1}p" | grep -o '[0-9.e-]*$'; }
	curl_s=$(mean 1)
	null_s=$(mean 2)
	wash_s=$(mean 3)
	warm_s=$(mean 4)
	if [ -n "$base" ]; then
		bcold_s=$(mean 5)
		bwarm_s=$(mean 6)
	fi
else
	echo "hyperfine not found (apt-get install -y hyperfine); timing $runs runs with date" >&2
	time_it() {
		local start end total=0
		for _ in $(seq "$runs"); do
			bash -c "$1"
			start=$(date +%s%N)
			bash -c "$2" >/dev/null 2>&1
			end=$(date +%s%N)
			total=$((total + end - start))
		done
		awk -v t="$total" -v n="$runs" 'BEGIN { printf "%.6f\n", t / n / 1e9 }'
	}
	curl_s=$(time_it "$curl_clean" "$curl_cmd")
	null_s=$(time_it true "$null_cmd")
	wash_s=$(time_it "$clean_cmd" "$wash_cmd")
	warm_s=$(time_it "$warm_clean" "$warm_cmd")
	if [ -n "$base" ]; then
		bcold_s=$(time_it "$base_clean" "$base_cmd")
		bwarm_s=$(time_it "$base_warm_clean" "$base_warm_cmd")
	fi
fi

awk -v c="$curl_s" -v z="$null_s" -v w="$wash_s" -v m="$warm_s" -v bc="${bcold_s:-}" -v bw="${bwarm_s:-}" 'BEGIN {
	printf "curl -o file:             %8.2f ms\n", c * 1000
	printf "curl -o /dev/null:        %8.2f ms\n", z * 1000
	printf "wash pull (cold cache):   %8.2f ms   %5.2f x curl-to-file   %5.2f x curl-to-null\n", w * 1000, w / c, w / z
	printf "wash pull (warm cache):   %8.2f ms   %5.2f x curl-to-file   %5.2f x curl-to-null\n", m * 1000, m / c, m / z
	if (bc != "") {
		printf "baseline pull (cold):     %8.2f ms   %5.2f x curl-to-file   %5.2f x curl-to-null\n", bc * 1000, bc / c, bc / z
		printf "baseline pull (warm):     %8.2f ms   %5.2f x curl-to-file   %5.2f x curl-to-null\n", bw * 1000, bw / c, bw / z
		printf "cold wash / baseline:     %8.2f\n", w / bc
		printf "warm wash / baseline:     %8.2f\n", m / bw
	}
	printf "ratio cold wash / curl -o file: %5.2f  (target <= 2.00)\n", w / c
	exit (w / c <= 2.0 ? 0 : 1)
}'
