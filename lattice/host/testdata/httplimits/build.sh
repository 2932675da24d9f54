#!/bin/sh
# Rebuild httplimits.component.wasm from httplimits.wat, like the shared wat-hello fixture.
# Needs node + npm (jco is installed on first use by the shared fixtures' jco.sh); tests never
# run this, they use the checked-in binary.
set -eu
cd "$(dirname "$0")"
fx=${FIXTURES:-../../../../../shared/fixtures/components}
jco="$fx/tools/jco.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$fx/wit" "$tmp/wit"
"$fx/tools/mkwit.sh" "$tmp/wit"
"$jco" parse httplimits.wat -o "$tmp/core.wasm"
"$jco" embed "$tmp/core.wasm" --wit "$tmp/wit" -n hello -o "$tmp/embed.wasm"
"$jco" new "$tmp/embed.wasm" -o httplimits.component.wasm
ls -l httplimits.component.wasm
