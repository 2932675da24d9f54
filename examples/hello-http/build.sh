#!/bin/sh
# Rebuild hello.component.wasm from hello.wat (hand-written WAT, a wasi:http/incoming-handler
# guest). Needs node + npm: jco is installed on first use. Output is byte-for-byte reproducible.
set -eu
cd "$(dirname "$0")"
jco=../../tools/jco.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r wit "$tmp/wit"
../../tools/mkwit.sh "$tmp/wit"
"$jco" parse hello.wat -o "$tmp/core.wasm"
"$jco" embed "$tmp/core.wasm" --wit "$tmp/wit" -n hello -o "$tmp/embed.wasm"
"$jco" new "$tmp/embed.wasm" -o hello.component.wasm
ls -l hello.component.wasm
