#!/bin/sh
# Rebuild counter.component.wasm from counter.wat. Needs node + npm (jco is installed on
# first use by tools/jco.sh); the tests only read the checked-in .wasm.
set -eu
cd "$(dirname "$0")"
exec ../../../../../tools/component.sh counter.wat counter counter.component.wasm
