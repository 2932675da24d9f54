#!/bin/sh
# Rebuild msgecho.component.wasm from msgecho.wat. Needs node + npm (jco is installed on
# first use by tools/jco.sh); the tests only read the checked-in .wasm.
set -eu
cd "$(dirname "$0")"
exec ../../../../../tools/component.sh msgecho.wat msgecho msgecho.component.wasm
