#!/bin/sh
# Rebuild s3-files.component.wasm from s3-files.wat (hand-written WAT: a
# wasi:http/incoming-handler guest importing wasi:blobstore). Needs node + npm: jco is
# installed on first use. Output is byte-for-byte reproducible.
set -eu
cd "$(dirname "$0")"
jco=../tools/jco.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r wit "$tmp/wit"
../tools/mkwit.sh "$tmp/wit"
"$jco" parse s3-files.wat -o "$tmp/core.wasm"
"$jco" embed "$tmp/core.wasm" --wit "$tmp/wit" -n s3-files -o "$tmp/embed.wasm"
"$jco" new "$tmp/embed.wasm" -o s3-files.component.wasm
ls -l s3-files.component.wasm
