#!/bin/sh
# Rebuild pg-counter.component.wasm from pg-counter.wat (hand-written WAT: a
# wasi:http/incoming-handler guest importing wasmcloud:postgres/query). Needs node + npm: jco is
# installed on first use. Output is byte-for-byte reproducible.
set -eu
cd "$(dirname "$0")"
jco=../tools/jco.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r wit "$tmp/wit"
../tools/mkwit.sh "$tmp/wit"
"$jco" parse pg-counter.wat -o "$tmp/core.wasm"
"$jco" embed "$tmp/core.wasm" --wit "$tmp/wit" -n pg-counter -o "$tmp/embed.wasm"
"$jco" new "$tmp/embed.wasm" -o pg-counter.component.wasm
ls -l pg-counter.component.wasm
