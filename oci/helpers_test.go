package oci

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/oci/ocitest"
	"github.com/wasmlattice/wash/oci/par"
)

// newRegistry is an in-process registry on 127.0.0.1 with request counters; wrap, if set,
// wraps its handler.
func newRegistry(t testing.TB, wrap func(http.Handler) http.Handler) *ocitest.Registry {
	t.Helper()
	return ocitest.NewRegistry(t, ocitest.Options{Wrap: wrap})
}

func testOptions(t testing.TB) Options {
	return Options{
		CacheDir:            t.TempDir(),
		Insecure:            true,
		DisableEnv:          true,
		DisableDockerConfig: true,
		Retry:               RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond},
	}
}

func newClient(t testing.TB, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tinyComponent(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/tiny.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func samplePAR(t testing.TB) []byte {
	t.Helper()
	a := par.New("Sample", "wash-tests")
	_ = a.AddBinary(par.NativeTarget(), []byte("#!/bin/sh\necho provider\n"))
	c, err := par.Create(a, par.Keys{}, true)
	if err != nil {
		t.Fatal(err)
	}
	return c.Bytes
}

// cacheFiles lists regular files under the cache's data directories.
func cacheFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	return files
}

// assertFailure checks the error contract: a sentinel, one line, naming the reference, and an
// empty cache.
func assertFailure(t *testing.T, err error, want error, ref, cacheDir string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected %v, got success", want)
	}
	if !errors.Is(err, want) {
		t.Errorf("got %q, want errors.Is %v", err, want)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("multi-line error: %q", msg)
	}
	if !strings.Contains(msg, ref) {
		t.Errorf("error %q does not name the reference %q", msg, ref)
	}
	if cacheDir != "" {
		if files := cacheFiles(t, cacheDir); len(files) > 0 {
			t.Errorf("cache not empty after failure: %v", files)
		}
	}
	t.Logf("error: %s", msg)
}

func push(t testing.TB, c *Client, ref string, req PushRequest) *PushResult {
	t.Helper()
	res, err := c.Push(context.Background(), ref, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
