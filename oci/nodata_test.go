package oci

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestNoDataPull: layers go to the cache file only, are verified on the way in and on a later
// process's read, and WriteTo/Content give the exact bytes.
func TestNoDataPull(t *testing.T) {
	reg := newRegistry(t, nil)
	ref := reg.Host + "/nodata/comp:1.0.0"
	want := tinyComponent(t)
	res := push(t, newClient(t, testOptions(t)), ref, PushRequest{Data: want})

	o := testOptions(t)
	ctx := context.Background()
	check := func(a *Artifact) {
		t.Helper()
		l := a.Layers[0]
		if l.Data != nil || l.Path == "" {
			t.Fatalf("NoData layer: %d bytes in memory, path %q", len(l.Data), l.Path)
		}
		if a.Kind != KindComponent {
			t.Errorf("kind %v", a.Kind)
		}
		var buf bytes.Buffer
		if n, err := a.WriteTo(&buf); err != nil || n != int64(len(want)) || !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("WriteTo: %d %v", n, err)
		}
		// *os.File destination: the kernel-copy path.
		f, err := os.Create(filepath.Join(t.TempDir(), "out.wasm"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.WriteTo(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if got, _ := os.ReadFile(f.Name()); !bytes.Equal(got, want) {
			t.Error("WriteTo(*os.File) wrong bytes")
		}
		if b, err := a.Content(); err != nil || !bytes.Equal(b, want) {
			t.Errorf("Content: %v", err)
		}
		if a.Bytes() != nil {
			t.Error("Bytes of a NoData artifact should be nil")
		}
	}
	a, err := newClient(t, o).Pull(ctx, ref, PullOptions{NoData: true})
	if err != nil {
		t.Fatal(err)
	}
	check(a)
	if a.FromCache {
		t.Error("first pull claims cache")
	}

	// A fresh client (another process's view) serves it from the cache, hashing it again.
	before := reg.BlobGets.Load()
	a, err = newClient(t, o).Pull(ctx, reg.Host+"/nodata/comp@"+res.Digest.String(), PullOptions{NoData: true})
	if err != nil {
		t.Fatal(err)
	}
	check(a)
	if !a.FromCache || reg.BlobGets.Load() != before {
		t.Error("cached NoData pull went to the registry")
	}

	// A corrupted blob of the right size is detected, removed and fetched again.
	blob := a.Layers[0].Path
	bad := bytes.Clone(want)
	bad[len(bad)-1] ^= 0xff
	if err := os.WriteFile(blob, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err = newClient(t, o).Pull(ctx, ref, PullOptions{NoData: true})
	if err != nil {
		t.Fatal(err)
	}
	check(a)
	if reg.BlobGets.Load() != before+1 {
		t.Errorf("corrupt blob: %d blob GETs, want 1", reg.BlobGets.Load()-before)
	}

	// Without a cache NoData has no effect: the bytes are in memory.
	o.CacheDir = ""
	a, err = newClient(t, o).Pull(ctx, ref, PullOptions{NoData: true})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), want) || a.Layers[0].Path != "" {
		t.Error("uncached NoData pull wrong")
	}
}

// TestNoDataTamperedBlob: a blob that does not match its digest leaves nothing in the cache.
func TestNoDataTamperedBlob(t *testing.T) {
	tampered := newRegistry(t, tamper)
	tref := tampered.Host + "/t/comp:1.0.0"
	push(t, newClient(t, testOptions(t)), tref, PushRequest{Data: tinyComponent(t)})
	o := testOptions(t)
	_, err := newClient(t, o).Pull(context.Background(), tref, PullOptions{NoData: true})
	assertFailure(t, err, ErrDigestMismatch, tref, o.CacheDir)
}

// TestNoDataPAR: the provider kind is found from the cached file's head.
func TestNoDataPAR(t *testing.T) {
	reg := newRegistry(t, nil)
	ref := reg.Host + "/p/prov:1.0.0"
	want := samplePAR(t)
	push(t, newClient(t, testOptions(t)), ref, PushRequest{Data: want})
	a, err := newClient(t, testOptions(t)).Pull(context.Background(), ref, PullOptions{NoData: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != KindProvider {
		t.Errorf("kind %v", a.Kind)
	}
	if b, err := a.Content(); err != nil || !bytes.Equal(b, want) {
		t.Errorf("Content: %v", err)
	}
}
