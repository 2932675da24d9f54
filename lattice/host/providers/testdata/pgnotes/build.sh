#!/bin/sh
# Rebuild pgnotes.component.wasm from pgnotes.wat. Needs node + npm (jco is installed on
# first use by tools/jco.sh); the tests only read the checked-in .wasm.
set -eu
cd "$(dirname "$0")"
tools=../../../../../tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r wit "$tmp/wit"
"$tools/mkwit.sh" "$tmp/wit"
"$tools/jco.sh" parse pgnotes.wat -o "$tmp/core.wasm"
"$tools/jco.sh" embed "$tmp/core.wasm" --wit "$tmp/wit" -n pgnotes -o "$tmp/embed.wasm"
"$tools/jco.sh" new "$tmp/embed.wasm" -o pgnotes.component.wasm
ls -l pgnotes.component.wasm
