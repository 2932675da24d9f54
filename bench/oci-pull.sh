#!/usr/bin/env bash
# Compares a cold `wash pull` of a 10 MiB component from a loopback registry with `curl`
# fetching the same layer blob, and prints the ratio (target: wash ≤ 2× curl).
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

curl_cmd="curl -fs -o /dev/null $blob_url"
# Cold pull: a fresh WASH_HOME (so an empty OCI cache) every run.
clean_cmd="rm -rf $tmp/home $tmp/out.wasm"
wash_cmd="WASH_HOME=$tmp/home $tmp/wash pull --insecure $addr/bench/big:1.0.0 --destination $tmp/out.wasm"
warm_cmd="WASH_HOME=$tmp/home-warm $tmp/wash pull --insecure $addr/bench/big:1.0.0 --destination $tmp/out-warm.wasm"
bash -c "$warm_cmd" >/dev/null

if command -v hyperfine >/dev/null; then
	hyperfine --style basic -N --warmup 3 --runs "$runs" --export-json "$tmp/h.json" \
		-n curl "$curl_cmd" >&2
	# The cold run's clean-up (deleting the last run's 20 MB) happens outside the timing.
	hyperfine --style basic --shell bash --warmup 3 --runs "$runs" --export-json "$tmp/w.json" \
		--prepare "$clean_cmd" -n "wash pull (cold cache)" "$wash_cmd" \
		--prepare "true" -n "wash pull (warm cache)" "$warm_cmd" >&2
	mean() { grep -o '"mean": *[0-9.e-]*' "$1" | sed -n "${2}p" | grep -o '[0-9.e-]*$'; }
	curl_s=$(mean "$tmp/h.json" 1)
	wash_s=$(mean "$tmp/w.json" 1)
	warm_s=$(mean "$tmp/w.json" 2)
	# hyperfine with a shell subtracts the shell's own start-up time, so the figures compare.
else
	echo "hyperfine not found (apt-get install -y hyperfine); timing $runs runs with date" >&2
	time_it() {
		local start end
		start=$(date +%s%N)
		for _ in $(seq "$runs"); do bash -c "$clean_cmd"; bash -c "$1" >/dev/null 2>&1; done
		end=$(date +%s%N)
		awk -v s="$start" -v e="$end" -v n="$runs" 'BEGIN { printf "%.6f\n", (e - s) / n / 1e9 }'
	}
	curl_s=$(time_it "$curl_cmd")
	wash_s=$(time_it "$wash_cmd")
	warm_s=$(time_it "$warm_cmd")
fi

awk -v c="$curl_s" -v w="$wash_s" -v m="$warm_s" 'BEGIN {
	printf "curl blob GET:            %8.2f ms\n", c * 1000
	printf "wash pull (cold cache):   %8.2f ms\n", w * 1000
	printf "wash pull (warm cache):   %8.2f ms\n", m * 1000
	printf "ratio cold wash / curl:   %8.2f  (target <= 2.00)\n", w / c
	exit (w / c <= 2.0 ? 0 : 1)
}'
