package host

import (
	"context"
	"crypto/rand"
	"log/slog"
	"testing"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/oci"
	"github.com/wasmlattice/wash/oci/ocitest"
)

// bigComponent is a valid component of about n bytes: the preamble plus one custom section.
func bigComponent(n int) []byte {
	payload := make([]byte, n)
	_, _ = rand.Read(payload)
	body := append([]byte{3, 'p', 'a', 'd'}, payload...)
	out := []byte("\x00asm\x0d\x00\x01\x00\x00")
	for v := uint32(len(body)); ; {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			out = append(out, c)
			break
		}
		out = append(out, c|0x80)
	}
	return append(out, body...)
}

// benchHost is a host with only what the fetch path needs (no NATS).
func benchHost(b *testing.B, registry string) *Host {
	h := &Host{
		cfg:        Config{OCICacheDir: b.TempDir(), AllowedInsecure: []string{registry}},
		log:        slog.New(slog.DiscardHandler),
		registries: map[string]ctl.RegistryCredential{},
	}
	if err := h.newOCIClient(); err != nil {
		b.Fatal(err)
	}
	return h
}

func benchFetch(b *testing.B, byDigest bool) {
	reg := ocitest.NewRegistry(b, ocitest.Options{})
	data := bigComponent(10 << 20)
	pc, _ := oci.New(oci.Options{Insecure: true, DisableEnv: true, DisableDockerConfig: true})
	res, err := pc.Push(context.Background(), reg.Host+"/bench/big:1.0.0", oci.PushRequest{Data: data})
	if err != nil {
		b.Fatal(err)
	}
	ref := reg.Host + "/bench/big:1.0.0"
	if byDigest {
		ref = reg.Host + "/bench/big@" + res.Digest.String()
	}
	h := benchHost(b, reg.Host)
	ctx := context.Background()
	if _, err := h.fetchArtifact(ctx, ref); err != nil {
		b.Fatal(err)
	}
	blobs := reg.BlobGets.Load()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if w, err := h.fetchArtifact(ctx, ref); err != nil || len(w) != len(data) {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := reg.BlobGets.Load() - blobs; n != 0 {
		b.Fatalf("cached fetches downloaded %d blobs", n)
	}
}

// BenchmarkCachedComponentFetchByTag is a component.scale fetch of a 10 MiB component already
// in the host's cache, by tag: one manifest request to the loopback registry (tags are
// re-resolved on every start), the layer from disk.
func BenchmarkCachedComponentFetchByTag(b *testing.B) { benchFetch(b, false) }

// BenchmarkCachedComponentFetchByDigest is the same by digest: no network at all.
func BenchmarkCachedComponentFetchByDigest(b *testing.B) { benchFetch(b, true) }
