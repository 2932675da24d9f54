package host_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
	"github.com/wasmlattice/wash/lattice/secrets"
	"github.com/wasmlattice/wash/oci/par"
	"github.com/wasmlattice/wash/wascap"
)

// secretsBackend runs a NATS-KV backend on the lattice's NATS and returns a client for it.
func secretsBackend(t *testing.T, nc *nats.Conn) secrets.NatsKVClient {
	t.Helper()
	transit, _ := nkeys.CreateCurveKeys()
	enc, _ := nkeys.CreateCurveKeys()
	ts, _ := transit.Seed()
	es, _ := enc.Seed()
	s, err := secrets.StartNatsKV(context.Background(), nc, secrets.NatsKVConfig{TransitSeed: string(ts), EncryptionSeed: string(es)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return secrets.NatsKVClient{NC: nc}
}

// putReference stores SECRET_<name> pointing at key in the nats-kv backend, as `wash secrets put`.
func putReference(t *testing.T, c *ctl.Client, name, key string) string {
	t.Helper()
	m, err := secrets.NewReference(name, "nats-kv", key, nil, nil, nil).ConfigMap()
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.PutConfig(context.Background(), secrets.ConfigName(name), m); err != nil || !r.Success {
		t.Fatalf("put reference: %+v %v", r, err)
	}
	return secrets.ConfigName(name)
}

// signedSecretsGuest signs the wasmcloud:secrets test component and returns its ref and key.
func signedSecretsGuest(t *testing.T) (ref, subject string) {
	t.Helper()
	wasm, err := os.ReadFile("testdata/secrets/secrets.component.wasm")
	if err != nil {
		t.Fatal(err)
	}
	p, tok := testlattice.SignComponent(t, wasm, wascap.SignOptions{Name: "secrets-guest"})
	return "file://" + p, tok.Claims.Subject
}

// TestComponentSecrets: a signed component started with a SECRET_ reference reads the secret
// through wasmcloud:secrets (store.get + reveal), served by a NATS-KV backend, and nothing else.
func TestComponentSecrets(t *testing.T) {
	l := newLattice(t, host.Config{SecretsTopic: secrets.DefaultTopic})
	ctx := context.Background()
	kv := secretsBackend(t, l.nc)
	ref, sub := signedSecretsGuest(t)
	if _, err := kv.PutSecret(ctx, "", secrets.PutSecretRequest{Key: "api-token", StringSecret: strp("t0ps3cret")}); err != nil {
		t.Fatal(err)
	}
	cfg := putReference(t, l.c, "api", "api-token")

	// Not mapped to the component yet: the backend refuses and the scale fails, saying why.
	l.ok(l.c.ScaleComponent(ctx, ctl.ScaleComponentCommand{HostID: l.h.ID(), ComponentID: "sg", ComponentRef: ref, Count: 1, Config: []string{cfg}}))
	d := l.evs.waitFor(t, events.ComponentScaleFailed, nil)
	if msg, _ := d["error"].(string); !strings.Contains(msg, "unauthorized") || d["public_key"] != sub {
		t.Fatalf("unmapped secret: %v", d)
	}

	if err := kv.AddMapping(ctx, sub, []string{"api-token"}); err != nil {
		t.Fatal(err)
	}
	l.scale("sg", ref, 1, nil, cfg)
	base := l.serveHTTP("sg")
	if code, body := waitServed(t, base+"/api"); code != 200 || body != "t0ps3cret" {
		t.Fatalf("GET /api = %d %q", code, body)
	}
	if code, body, _ := get(base + "/other"); code != 404 || body != "not found: other" {
		t.Fatalf("GET /other = %d %q", code, body)
	}
}

// TestSecretsFailures: no secrets topic, an unsigned component, a missing reference.
func TestSecretsFailures(t *testing.T) {
	ctx := context.Background()
	wat := "file://" + mustAbs(t, "testdata/secrets/secrets.component.wasm")
	signed, _ := signedSecretsGuest(t)
	cases := []struct {
		name, topic, ref string
		put              bool
		want             string
	}{
		{"no topic", "", signed, true, "secret store not configured"},
		{"unsigned", secrets.DefaultTopic, wat, true, "entity did not have an embedded JWT"},
		{"missing reference", secrets.DefaultTopic, signed, false, "Secret config SECRET_gone not found in config store"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLattice(t, host.Config{SecretsTopic: tc.topic})
			secretsBackend(t, l.nc)
			name := "gone"
			if tc.put {
				putReference(t, l.c, name, "k")
			}
			l.ok(l.c.ScaleComponent(ctx, ctl.ScaleComponentCommand{HostID: l.h.ID(), ComponentID: "sg", ComponentRef: tc.ref, Count: 1, Config: []string{"SECRET_" + name}}))
			d := l.evs.waitFor(t, events.ComponentScaleFailed, nil)
			if msg, _ := d["error"].(string); !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q does not say %q", msg, tc.want)
			}
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestProviderSecrets: a native provider gets its SECRET_ config as plaintext HostData secrets
// and a link's secrets sealed with the host's xkey to its own (upstream
// host/src/wasmbus/providers/mod.rs:58-200, mod.rs:2593-2676).
func TestProviderSecrets(t *testing.T) {
	l := newLattice(t, host.Config{SecretsTopic: secrets.DefaultTopic})
	ctx := context.Background()
	kv := secretsBackend(t, l.nc)
	if _, err := kv.PutSecret(ctx, "", secrets.PutSecretRequest{Key: "db", StringSecret: strp("pw1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.PutSecret(ctx, "", secrets.PutSecretRequest{Key: "tls-key", BinarySecret: []byte{1, 2, 0xff}}); err != nil {
		t.Fatal(err)
	}
	parPath := providertest.TestProviderPAR(t, t.TempDir(), true)
	b, _ := os.ReadFile(parPath)
	sub := parSubject(t, b)
	if err := kv.AddMapping(ctx, sub, []string{"db", "tls-key"}); err != nil {
		t.Fatal(err)
	}
	dbRef := putReference(t, l.c, "db", "db")
	tlsRef := putReference(t, l.c, "tls", "tls-key")
	reports := providertest.Reports(t, l.nc, "p")
	l.ok(l.c.StartProvider(ctx, ctl.StartProviderCommand{ProviderID: "p", ProviderRef: "file://" + parPath, HostID: l.h.ID(), Config: []string{dbRef}}))
	var hd struct {
		Secrets        json.RawMessage `json:"secrets"`
		HostXKey       string          `json:"host_xkey_public_key"`
		ProviderXKSeed string          `json:"provider_xkey_private_key"`
		Config         map[string]string
	}
	if err := json.Unmarshal(providertest.NextReport(t, reports, "started").HostData, &hd); err != nil {
		t.Fatal(err)
	}
	if string(hd.Secrets) != `{"db":{"kind":"String","value":"pw1"}}` || len(hd.Config) != 0 {
		t.Fatalf("host data secrets %s config %v", hd.Secrets, hd.Config)
	}
	l.ok(l.c.PutLink(ctx, ctl.Link{SourceID: "comp", Target: "p", WitNamespace: "wasi", WitPackage: "keyvalue", Interfaces: []string{"store"}, TargetConfig: []string{tlsRef}}))
	var link struct {
		SourceSecrets json.RawMessage `json:"source_secrets"`
		Raw           []int           `json:"target_secrets"`
		TargetConfig  map[string]string
	}
	if err := json.Unmarshal(providertest.NextReport(t, reports, "link_put").Link, &link); err != nil {
		t.Fatal(err)
	}
	if string(link.SourceSecrets) != "null" || len(link.Raw) == 0 || len(link.TargetConfig) != 0 {
		t.Fatalf("link secrets: source %s target %d bytes, config %v", link.SourceSecrets, len(link.Raw), link.TargetConfig)
	}
	sealed := make([]byte, len(link.Raw))
	for i, n := range link.Raw {
		sealed[i] = byte(n)
	}
	pk, err := nkeys.FromCurveSeed([]byte(hd.ProviderXKSeed))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := pk.Open(sealed, hd.HostXKey)
	if err != nil {
		t.Fatalf("the provider cannot open its link secrets: %v", err)
	}
	if string(plain) != `{"tls":{"kind":"Bytes","value":[1,2,255]}}` {
		t.Fatalf("link secrets = %s", plain)
	}
}

// parSubject reads the provider archive's claims subject (V…).
func parSubject(t *testing.T, b []byte) string {
	t.Helper()
	a, err := par.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	return a.Token.Claims.Subject
}
