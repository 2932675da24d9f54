#!/bin/sh
# Rebuild the test guests from their WAT source (component text format). Needs node + npm:
# jco is installed on first use by tools/jco.sh (or $JCO). Tests never run this.
set -eu
cd "$(dirname "$0")"
jco=${JCO:-../../../tools/jco.sh}
for f in limits abi services state statestart tables starttrap badimport badcase; do
	"$jco" parse "$f.wat" -o "$f.wasm"
done
ls -l ./*.wasm
