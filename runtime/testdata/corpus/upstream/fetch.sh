#!/bin/sh
# Fetch upstream wasmCloud's test binaries kept here (public test data of the wasmCloud
# project, Apache-2.0, tag v1.9.2 = commit e79bcf9935b94395ec33c7453aa439454d1936c2) and check
# them against the recorded digests. Their sources are upstream's:
#   hello_plugin_s.wasm   crates/wash/tests/plugins/hello_plugin (Rust, wit-bindgen; signed)
#   guest.component.wasm  crates/wascap/fixtures (pre-standard 0x0c component binary)
#   logger.wasm           crates/wascap/fixtures (legacy waPC core module with a jwt section)
# Rust has no wasm targets on the project's build machines, so they are not rebuilt here.
set -eu
cd "$(dirname "$0")"
base=https://raw.githubusercontent.com/wasmCloud/wasmCloud/e79bcf9935b94395ec33c7453aa439454d1936c2
fetch() {
	curl -fsSL -o "$1.tmp" "$base/$2"
	echo "$3  $1.tmp" | sha256sum -c --quiet
	mv "$1.tmp" "$1"
}
fetch hello_plugin_s.wasm crates/wash/tests/fixtures/hello_plugin_s.wasm 191f0a013e6ee6aad82320f93d48945bd9dbf9f32821a8dbdac95563383e07d1
fetch guest.component.wasm crates/wascap/fixtures/guest.component.wasm 86e13c95852f54669aff2d475de9d78e1863be8be7aea6ed5ff571cdfeb54f50
fetch logger.wasm crates/wascap/fixtures/logger.wasm d2a0cde5eaf618efce6caecfb5dc7c795490404ae4924257178205a447e4ee6a
ls -l ./*.wasm
