#!/bin/sh
# Rebuild s3-files.component.wasm from s3-files.wat (hand-written WAT: a
# wasi:http/incoming-handler guest importing wasi:blobstore). Needs node + npm: jco is
# installed on first use. Output is byte-for-byte reproducible.
set -eu
cd "$(dirname "$0")"
exec ../../tools/component.sh s3-files.wat s3-files s3-files.component.wasm
