#!/bin/sh
# Rebuild blobhttp.component.wasm from blobhttp.wat. Needs node + npm (jco is installed on
# first use by tools/jco.sh); the tests only read the checked-in .wasm.
set -eu
cd "$(dirname "$0")"
exec ../../../../../tools/component.sh blobhttp.wat blobhttp blobhttp.component.wasm
