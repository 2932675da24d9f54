#!/bin/sh
# Rebuild the test guests from their WAT source (component text format).
# Needs node + npm: jco is installed on first use by the shared fixtures' jco.sh
# (../../../../shared/fixtures/components/tools/jco.sh, or $JCO). Tests never run this.
set -eu
cd "$(dirname "$0")"
jco=${JCO:-../../../../shared/fixtures/components/tools/jco.sh}
for f in limits abi services; do
	"$jco" parse "$f.wat" -o "$f.wasm"
done
ls -l ./*.wasm
