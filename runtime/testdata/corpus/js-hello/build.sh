#!/bin/sh
# Build hello-js.component.wasm (a wasi:http proxy component, ~14 MB) from hello.js with
# componentize-js (StarlingMonkey + a wizer snapshot), through jco (tools/jco.sh installs it
# with npm on first use). Too large to check in: tests build it into the user cache
# (internal/corpus), `OUT=dir build.sh` builds it anywhere. ~10 s.
#
# The StarlingMonkey engine in componentize-js 0.22 is compiled against WASI 0.2.10, so the
# world must export wasi:http/incoming-handler@0.2.10 exactly (other versions fail with
# "failed to find export of interface ... function handle").
set -eu
cd "$(dirname "$0")"
tools=../../../../tools
out=${OUT:-.}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$tools/mkwit.sh" "$tmp/w"
mkdir -p "$tmp/wit/deps"
for p in http io clocks; do
	mkdir -p "$tmp/wit/deps/$p"
	# drop the http package's worlds (they pull in cli/random/sockets, whose 0.2.12 text
	# does not merge with the engine's 0.2.10 copies)
	sed 's/@0\.2\.0/@0.2.10/g' "$tmp/w/deps/$p/package.wit" |
		awk '/^world /{skip=1} !skip{print} skip&&/^}/{skip=0}' >"$tmp/wit/deps/$p/package.wit"
done
printf 'package local:jshello;\nworld hello {\n  export wasi:http/incoming-handler@0.2.10;\n}\n' >"$tmp/wit/world.wit"
"$tools/jco.sh" componentize hello.js --wit "$tmp/wit" -n hello -o "$tmp/hello-js.component.wasm"
mv "$tmp/hello-js.component.wasm" "$out/hello-js.component.wasm"
