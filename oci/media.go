package oci

import (
	"bytes"

	"github.com/wasmlattice/wash/oci/par"
)

// Media types of wasmCloud artifacts.
const (
	MediaTypeManifest        = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeDockerManifest  = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeIndex           = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerList      = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeWasmConfig      = "application/vnd.wasm.config.v0+json"
	MediaTypeWasmLayer       = "application/wasm"
	MediaTypeLegacyWasmLayer = "application/vnd.module.wasm.content.layer.v1+wasm"
	MediaTypeOCITarLayer     = "application/vnd.oci.image.layer.v1.tar"
	MediaTypePARConfig       = "application/vnd.wasmcloud.provider.archive.config"
	MediaTypePARLayer        = "application/vnd.wasmcloud.provider.archive.layer.v1+par"
)

// Accepted layer media types per caller (upstream's lists).
var (
	// AcceptAny is what wash pull and inspect accept.
	AcceptAny = []string{MediaTypePARLayer, MediaTypeLegacyWasmLayer, MediaTypeOCITarLayer, MediaTypeWasmLayer}
	// AcceptComponent is what a host accepts for a component.
	AcceptComponent = []string{MediaTypeLegacyWasmLayer, MediaTypeOCITarLayer, MediaTypeWasmLayer}
	// AcceptProvider is what a host accepts for a provider.
	AcceptProvider = []string{MediaTypePARLayer, MediaTypeOCITarLayer}
)

// Kind is what an artifact's bytes are.
type Kind int

// Artifact kinds.
const (
	KindUnknown Kind = iota
	KindComponent
	KindModule // a core wasm module
	KindProvider
)

func (k Kind) String() string {
	return [...]string{"unknown", "component", "module", "provider archive"}[k]
}

var wasmMagic = []byte{0, 'a', 's', 'm'}

// identifyBytes is how much of an artifact Identify can look at: up to the end of a tar
// header's "ustar" magic.
const identifyBytes = 262

// Identify sniffs bytes: a wasm component (binary version 0x0d, layer 1), a core module
// (version 1), a provider archive (gzip or tar), or unknown. It does not validate the content.
func Identify(b []byte) Kind {
	if len(b) >= 8 && bytes.Equal(b[:4], wasmMagic) {
		switch {
		case b[6] == 1 && b[7] == 0:
			return KindComponent
		case b[4] == 1 && b[5] == 0 && b[6] == 0 && b[7] == 0:
			return KindModule
		}
		return KindUnknown
	}
	if par.LooksLikePAR(b) {
		return KindProvider
	}
	return KindUnknown
}

// Extension is the file extension wash gives pulled bytes of this kind.
func (k Kind) Extension() string {
	switch k {
	case KindComponent, KindModule:
		return ".wasm"
	case KindProvider:
		return ".par.gz"
	}
	return ""
}
