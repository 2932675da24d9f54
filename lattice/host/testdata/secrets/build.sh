#!/bin/sh
# Rebuild secrets.component.wasm from secrets.wat and wit/ with jco (node + npm; tools/jco.sh
# installs the pinned jco on first use). Tests never run this; they use the checked-in binary.
set -eu
cd "$(dirname "$0")"
exec ../../../../tools/component.sh secrets.wat guest secrets.component.wasm
