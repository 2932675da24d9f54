#!/bin/sh
# Builds tiny.wasm: the smallest valid wasm component (preamble with binary version 0x0d, layer 1)
# plus one custom section "note" holding "tiny-wasm". Used by the manifest golden tests.
printf '\000asm\015\000\001\000\000\016\004notetiny-wasm' > tiny.wasm
