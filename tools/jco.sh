#!/bin/sh
# Run jco (npm @bytecodealliance/jco, versions pinned by tools/jco/package-lock.json), offline
# after the first use. The first run installs it with `npm ci` into a cache directory keyed by
# the lock file's hash: $JCO_HOME, default ${XDG_CACHE_HOME:-$HOME/.cache}/wash/jco-<hash>.
# Concurrent first runs (parallel test packages) wait for one install (flock where available).
#
# `jco.sh --print-home` installs if needed and prints the install directory.
#
# Works around a jco 1.35 / preview2-shim 0.26 bug: the wasm-tools component inside jco runs
# with no filesystem preopens, so `jco embed --wit DIR` fails with "No such file or directory"
# (lib.rs:222). A preload module preopens "/" before jco starts.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
for t in node npm; do
	command -v "$t" >/dev/null 2>&1 || { echo "jco.sh: $t is required (Debian: apt-get install nodejs npm)" >&2; exit 127; }
done
lock="$here/jco/package-lock.json"
hash=$(cksum <"$lock" | cut -d' ' -f1)
JCO_HOME=${JCO_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/wash/jco-$hash}
entry="$JCO_HOME/node_modules/@bytecodealliance/jco/dist/jco.js"
install_jco() {
	[ -f "$entry" ] && return 0
	tmp="$JCO_HOME.tmp.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	cp "$here/jco/package.json" "$lock" "$tmp/"
	if ! (cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error >&2); then
		rm -rf "$tmp"
		echo "jco.sh: npm ci failed (is the npm registry reachable?)" >&2
		exit 1
	fi
	rm -rf "$JCO_HOME"
	mv "$tmp" "$JCO_HOME"
}
if [ ! -f "$entry" ]; then
	mkdir -p "$(dirname "$JCO_HOME")"
	if command -v flock >/dev/null 2>&1; then
		exec 9>"$JCO_HOME.lock"
		flock 9
		install_jco
		flock -u 9
		exec 9>&-
	else
		install_jco
	fi
fi
if [ "${1:-}" = "--print-home" ]; then
	echo "$JCO_HOME"
	exit 0
fi
shim="$JCO_HOME/node_modules/@bytecodealliance/jco-transpile/node_modules/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js"
[ -f "$shim" ] || shim="$JCO_HOME/node_modules/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js"
preopen="$JCO_HOME/preopen-root.mjs"
if [ ! -f "$preopen" ]; then
	printf "import { _addPreopen } from 'file://%s';\n_addPreopen('/', '/');\n" "$shim" >"$preopen.$$"
	mv "$preopen.$$" "$preopen"
fi
exec node --import "file://$preopen" "$entry" "$@"
