package par

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/internal/bounded"
	"github.com/wasmlattice/wash/wascap"
)

func sample(t testing.TB, compress bool) (*Created, *Archive) {
	t.Helper()
	a := New("Test Provider", "acme")
	ver := "0.1.0"
	a.Ver = &ver
	a.Schema = []byte(`{"type":"object"}`)
	a.World = []byte("\x00asm fake world")
	if err := a.AddBinary("x86_64-linux", []byte("linux-binary")); err != nil {
		t.Fatal(err)
	}
	if err := a.AddBinary("aarch64-macos", []byte("mac-binary")); err != nil {
		t.Fatal(err)
	}
	c, err := Create(a, Keys{}, compress)
	if err != nil {
		t.Fatal(err)
	}
	return c, a
}

func TestCreateLoadRoundTrip(t *testing.T) {
	for _, gz := range []bool{false, true} {
		c, _ := sample(t, gz)
		if IsGzip(c.Bytes) != gz || !LooksLikePAR(c.Bytes) {
			t.Fatalf("gzip=%v: detection wrong", gz)
		}
		if c.GeneratedIssuer == nil || c.GeneratedSubject == nil {
			t.Fatal("keys not generated")
		}
		if !strings.HasPrefix(c.Token.Claims.Subject, "V") || !strings.HasPrefix(c.Token.Claims.Issuer, "A") {
			t.Errorf("iss/sub %s %s", c.Token.Claims.Issuer, c.Token.Claims.Subject)
		}
		a, err := Load(c.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != "Test Provider" || a.Vendor != "acme" || *a.Ver != "0.1.0" || string(a.Schema) != `{"type":"object"}` {
			t.Errorf("metadata: %+v", a)
		}
		if got := strings.Join(a.Targets(), ","); got != "aarch64-macos,x86_64-linux" {
			t.Errorf("targets %s", got)
		}
		h := a.Token.Claims.Metadata.TargetHashes
		if h["x86_64-linux"] != wascap.Hash([]byte("linux-binary")) || h[WorldFile] == "" {
			t.Errorf("hashes %v", h)
		}
		if strings.ToUpper(h["x86_64-linux"]) != h["x86_64-linux"] {
			t.Error("hash not upper-case")
		}
	}
}

func TestEntryOrder(t *testing.T) {
	c, _ := sample(t, false)
	tr := tar.NewReader(bytes.NewReader(c.Bytes))
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
	}
	if got := strings.Join(names, ","); got != "claims.jwt,world.wasm,aarch64-macos.bin,x86_64-linux.bin" {
		t.Errorf("entries %s", got)
	}
}

func TestLoadTargetAndExtract(t *testing.T) {
	c, _ := sample(t, true)
	a, err := LoadTarget(c.Bytes, "aarch64-macos")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Binaries) != 1 {
		t.Errorf("loaded %d binaries", len(a.Binaries))
	}
	if _, err := LoadTarget(c.Bytes, "riscv64-linux"); !errors.Is(err, ErrNoTarget) {
		t.Errorf("missing target: %v", err)
	}
	dir := t.TempDir()
	p, _, err := Extract(c.Bytes, "x86_64-linux", filepath.Join(dir, "sub", "prov"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("extracted %v %v", st, err)
	}
	b, _ := os.ReadFile(p)
	if string(b) != "linux-binary" {
		t.Error("wrong bytes")
	}
	left, _ := filepath.Glob(filepath.Join(dir, "sub", ".par-extract-*"))
	if len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func TestInsert(t *testing.T) {
	c, _ := sample(t, true)
	issuer, _ := wascap.NewKey(wascap.KindAccount)
	out, err := Insert(c.Bytes, "x86_64-windows", []byte("win"), Keys{Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	if !IsGzip(out.Bytes) {
		t.Error("compression not kept")
	}
	a, err := Load(out.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Binaries) != 3 || a.Token.Claims.Subject != c.Token.Claims.Subject || a.Token.Claims.Issuer != issuer.Public() {
		t.Errorf("after insert: %v %s", a.Targets(), a.Token.Claims.Subject)
	}
	if _, err := Insert(c.Bytes, "../evil", []byte("x"), Keys{}); err == nil {
		t.Error("bad target name accepted")
	}
}

// rewrite copies a plain tar replacing the content of one entry (or dropping it).
func rewrite(t *testing.T, in []byte, name string, content []byte, drop bool) []byte {
	t.Helper()
	return copyTar(in, func(h *tar.Header, data []byte) ([]byte, bool) {
		if h.Name != name {
			return data, true
		}
		h.Size = int64(len(content))
		return content, !drop
	})
}

// copyTar copies a plain tar entry by entry through edit, which returns the entry's new data
// (its header's Size set to match) and whether to keep it, then appends the entries of extra.
func copyTar(in []byte, edit func(h *tar.Header, data []byte) ([]byte, bool), extra ...*tar.Header) []byte {
	tr := tar.NewReader(bytes.NewReader(in))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(tr)
		data, keep := edit(h, b.Bytes())
		if !keep {
			continue
		}
		_ = tw.WriteHeader(h)
		_, _ = tw.Write(data)
	}
	for _, h := range extra {
		_ = tw.WriteHeader(h)
		_, _ = tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
	}
	_ = tw.Close()
	return out.Bytes()
}

func TestBadArchives(t *testing.T) {
	c, _ := sample(t, false)
	cases := map[string]struct {
		data []byte
		want error
	}{
		"tampered binary": {rewrite(t, c.Bytes, "x86_64-linux.bin", []byte("evil"), false), ErrHashMismatch},
		"tampered world":  {rewrite(t, c.Bytes, "world.wasm", []byte("evil"), false), ErrHashMismatch},
		"no claims":       {rewrite(t, c.Bytes, "claims.jwt", nil, true), ErrIncomplete},
		"bad signature": {rewrite(t, c.Bytes, "claims.jwt",
			[]byte(c.Token.JWT[:len(c.Token.JWT)-4]+"AAAA"), false), wascap.ErrInvalidSignature},
	}
	// A binary with no hash entry at all must be an error, not a panic.
	keepAll := func(_ *tar.Header, data []byte) ([]byte, bool) { return data, true }
	extra := copyTar(c.Bytes, keepAll, &tar.Header{Name: "riscv64-linux.bin", Size: 1, Mode: 0o644})
	cases["unhashed binary"] = struct {
		data []byte
		want error
	}{extra, ErrHashMismatch}
	for name, tc := range cases {
		_, err := Load(tc.data)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: multi-line error", name)
		}
	}
	for _, junk := range [][]byte{nil, {1}, []byte("not a tar at all, just text"), {0x1f, 0x8b, 0, 0}} {
		if _, err := Load(junk); err == nil {
			t.Errorf("junk %q accepted", junk)
		}
	}
}

func TestRustTarget(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"amd64", "linux"}: "x86_64-linux", {"arm64", "darwin"}: "aarch64-macos",
		{"amd64", "windows"}: "x86_64-windows", {"arm64", "linux"}: "aarch64-linux",
		{"amd64", "darwin"}: "x86_64-macos", {"riscv64", "linux"}: "riscv64-linux",
	} {
		if got := RustTarget(in[0], in[1]); got != want {
			t.Errorf("%v: %s want %s", in, got, want)
		}
	}
}

func FuzzLoad(f *testing.F) {
	c, _ := sample(f, false)
	f.Add(c.Bytes)
	g, _ := sample(f, true)
	f.Add(g.Bytes)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Load(b)
	})
}

// TestUnpackedSizeBounded: a gzipped archive whose entries unpack to more than the limit (a
// decompression bomb) fails with a size error naming the limit, after reading at most the limit.
func TestUnpackedSizeBounded(t *testing.T) {
	a := New("Bomb", "acme")
	if err := a.AddBinary("x86_64-linux", make([]byte, 4<<20)); err != nil { // 4 MiB of zeros gzip to 4 KiB
		t.Fatal(err)
	}
	c, err := Create(a, Keys{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Bytes) > 64<<10 {
		t.Fatalf("archive is %d bytes; want a small compressed archive", len(c.Bytes))
	}
	for _, target := range []string{"x86_64-linux", "aarch64-macos"} { // read, and skipped
		_, err := LoadTargetLimit(c.Bytes, target, 1<<20)
		if !errors.Is(err, bounded.ErrTooLarge) || !strings.Contains(err.Error(), "1 MiB limit") {
			t.Fatalf("%s: %v", target, err)
		}
	}
	if _, err := LoadTargetLimit(c.Bytes, "x86_64-linux", 8<<20); err != nil {
		t.Fatalf("under the limit: %v", err)
	}
	// claims.jwt has its own small bound whatever the archive limit.
	huge := rewrite(t, mustCreate(t, false), ClaimsFile, make([]byte, 2<<20), false)
	if _, err := Load(huge); !errors.Is(err, bounded.ErrTooLarge) || !strings.Contains(err.Error(), ClaimsFile) {
		t.Fatalf("2 MiB claims: %v", err)
	}
}

func mustCreate(t *testing.T, compress bool) []byte {
	c, _ := sample(t, compress)
	return c.Bytes
}
