#!/bin/sh
# Rebuild httplimits.component.wasm from httplimits.wat, like examples/hello-http. Needs
# node + npm (jco is installed on first use by tools/jco.sh); tests never run this, they use
# the checked-in binary.
set -eu
cd "$(dirname "$0")"
exec ../../../../tools/component.sh httplimits.wat hello httplimits.component.wasm
