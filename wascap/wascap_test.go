package wascap

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/wasmlattice/wash/internal/corpus"
)

// readFixture reads one of upstream's binaries kept in the repository's corpus.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	return corpus.Read(t, map[string]string{
		"hello_plugin_s.wasm":  corpus.HelloPlugin,
		"logger.wasm":          corpus.Logger,
		"guest.component.wasm": corpus.GuestComponent,
	}[name])
}

// fixtureClaims reads fixture name and the claims it must carry.
func fixtureClaims(t *testing.T, name string) ([]byte, *Token[Component]) {
	t.Helper()
	wasm := readFixture(t, name)
	tok, err := ExtractClaims(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if tok == nil {
		t.Fatalf("no claims found in %s", name)
	}
	return wasm, tok
}

func TestExtractUpstreamComponent(t *testing.T) {
	_, tok := fixtureClaims(t, "hello_plugin_s.wasm")
	c := tok.Claims
	if c.Metadata.Name != "hello-plugin" || c.Metadata.Ver != "0.1.0" {
		t.Errorf("metadata = %+v", c.Metadata)
	}
	if len(c.Metadata.Tags) != 1 || c.Metadata.Tags[0] != "wasmcloud.com/experimental" {
		t.Errorf("tags = %v", c.Metadata.Tags)
	}
	if c.WascapRevision == nil || *c.WascapRevision != 3 {
		t.Errorf("revision = %v", c.WascapRevision)
	}
	if !strings.HasPrefix(c.Issuer, "A") || !strings.HasPrefix(c.Subject, "M") {
		t.Errorf("iss/sub = %s/%s", c.Issuer, c.Subject)
	}
	if err := tok.Verify(time.Now()); err != nil {
		t.Errorf("verify: %v", err)
	}
}

func TestExtractLegacyModule(t *testing.T) {
	wasm, tok := fixtureClaims(t, "logger.wasm") // claims in the legacy jwt section
	if len(tok.Claims.Metadata.Caps) == 0 {
		t.Errorf("expected legacy caps, got %+v", tok.Claims.Metadata)
	}
	if tok.Claims.WascapRevision != nil {
		t.Errorf("legacy token has revision %d", *tok.Claims.WascapRevision)
	}
	// The reference says the hash matches even though old tokens are not checked.
	h, err := ModuleHash(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if h != tok.Claims.Metadata.Hash {
		t.Errorf("hash %s != claims %s", h, tok.Claims.Metadata.Hash)
	}
	if !tok.Validate(time.Now()).SignatureValid {
		t.Error("signature of legacy token does not verify")
	}
}

// minimal core module: header only plus one custom section
func tinyModule() []byte {
	m := append([]byte{}, wasmMagic...)
	m = append(m, 1, 0, 0, 0)
	// custom section "x" with payload "yz"
	m = append(m, 0, 4, 1, 'x', 'y', 'z')
	return m
}

func TestSignRoundTrip(t *testing.T) {
	acct, _ := nkeys.CreateAccount()
	mod, _ := NewKey(KindModule)
	sub := mod.Public()
	if sub[0] != 'M' {
		t.Fatalf("module key %s", sub)
	}
	rev := int32(4)
	signed, tok, err := Sign(tinyModule(), acct, sub, SignOptions{Name: "tiny", Ver: "1.0.0", Rev: &rev, CallAlias: "My Alias.v1"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Claims.Metadata.CallAlias != "my_alias_v1" {
		t.Errorf("alias = %q", tok.Claims.Metadata.CallAlias)
	}
	got, err := ExtractClaims(signed)
	if err != nil {
		t.Fatal(err)
	}
	if got.JWT != tok.JWT || got.Claims.Metadata.Name != "tiny" || *got.Claims.Metadata.Rev != 4 {
		t.Errorf("round trip mismatch: %+v", got.Claims)
	}
	if err := got.Verify(time.Now()); err != nil {
		t.Fatal(err)
	}
	// Re-signing replaces, not adds, the section.
	again, _, err := Sign(signed, acct, sub, SignOptions{Name: "tiny2"})
	if err != nil {
		t.Fatal(err)
	}
	secs, _ := sections(again)
	n := 0
	for _, s := range secs {
		if isJWTSection(s) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d jwt sections after re-sign", n)
	}
	stripped, _ := StripClaims(again)
	if !bytes.Equal(stripped, tinyModule()) {
		t.Error("strip did not restore the original")
	}
}

func TestTamperedModuleFailsHash(t *testing.T) {
	acct, _ := nkeys.CreateAccount()
	signed, _, err := Sign(tinyModule(), acct, "MXXX", SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(signed, []byte("yz"))
	signed[i] = 'Q'
	if _, err := ExtractClaims(signed); !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("got %v, want hash mismatch", err)
	}
}

func TestVerifyFailures(t *testing.T) {
	acct, _ := nkeys.CreateAccount()
	other, _ := nkeys.CreateAccount()
	otherPub, _ := other.PublicKey()
	past := time.Now().Add(-time.Hour)
	future := time.Now().Add(time.Hour)

	_, tok, _ := Sign(tinyModule(), acct, "MXXX", SignOptions{Expires: past})
	if err := tok.Verify(time.Now()); !errors.Is(err, ErrExpired) {
		t.Errorf("expired: got %v", err)
	}
	_, tok, _ = Sign(tinyModule(), acct, "MXXX", SignOptions{NotBefore: future})
	if err := tok.Verify(time.Now()); !errors.Is(err, ErrNotYetValid) {
		t.Errorf("nbf: got %v", err)
	}
	_, tok, _ = Sign(tinyModule(), acct, "MXXX", SignOptions{})
	forged, err := Decode[Component](tok.JWT)
	if err != nil {
		t.Fatal(err)
	}
	forged.Claims.Issuer = otherPub
	if err := forged.Verify(time.Now()); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("forged issuer: got %v", err)
	}
}

func TestDecodeBadInput(t *testing.T) {
	for _, in := range []string{"", "a.b", "a.b.c", "eyJ0eXAiOiJqd3QiLCJhbGciOiJIUzI1NiJ9.e30.AA"} {
		if _, err := Decode[Component](in); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Decode(%q) = %v", in, err)
		}
	}
	if _, err := ExtractClaims([]byte("nope")); !errors.Is(err, ErrNotWasm) {
		t.Errorf("not wasm: %v", err)
	}
	bad := append(tinyModule(), 0, 0xff) // truncated section
	if _, err := ExtractClaims(bad); err == nil {
		t.Error("truncated section accepted")
	}
}

func TestProviderClaimsEncoding(t *testing.T) {
	acct, _ := nkeys.CreateAccount()
	svc, _ := NewKey(KindService)
	sub := svc.Public()
	name := "p"
	c := NewClaims(PublicKey(acct), sub, &Provider{Name: &name, Vendor: "v", TargetHashes: map[string]string{"x86_64-linux": "AB"}})
	jwt, err := Encode(&c, acct)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Decode[Provider](jwt)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Verify(time.Now()); err != nil {
		t.Fatal(err)
	}
	if tok.Claims.Metadata.TargetHashes["x86_64-linux"] != "AB" {
		t.Error("hashes lost")
	}
}

func FuzzExtractClaims(f *testing.F) {
	f.Add(tinyModule())
	acct, _ := nkeys.CreateAccount()
	signed, _, _ := Sign(tinyModule(), acct, "MXXX", SignOptions{Name: "f"})
	f.Add(signed)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ExtractClaims(b)
		_, _ = StripClaims(b)
	})
}

func FuzzDecode(f *testing.F) {
	acct, _ := nkeys.CreateAccount()
	_, tok, _ := Sign(tinyModule(), acct, "MXXX", SignOptions{Name: "f"})
	f.Add(tok.JWT)
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		if tok, err := Decode[Component](s); err == nil {
			_ = tok.Validate(time.Now())
		}
	})
}

func TestKeyCodecMatchesNkeys(t *testing.T) {
	kp, _ := nkeys.CreateAccount()
	seed, _ := kp.Seed()
	pub, _ := kp.PublicKey()
	k, err := ParseSeed(string(seed))
	if err != nil {
		t.Fatal(err)
	}
	if k.Public() != pub || k.Seed() != string(seed) || k.Kind() != KindAccount {
		t.Errorf("codec mismatch: %s vs %s", k.Public(), pub)
	}
	for _, kind := range []KeyKind{KindModule, KindService} {
		k, _ := NewKey(kind)
		back, err := ParseSeed(k.Seed())
		if err != nil || back.Public() != k.Public() {
			t.Fatalf("kind %d: %v", kind, err)
		}
		want := map[KeyKind]string{KindModule: "SM", KindService: "SV"}[kind]
		if k.Seed()[:2] != want {
			t.Errorf("seed prefix %s, want %s", k.Seed()[:2], want)
		}
		signer, err := LoadKey(k.Seed())
		if err != nil || PublicKey(signer) != k.Public() {
			t.Errorf("LoadKey: %v", err)
		}
	}
	if _, err := LoadKey("SXNOTASEED"); err == nil {
		t.Error("bad seed accepted")
	}
}
