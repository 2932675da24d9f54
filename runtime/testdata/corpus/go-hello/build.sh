#!/bin/sh
# Rebuild gohello.component.wasm: plain Go (GOOS=wasip1, c-shared reactor) + jco embed (WIT) +
# jco new with the preview1 *reactor* adapter bundled in jco. Needs Go and node + npm (jco is
# installed on first use by tools/jco.sh). Byte-for-byte reproducible with the same Go release
# (the checked-in build used go1.26.8).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 go build -trimpath -buildmode=c-shared \
	-ldflags='-s -w -buildid=' -o "$tmp/core.wasm" .
../../../../tools/component.sh "$tmp/core.wasm" hello gohello.component.wasm --wasi-reactor
