package oci

import (
	"errors"
	"strings"
	"testing"
)

func TestParseReference(t *testing.T) {
	for in, want := range map[string]string{
		"ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0": "ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0",
		"oci://GHCR.io/Org/Name:V1":                                "ghcr.io/org/name:v1",
		"http://127.0.0.1:5000/v2/foo:0.1.0":                       "127.0.0.1:5000/v2/foo:0.1.0",
		"https://localhost/foo:1":                                  "localhost/foo:1",
		"localhost:5000/foo:0.1.0":                                 "localhost:5000/foo:0.1.0",
		"registry:5000/v2/foo:0.1.0":                               "registry:5000/v2/foo:0.1.0",
		"nginx":                                                    "docker.io/library/nginx:latest",
		"acme/app:2":                                               "docker.io/acme/app:2",
		"ghcr.io/a/b@sha256:" + strings.Repeat("ab", 32):           "ghcr.io/a/b@sha256:" + strings.Repeat("ab", 32),
		"ghcr.io/a/b:1.0@sha256:" + strings.Repeat("ab", 32):       "ghcr.io/a/b:1.0@sha256:" + strings.Repeat("ab", 32),
	} {
		r, err := ParseReference(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if r.String() != want {
			t.Errorf("%s: got %s want %s", in, r, want)
		}
	}
	r, _ := ParseReference("ghcr.io/a/b")
	if !r.ImpliedTag || !r.IsLatest() {
		t.Error("implied latest not flagged")
	}
	r, _ = ParseReference("ghcr.io/a/b@sha256:" + strings.Repeat("ab", 32))
	if r.IsLatest() || r.Target() != "sha256:"+strings.Repeat("ab", 32) {
		t.Error("digest ref treated as latest")
	}
	r, _ = ParseReferenceDefault("team/app:1.0", "https://reg.example:5000")
	if r.String() != "reg.example:5000/team/app:1.0" {
		t.Errorf("default registry: %s", r)
	}
	for _, bad := range []string{"", "   ", "ftp://x/y:1", "ghcr.io/a/b:", "ghcr.io/a/b@sha256:zz", "ghcr.io/A B/c:1", "ghcr.io//x:1", ":1"} {
		if _, err := ParseReference(bad); !errors.Is(err, ErrInvalidReference) {
			t.Errorf("%q: got %v", bad, err)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: multi-line", bad)
		}
	}
}

func TestParseResourceRef(t *testing.T) {
	r, err := ParseResourceRef("file:///tmp/x/hello.wasm")
	if err != nil || r.Kind != RefFile || r.Path != "/tmp/x/hello.wasm" {
		t.Errorf("file: %+v %v", r, err)
	}
	r, err = ParseResourceRef("wasmcloud+builtin://http-server")
	if err != nil || r.Kind != RefBuiltin || r.Builtin != "http-server" {
		t.Errorf("builtin: %+v %v", r, err)
	}
	r, err = ParseResourceRef("oci://ghcr.io/wasmcloud/http-server:0.23.0")
	if err != nil || r.Kind != RefOCI || r.OCI.String() != "ghcr.io/wasmcloud/http-server:0.23.0" {
		t.Errorf("oci: %+v %v", r, err)
	}
	for _, bad := range []string{"file://host/x", "wasmcloud+builtin://", "wasmcloud+builtin://a/b", "file://"} {
		if _, err := ParseResourceRef(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	u, err := FileRef("testdata/tiny.wasm")
	if err != nil || !strings.HasPrefix(u, "file:///") {
		t.Errorf("FileRef: %s %v", u, err)
	}
	back, err := ParseResourceRef(u)
	if err != nil || !strings.HasSuffix(back.Path, "testdata/tiny.wasm") {
		t.Errorf("FileRef round trip: %+v %v", back, err)
	}
}

func TestIdentify(t *testing.T) {
	for in, want := range map[string]Kind{
		"\x00asm\x0d\x00\x01\x00":         KindComponent,
		"\x00asm\x01\x00\x00\x00":         KindModule,
		"\x00asm\x0c\x00\x01\x00":         KindComponent, // pre-standard encoding still says layer 1
		"\x1f\x8b\x08":                    KindProvider,
		"hello":                           KindUnknown,
		"\x00asm\x02\x00\x00\x00\x00\x00": KindUnknown,
	} {
		if got := Identify([]byte(in)); got != want {
			t.Errorf("%q: %v want %v", in, got, want)
		}
	}
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"ghcr.io/a/b:1", "oci://x.y/z@sha256:" + strings.Repeat("0", 64), "nginx", "localhost:5000/a", "file:///x", "wasmcloud+builtin://http-server"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := ParseReference(s); err == nil {
			// A parsed reference re-parses to itself.
			r2, err := ParseReference(r.String())
			if err != nil || r2.String() != r.String() {
				t.Fatalf("%q -> %q -> %q (%v)", s, r.String(), r2.String(), err)
			}
		}
		_, _ = ParseResourceRef(s)
	})
}
