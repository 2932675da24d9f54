#!/bin/sh
# Write WASI WIT packages at version 0.2.0 into DIR/deps, taken from the WIT that jco ships
# (lib/wit/builtin/0.2.12) with the version rewritten. Only the packages the fixtures need;
# WASI 0.2.x minor releases are additive, and every item the fixtures use is unchanged since
# 0.2.0.
set -eu
dir=${1:?usage: mkwit.sh WITDIR}
here=$(cd "$(dirname "$0")" && pwd)
home=$("$here/jco.sh" --print-home)
src="$home/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12"
for p in http io clocks random cli filesystem sockets; do
	mkdir -p "$dir/deps/$p"
	sed 's/@0\.2\.12/@0.2.0/g' "$src/wasi-$p/package.wit" >"$dir/deps/$p/package.wit"
done
