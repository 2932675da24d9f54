#!/bin/sh
# Rebuild httplog.component.wasm from httplog.wat with the repository's jco wrapper (node + npm;
# jco is installed on first use). Tests never run this; they use the checked-in binary.
set -eu
cd "$(dirname "$0")"
tools=../../../../examples/tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r wit "$tmp/wit"
"$tools/mkwit.sh" "$tmp/wit"
"$tools/jco.sh" parse httplog.wat -o "$tmp/core.wasm"
"$tools/jco.sh" embed "$tmp/core.wasm" --wit "$tmp/wit" -n httplog -o "$tmp/embed.wasm"
"$tools/jco.sh" new "$tmp/embed.wasm" -o httplog.component.wasm
ls -l httplog.component.wasm
