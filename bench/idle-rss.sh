#!/bin/sh
# Resident memory of an idle one-host lattice: `wash up -d` (embedded NATS with JetStream, the
# built-in host, wadm; one process), nothing deployed, after SETTLE seconds. Prints, per wash
# binary and run: the time `wash up -d` took to return ready and the CPU time (user + system)
# the lattice process had used by then (steadier than wall time on a busy machine), VmRSS = RssAnon (what the process
# allocated) + RssFile (pages of the wash executable and libraries it mapped) + RssShmem, as the
# kernel counts them in /proc/PID/status, and Rss per mapping from /proc/PID/smaps. With
# DETAIL=1 it also charges the executable's resident pages to packages (bench/residentpages).
# Issue #15's target: VmRSS ≤ 30 MB. Nothing is trimmed or advised away before measuring.
#
#   bench/idle-rss.sh                       # builds ./cmd/wash, 3 runs
#   bench/idle-rss.sh /tmp/wash-old /tmp/wash-new   # compare binaries in one run (interleaved)
#   RUNS=5 SETTLE=20 DETAIL=1 bench/idle-rss.sh
#   CGO_ENABLED=0 bench/idle-rss.sh         # the static build README installs
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
SETTLE=${SETTLE:-10}
DETAIL=${DETAIL:-0}

tmp=$(mktemp -d)
cleanup() {
	for h in "$tmp"/home-*; do
		[ -d "$h" ] || continue
		WASH_HOME=$h "$tmp/down-with" down --all >/dev/null 2>&1 || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if [ $# -eq 0 ]; then
	echo "building wash…" >&2
	go build -o "$tmp/wash" ./cmd/wash
	set -- "$tmp/wash"
fi
cp "$1" "$tmp/down-with"
if [ "$DETAIL" = 1 ]; then
	go build -o "$tmp/residentpages" ./bench/residentpages
fi

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }
# The binary's pages leave the page cache before each run, so every binary starts from the same
# state (a cold start): how the file was written (the linker, cp) decides the size of its
# page-cache folios, and a 2 MiB folio gets mapped whole, which would make the comparison noisy.
drop_cache() { python3 -c 'import os,sys
fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$1"; }
field() { awk -v k="$1:" '$1==k {print $2}' "/proc/$2/status"; }

printf '%-28s %3s %8s %8s %8s %8s %8s %8s\n' binary run "up ms" "cpu ms" "VmRSS" "anon" "file" "shmem"
run=1
while [ "$run" -le "$RUNS" ]; do
	for bin in "$@"; do
		home="$tmp/home-$run-$(basename "$bin")"
		port=$(free_port)
		drop_cache "$bin"
		t0=$(now_ms)
		WASH_HOME=$home "$bin" up -d --nats-port "$port" >"$tmp/up.out" 2>&1 || { cat "$tmp/up.out" >&2; exit 1; }
		t1=$(now_ms)
		pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$home"/hosts/*.json | head -n 1)
		# utime + stime (fields 14 and 15 of /proc/PID/stat, after the command name) in ms
		cpu=$(sed 's/.*) //' "/proc/$pid/stat" | awk -v hz="$(getconf CLK_TCK)" '{print int(($12 + $13) * 1000 / hz)}')
		sleep "$SETTLE"
		printf '%-28s %3d %8d %8d %7.1fM %7.1fM %7.1fM %7.1fM\n' "$(basename "$bin")" "$run" $((t1 - t0)) "$cpu" \
			"$(field VmRSS "$pid" | awk '{print $1/1024}')" "$(field RssAnon "$pid" | awk '{print $1/1024}')" \
			"$(field RssFile "$pid" | awk '{print $1/1024}')" "$(field RssShmem "$pid" | awk '{print $1/1024}')"
		if [ "$run" -eq 1 ]; then
			# Rss per mapping (KiB), largest first: the executable's segments, heap, libraries
			awk '/^[0-9a-f]+-[0-9a-f]+ / {m=$6; if (m=="") m="[anon " $1 "]"} /^Rss:/ {if ($2>=256) print "      " $2 " KiB  " m}' \
				"/proc/$pid/smaps" | sort -n -r -k1 | head -n 8
			if [ "$DETAIL" = 1 ]; then
				"$tmp/residentpages" -pid "$pid" -top "${TOP:-40}"
			fi
		fi
		WASH_HOME=$home "$bin" down --all >/dev/null 2>&1 || true
		rm -rf "$home"
	done
	run=$((run + 1))
done
