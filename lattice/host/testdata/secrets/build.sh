#!/bin/sh
# Rebuild secrets.component.wasm from secrets.wat and wit/ with jco (pinned; installed with npm
# into $JCO_HOME on first use). Tests never run this; they use the checked-in binary.
set -eu
cd "$(dirname "$0")"
JCO_VERSION=${JCO_VERSION:-1.35.0}
JCO_HOME=${JCO_HOME:-${TMPDIR:-/tmp}/jco-$JCO_VERSION}
if [ ! -f "$JCO_HOME/node_modules/@bytecodealliance/jco/dist/jco.js" ]; then
	mkdir -p "$JCO_HOME"
	(cd "$JCO_HOME" && npm init -y >/dev/null && npm install --no-audit --no-fund "@bytecodealliance/jco@$JCO_VERSION" >/dev/null)
fi
# jco's bundled wasm-tools runs without filesystem preopens; preopen / before it starts
shim="$JCO_HOME/node_modules/@bytecodealliance/jco-transpile/node_modules/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js"
[ -f "$shim" ] || shim="$JCO_HOME/node_modules/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "import { _addPreopen } from 'file://%s';\n_addPreopen('/', '/');\n" "$shim" >"$tmp/preopen.mjs"
jco() { node --import "file://$tmp/preopen.mjs" "$JCO_HOME/node_modules/@bytecodealliance/jco/dist/jco.js" "$@"; }
# WASI 0.2.0 packages from the WIT jco ships (0.2.x minors are additive)
cp -r wit "$tmp/wit"
src="$JCO_HOME/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12"
for p in http io clocks random cli filesystem sockets; do
	mkdir -p "$tmp/wit/deps/$p"
	sed 's/@0\.2\.12/@0.2.0/g' "$src/wasi-$p/package.wit" >"$tmp/wit/deps/$p/package.wit"
done
jco parse secrets.wat -o "$tmp/core.wasm"
jco embed "$tmp/core.wasm" --wit "$tmp/wit" -n guest -o "$tmp/embed.wasm"
jco new "$tmp/embed.wasm" -o secrets.component.wasm
ls -l secrets.component.wasm
