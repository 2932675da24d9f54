#!/bin/sh
# Rebuild pg-counter.component.wasm from pg-counter.wat (hand-written WAT: a
# wasi:http/incoming-handler guest importing wasmcloud:postgres/query). Needs node + npm: jco is
# installed on first use. Output is byte-for-byte reproducible.
set -eu
cd "$(dirname "$0")"
exec ../../tools/component.sh pg-counter.wat pg-counter pg-counter.component.wasm
