#!/bin/sh
# Rebuild httplog.component.wasm from httplog.wat with the repository's jco wrapper (node + npm;
# jco is installed on first use). Tests never run this; they use the checked-in binary.
set -eu
cd "$(dirname "$0")"
exec ../../../../tools/component.sh httplog.wat httplog httplog.component.wasm
