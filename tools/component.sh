#!/bin/sh
# Make a component from a core module and the WIT in ./wit of the calling directory:
# WAT is parsed with jco, a .wasm core module is taken as it is; the WIT gets the WASI 0.2.0
# packages from tools/mkwit.sh, then `jco embed` (world WORLD) and `jco new` (with any further
# flags, e.g. --wasi-reactor) write OUT. Every fixture's build.sh ends here, so the jco steps
# and their order live once. Output is byte-for-byte reproducible.
#
# usage: component.sh CORE.wat|CORE.wasm WORLD OUT [jco new flags...]
set -eu
[ $# -ge 3 ] || { echo "usage: component.sh CORE.wat|CORE.wasm WORLD OUT [jco new flags...]" >&2; exit 2; }
core=$1 world=$2 out=$3
shift 3
tools=$(cd "$(dirname "$0")" && pwd)
[ -d wit ] || { echo "component.sh: no wit/ directory in $(pwd)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r wit "$tmp/wit"
"$tools/mkwit.sh" "$tmp/wit"
case "$core" in
*.wat)
	"$tools/jco.sh" parse "$core" -o "$tmp/core.wasm"
	core=$tmp/core.wasm
	;;
esac
"$tools/jco.sh" embed "$core" --wit "$tmp/wit" -n "$world" -o "$tmp/embed.wasm"
"$tools/jco.sh" new "$tmp/embed.wasm" "$@" -o "$out"
ls -l "$out"
