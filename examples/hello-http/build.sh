#!/bin/sh
# Rebuild hello.component.wasm from hello.wat (hand-written WAT, a wasi:http/incoming-handler
# guest). Needs node + npm: jco is installed on first use. Output is byte-for-byte reproducible.
set -eu
cd "$(dirname "$0")"
exec ../../tools/component.sh hello.wat hello hello.component.wasm
