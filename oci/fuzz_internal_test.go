package oci

import "testing"

// FuzzParseManifest feeds registry bytes to the manifest checks a pull runs before it fetches
// any layer: wrong media types, indexes, sizes and digests fail with a typed error, never a
// panic, whatever the registry sends.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.wasm.config.v0+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/wasm","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}]}`))
	f.Add([]byte(`{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
	f.Add([]byte(`{"layers":[{"mediaType":"application/wasm","digest":"sha256:zz","size":-1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, o := range []PullOptions{{Accept: AcceptComponent, SingleLayer: true, MaxSize: 50 << 20}, {Accept: AcceptProvider}, {Accept: AcceptAny}} {
			a := &Artifact{ManifestBytes: b}
			if err := parseManifest(a, o); err == nil {
				_ = kindOf(a)
			}
		}
	})
}
