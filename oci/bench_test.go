package oci

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/wasmlattice/wash/oci/ocitest"
)

// bigComponent is a valid component of about n bytes: the preamble plus one custom section.
func bigComponent(n int) []byte {
	payload := make([]byte, n)
	_, _ = rand.Read(payload)
	name := "pad"
	body := append([]byte{byte(len(name))}, name...)
	body = append(body, payload...)
	out := []byte("\x00asm\x0d\x00\x01\x00\x00")
	v := uint32(len(body))
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			out = append(out, c|0x80)
			continue
		}
		out = append(out, c)
		break
	}
	return append(out, body...)
}

func setupBench(b *testing.B) (*ocitest.Registry, *PushResult, []byte) {
	reg := newRegistry(b, nil)
	data := bigComponent(10 << 20)
	res := push(b, newClient(b, testOptions(b)), reg.Host+"/bench/big:1.0.0", PushRequest{Data: data})
	return reg, res, data
}

// BenchmarkPull10MB pulls a 10 MiB component from a loopback registry into a fresh cache
// directory each time (download, hash, write, rename).
func BenchmarkPull10MB(b *testing.B) {
	reg, _, data := setupBench(b)
	ref := reg.Host + "/bench/big:1.0.0"
	benchColdPulls(b, ref, len(data), PullOptions{}, nil, func(a *Artifact, err error) {
		if err != nil || len(a.Bytes()) != len(data) {
			b.Fatal(err)
		}
	})
}

// benchColdPulls times b.N pulls of ref, each by a new client over an empty cache directory
// (made, and removed, with the timer stopped, as is setup); check sees each pull's result
// within the timer.
func benchColdPulls(b *testing.B, ref string, size int, po PullOptions, setup func(), check func(*Artifact, error)) {
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		o := testOptions(b)
		dir, _ := os.MkdirTemp("", "oci-bench-")
		o.CacheDir = dir
		c := newClient(b, o)
		if setup != nil {
			setup()
		}
		b.StartTimer()
		check(c.Pull(context.Background(), ref, po))
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}

// BenchmarkCachedPull pulls the same 10 MiB component by digest from the cache (no network;
// the blob is re-hashed on read).
func BenchmarkCachedPull(b *testing.B) {
	reg, res, data := setupBench(b)
	c := newClient(b, testOptions(b))
	ref := reg.Host + "/bench/big@" + res.Digest.String()
	if _, err := c.Pull(context.Background(), ref, PullOptions{}); err != nil {
		b.Fatal(err)
	}
	before := reg.Requests.Load()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Pull(context.Background(), ref, PullOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := reg.Requests.Load() - before; n != 0 {
		b.Fatalf("cached pulls made %d requests", n)
	}
}

// BenchmarkRawBlobGet10MB is the floor for BenchmarkPull10MB: one plain HTTP GET of the same
// layer blob from the same registry, discarded (what `curl -o /dev/null` does).
func BenchmarkRawBlobGet10MB(b *testing.B) {
	reg, res, data := setupBench(b)
	url := "http://" + reg.Host + "/v2/bench/big/blobs/" + res.Layer.Digest.String()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != int64(len(data)) {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkPull10MBNoData is BenchmarkPull10MB as wash pull does it: streamed into the cache
// only, then copied to a destination file.
func BenchmarkPull10MBNoData(b *testing.B) {
	reg, _, data := setupBench(b)
	ref := reg.Host + "/bench/big:1.0.0"
	out := b.TempDir() + "/out.wasm"
	benchColdPulls(b, ref, len(data), PullOptions{NoData: true}, func() { _ = os.Remove(out) }, func(a *Artifact, err error) {
		if err != nil {
			b.Fatal(err)
		}
		writeOut(b, a, out, len(data))
	})
}

// BenchmarkCachedPullNoData pulls by digest from a warm cache with a fresh client each time (a
// new process's view: the blob is hashed again) and copies it to a destination file.
func BenchmarkCachedPullNoData(b *testing.B) {
	reg, res, data := setupBench(b)
	o := testOptions(b)
	ref := reg.Host + "/bench/big@" + res.Digest.String()
	if _, err := newClient(b, o).Pull(context.Background(), ref, PullOptions{NoData: true}); err != nil {
		b.Fatal(err)
	}
	out := b.TempDir() + "/out.wasm"
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := newClient(b, o)
		_ = os.Remove(out)
		b.StartTimer()
		a, err := c.Pull(context.Background(), ref, PullOptions{NoData: true})
		if err != nil {
			b.Fatal(err)
		}
		writeOut(b, a, out, len(data))
	}
}

// BenchmarkRawBlobGetToFile10MB is the fair floor for the NoData benchmarks: one plain GET of
// the layer blob saved to a file (what `curl -o file` does).
func BenchmarkRawBlobGetToFile10MB(b *testing.B) {
	reg, res, data := setupBench(b)
	url := "http://" + reg.Host + "/v2/bench/big/blobs/" + res.Layer.Digest.String()
	out := b.TempDir() + "/out.bin"
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		_ = os.Remove(out)
		b.StartTimer()
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		f, err := os.Create(out)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(f, resp.Body)
		resp.Body.Close()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil || n != int64(len(data)) {
			b.Fatal(n, err)
		}
	}
}

func writeOut(b *testing.B, a *Artifact, path string, want int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	n, err := a.WriteTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || n != int64(want) {
		b.Fatal(n, err)
	}
}
