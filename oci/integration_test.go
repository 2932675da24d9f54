package oci

import (
	"bytes"
	"context"
	"testing"

	"github.com/wasmlattice/wash/oci/ocitest"
)

func startDistribution(t testing.TB, user, pass string) string {
	return ocitest.StartDistribution(t, user, pass)
}

func TestDistributionRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry process")
	}
	addr := startDistribution(t, "wash", "pa55word")
	ctx := context.Background()
	o := testOptions(t)
	o.Credentials = map[string]Credential{addr: {Username: "wash", Password: "pa55word"}}
	c := newClient(t, o)
	for name, data := range map[string][]byte{"component": tinyComponent(t), "provider": samplePAR(t)} {
		ref := addr + "/wasmcloud/" + name + ":0.1.0"
		res, err := c.Push(ctx, ref, PushRequest{Data: data, Annotations: map[string]string{"k": "v"}})
		if err != nil {
			t.Fatal(err)
		}
		po := o
		po.CacheDir = t.TempDir()
		a, err := newClient(t, po).Pull(ctx, ref, PullOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if a.Digest != res.Digest || !bytes.Equal(a.Bytes(), data) || !bytes.Equal(a.ManifestBytes, res.Manifest) {
			t.Errorf("%s: round trip mismatch (%s vs %s)", name, a.Digest, res.Digest)
		}
		// By digest from the fresh cache: no network needed, so it works even with bad credentials.
		po.Credentials = map[string]Credential{addr: {Username: "wash", Password: "wrong"}}
		if _, err := newClient(t, po).Pull(ctx, addr+"/wasmcloud/"+name+"@"+res.Digest.String(), PullOptions{}); err != nil {
			t.Errorf("cached digest pull: %v", err)
		}
	}
	bad := o
	bad.CacheDir = t.TempDir()
	bad.Credentials = map[string]Credential{addr: {Username: "wash", Password: "nope"}}
	ref := addr + "/wasmcloud/component:0.1.0"
	_, err := newClient(t, bad).Pull(ctx, ref, PullOptions{})
	assertFailure(t, err, ErrUnauthorized, ref, bad.CacheDir)
}
