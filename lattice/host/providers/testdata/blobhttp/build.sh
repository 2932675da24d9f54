#!/bin/sh
# Rebuild blobhttp.component.wasm from blobhttp.wat. Needs node + npm (jco is installed on
# first use by tools/jco.sh); the tests only read the checked-in .wasm.
set -eu
cd "$(dirname "$0")"
tools=../../../../../tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r wit "$tmp/wit"
"$tools/mkwit.sh" "$tmp/wit"
"$tools/jco.sh" parse blobhttp.wat -o "$tmp/core.wasm"
"$tools/jco.sh" embed "$tmp/core.wasm" --wit "$tmp/wit" -n blobhttp -o "$tmp/embed.wasm"
"$tools/jco.sh" new "$tmp/embed.wasm" -o blobhttp.component.wasm
ls -l blobhttp.component.wasm
