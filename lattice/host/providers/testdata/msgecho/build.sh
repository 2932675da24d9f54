#!/bin/sh
# Rebuild msgecho.component.wasm from msgecho.wat. Needs node + npm (jco is installed on
# first use by tools/jco.sh); the tests only read the checked-in .wasm.
set -eu
cd "$(dirname "$0")"
tools=../../../../../tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r wit "$tmp/wit"
"$tools/mkwit.sh" "$tmp/wit"
"$tools/jco.sh" parse msgecho.wat -o "$tmp/core.wasm"
"$tools/jco.sh" embed "$tmp/core.wasm" --wit "$tmp/wit" -n msgecho -o "$tmp/embed.wasm"
"$tools/jco.sh" new "$tmp/embed.wasm" -o msgecho.component.wasm
ls -l msgecho.component.wasm
