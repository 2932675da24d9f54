#!/bin/sh
# Rebuild back.component.wasm and front.component.wasm from back.wat and front.wat
# (hand-written WAT against wit/). Needs node + npm: jco is installed on first use. Output is
# byte-for-byte reproducible.
set -eu
cd "$(dirname "$0")"
jco=../tools/jco.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for c in back front; do
	# one world per build: jco embed does not pick a world by name
	mkdir -p "$tmp/$c"
	cp -r wit "$tmp/$c/wit"
	for w in back front; do [ "$w" = "$c" ] || rm "$tmp/$c/wit/$w.wit"; done
	../tools/mkwit.sh "$tmp/$c/wit"
	"$jco" parse $c.wat -o "$tmp/$c/core.wasm"
	"$jco" embed "$tmp/$c/core.wasm" --wit "$tmp/$c/wit" -o "$tmp/$c/embed.wasm"
	"$jco" new "$tmp/$c/embed.wasm" -o $c.component.wasm
done
ls -l back.component.wasm front.component.wasm
