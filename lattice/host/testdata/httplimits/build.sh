#!/bin/sh
# Rebuild httplimits.component.wasm from httplimits.wat, like examples/hello-http. Needs
# node + npm (jco is installed on first use by tools/jco.sh); tests never run this, they use
# the checked-in binary.
set -eu
cd "$(dirname "$0")"
tools=../../../../tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r wit "$tmp/wit"
"$tools/mkwit.sh" "$tmp/wit"
"$tools/jco.sh" parse httplimits.wat -o "$tmp/core.wasm"
"$tools/jco.sh" embed "$tmp/core.wasm" --wit "$tmp/wit" -n hello -o "$tmp/embed.wasm"
"$tools/jco.sh" new "$tmp/embed.wasm" -o httplimits.component.wasm
ls -l httplimits.component.wasm
