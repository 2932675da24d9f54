#!/bin/sh
# Rebuild the test modules from their WAT source. Needs node + npm: jco is installed on first
# use by tools/jco.sh (or $JCO). Tests never run this.
set -eu
cd "$(dirname "$0")"
jco=${JCO:-../../../tools/jco.sh}
"$jco" parse instrument.wat -o instrument.wasm
ls -l ./*.wasm
