package providers

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/internal/testtool"
	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
)

func vaultLink(v *providertest.Vault, token string) InterfaceLinkDefinition {
	return InterfaceLinkDefinition{SourceID: "app", Target: "vault", WitNamespace: "wasi", WitPackage: "keyvalue",
		TargetConfig: map[string]string{"addr": v.Addr, "token": token}}
}

func vaultStore(t *testing.T, v *providertest.Vault) KVStore {
	t.Helper()
	s, _, err := newVaultKV().Open(context.Background(), vaultLink(v, v.Token), "app")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// keyvalue-vault against a real Vault (1.14.1, KV v2): upstream's layout (bucket = secret
// path, key = field, value = unpadded base64) visible through Vault's own API, exact
// concurrent increments through the counter component, a wrong token refused as
// access-denied.
func TestVaultKV(t *testing.T) {
	v := providertest.StartVault(t)
	ctx := context.Background()
	p := newVaultKV()
	s, bucket, err := p.Open(ctx, vaultLink(v, v.Token), "team/config")
	if err != nil || bucket != "team/config" {
		t.Fatalf("open: %q %v", bucket, err)
	}
	if err := s.Set(ctx, bucket, "greeting", []byte("hello vault")); err != nil {
		t.Fatal(err)
	}
	fields, err := v.Fields("team/config")
	if err != nil {
		t.Fatal(err)
	}
	if got := fields["greeting"]; got != "aGVsbG8gdmF1bHQ" {
		t.Fatalf("stored field = %q, want unpadded base64 of the value", got)
	}

	// the counter component, 20 clients × 50 increments of one field
	prog := loadCounter(t)
	ifaces := KeyValueInterfaces(func(ctx context.Context, id string) (KVStore, string, error) {
		return p.Open(ctx, vaultLink(v, v.Token), id)
	})
	if code, body := hit(t, prog, ifaces, "/hello"); code != 200 || body != "1" {
		t.Fatalf("GET /hello = %d %q", code, body)
	}
	concurrentCount(t, prog, ifaces, 20, 1000)

	// a wrong token: access-denied, the counter answers 500
	bad := KeyValueInterfaces(func(ctx context.Context, id string) (KVStore, string, error) {
		return p.Open(ctx, vaultLink(v, "not-a-token"), id)
	})
	if code, body := hit(t, prog, bad, "/hello"); code != 500 || !strings.Contains(body, "access denied") {
		t.Fatalf("wrong token: %d %q", code, body)
	}
	// nothing listening
	gone := KeyValueInterfaces(func(ctx context.Context, id string) (KVStore, string, error) {
		port := testtool.FreePort(t)
		l := vaultLink(v, v.Token)
		l.TargetConfig["addr"] = "http://127.0.0.1:" + strconv.Itoa(port)
		return p.Open(ctx, l, id)
	})
	if code, body := hit(t, prog, gone, "/hello"); code != 500 || !strings.Contains(body, "cannot reach Vault at http://127.0.0.1:") {
		t.Fatalf("unreachable: %d %q", code, body)
	}
}

func TestVaultConfigErrors(t *testing.T) {
	t.Setenv("VAULT_TOKEN", "")
	if err := newVaultKV().PutLink(context.Background(), Link{SourceID: "c", Target: "v", WitNamespace: "wasi", WitPackage: "keyvalue"}); err == nil || !strings.Contains(err.Error(), "has no token") {
		t.Fatalf("no token: %v", err)
	}
	_, _, err := newVaultKV().Open(context.Background(), InterfaceLinkDefinition{TargetConfig: map[string]string{"token": "t", "addr": "vault:8200"}}, "b")
	if err == nil || !strings.Contains(err.Error(), "is not an http(s) URL") {
		t.Fatalf("bad addr: %v", err)
	}
	_, _, err = newVaultKV().Open(context.Background(), InterfaceLinkDefinition{TargetConfig: map[string]string{"token": "t"}}, "../x")
	if err == nil || !strings.Contains(err.Error(), "is not a secret path") {
		t.Fatalf("bad path: %v", err)
	}
}
