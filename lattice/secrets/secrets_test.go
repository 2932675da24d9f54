package secrets_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/wasmlattice/wash/internal/testlattice"
	. "github.com/wasmlattice/wash/lattice/secrets"
	"github.com/wasmlattice/wash/wascap"
)

func strp(s string) *string { return &s }

// TestWireShapes pins the JSON of every message of the protocol against upstream serde
// definitions (crates/secrets-types/src/lib.rs, errors.rs; crates/secrets-nats-kv/src/types.rs).
func TestWireShapes(t *testing.T) {
	ref := NewReference("db", "nats-kv", "db-password", nil, strp("2"), map[string]string{"tier": "prod"})
	m, err := ref.ConfigMap()
	if err != nil {
		t.Fatal(err)
	}
	// lib.rs:222-262 (the map wash and wadm store as SECRET_<name> config)
	if got, _ := json.Marshal(m); string(got) != `{"backend":"nats-kv","key":"db-password","name":"db","policy":"{\"type\":\"properties.secret.wasmcloud.dev/v1alpha1\",\"properties\":{\"tier\":\"prod\"}}","type":"secret.wasmcloud.dev/v1alpha1","version":"2"}` {
		t.Errorf("reference config:\n%s", got)
	}
	back, err := ParseReference(m)
	if err != nil || back.Key != "db-password" || *back.Version != "2" || back.Field != nil || back.Policy.Properties["tier"] != "prod" {
		t.Errorf("reference round trip: %+v %v", back, err)
	}
	if _, err := ParseReference(map[string]string{"address": "0.0.0.0:80"}); err == nil || !strings.Contains(err.Error(), "missing name, backend, key, policy, type") {
		t.Errorf("plain config parsed as a reference: %v", err)
	}
	req, _ := ref.RequestFor("ENTITY", "HOST", strp("app"))
	// lib.rs:33-62, 126-141
	if got, _ := json.Marshal(req); string(got) != `{"key":"db-password","field":null,"version":"2","context":{"entity_jwt":"ENTITY","host_jwt":"HOST","application":{"name":"app","policy":"{\"type\":\"properties.secret.wasmcloud.dev/v1alpha1\",\"properties\":{\"tier\":\"prod\"}}"}}}` {
		t.Errorf("request:\n%s", got)
	}
	cases := []struct {
		v    any
		want string
	}{
		// lib.rs:145-159
		{Response{Secret: &Secret{Version: "3", StringSecret: strp("x")}}, `{"secret":{"version":"3","string_secret":"x","binary_secret":null}}`},
		{Response{Secret: &Secret{Version: "1", BinarySecret: []byte{0, 255}}}, `{"secret":{"version":"1","string_secret":null,"binary_secret":[0,255]}}`},
		// errors.rs:17-45, serde's external tagging
		{Response{Error: &ErrorCode{Kind: ErrSecretNotFound}}, `{"error":"SecretNotFound"}`},
		{Response{Error: &ErrorCode{Kind: ErrUpstream, Detail: "boom"}}, `{"error":{"UpstreamError":"boom"}}`},
		// secrets-nats-kv types.rs:5-20
		{PutSecretRequest{Key: "k", StringSecret: strp("v")}, `{"key":"k","version":"","string_secret":"v","binary_secret":null}`},
		{PutSecretResponse{Revision: 4}, `{"revision":4,"error":null}`},
		{PutSecretResponse{Error: strp("DecryptionError")}, `{"revision":0,"error":"DecryptionError"}`},
	}
	for _, tc := range cases {
		if got, _ := json.Marshal(tc.v); string(got) != tc.want {
			t.Errorf("%T:\n got %s\nwant %s", tc.v, got, tc.want)
		}
	}
	var r Response
	if err := json.Unmarshal([]byte(`{"error":{"InvalidEntityJWT":"expired"}}`), &r); err != nil || r.Error.Error() != "Invalid Entity JWT: expired" {
		t.Errorf("error decode: %+v %v", r.Error, err)
	}
}

// backend starts NATS, a NATS-KV backend and returns a client connection and the backend.
func backend(t testing.TB) (*nats.Conn, *NatsKV, string) {
	t.Helper()
	nc := testlattice.StartNATS(t).Connect(t)
	transit, _ := nkeys.CreateCurveKeys()
	enc, _ := nkeys.CreateCurveKeys()
	ts, _ := transit.Seed()
	es, _ := enc.Seed()
	s, err := StartNatsKV(context.Background(), nc, NatsKVConfig{TransitSeed: string(ts), EncryptionSeed: string(es)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return nc, s, string(es)
}

// signedEntity is a component token signed by a fresh account, and a host token.
func signedEntity(t testing.TB) (entityJWT, subject, hostJWT string) {
	t.Helper()
	issuer, _ := wascap.NewKey(wascap.KindAccount)
	module, _ := wascap.NewKey(wascap.KindModule)
	c := wascap.NewClaims(issuer.Public(), module.Public(), &wascap.Component{Name: "c"})
	jwt, err := wascap.Encode(&c, issuer)
	if err != nil {
		t.Fatal(err)
	}
	host, err := wascap.SelfSignedHostToken("NHOST", "quiet-river-0042")
	if err != nil {
		t.Fatal(err)
	}
	return jwt, module.Public(), host.JWT
}

// TestNatsKVBackend drives the backend through its subjects as a host and upstream's CLI do.
func TestNatsKVBackend(t *testing.T) {
	nc, srv, encSeed := backend(t)
	ctx := context.Background()
	kv := NatsKVClient{NC: nc}
	entity, sub, host := signedEntity(t)
	client := NewClient(nc, DefaultTopic)

	// server_xkey answers the transit public key as plain text (api.rs:371-377).
	msg, err := nc.Request("wasmcloud.secrets.v1alpha1.nats-kv.server_xkey", nil, 2*time.Second)
	if err != nil || string(msg.Data) != srv.TransitPublicKey() {
		t.Fatalf("server_xkey: %q %v", msg.Data, err)
	}
	rev1, err := kv.PutSecret(ctx, "", PutSecretRequest{Key: "db-password", StringSecret: strp("hunter2")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.PutSecret(ctx, srv.TransitPublicKey(), PutSecretRequest{Key: "db-password", StringSecret: strp("hunter3")}); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.PutSecret(ctx, "", PutSecretRequest{Key: "blob", BinarySecret: []byte{0xff, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	// At rest the value is sealed with the encryption key, not plain.
	js, _ := jetstream.New(nc)
	bucket, _ := js.KeyValue(ctx, NatsKVBucket)
	e, _ := bucket.Get(ctx, "db-password")
	if strings.Contains(string(e.Value()), "hunter") || !strings.HasPrefix(string(e.Value()), "xkv1") {
		t.Fatalf("stored value is not sealed: %q", e.Value())
	}

	req := Request{Key: "db-password", Context: Context{EntityJWT: entity, HostJWT: host}}
	if _, err := client.Get(ctx, "nats-kv", req); err == nil || err.Error() != "Error fetching secret: unauthorized" {
		t.Fatalf("get without a mapping: %v", err)
	}
	if err := kv.AddMapping(ctx, sub, []string{"db-password", "blob"}); err != nil {
		t.Fatal(err)
	}
	s, err := client.Get(ctx, "nats-kv", req)
	if err != nil || s.StringSecret == nil || *s.StringSecret != "hunter3" {
		t.Fatalf("get: %+v %v", s, err)
	}
	v := strconvU(rev1)
	old, err := client.Get(ctx, "nats-kv", Request{Key: "db-password", Version: &v, Context: req.Context})
	if err != nil || *old.StringSecret != "hunter2" || old.Version != v {
		t.Fatalf("get version %s: %+v %v", v, old, err)
	}
	b, err := client.Get(ctx, "nats-kv", Request{Key: "blob", Context: req.Context})
	if err != nil || string(b.BinarySecret) != "\xff\x00\x01" {
		t.Fatalf("binary get: %+v %v", b, err)
	}
	if _, err := client.Get(ctx, "nats-kv", Request{Key: "db-password", Context: Context{EntityJWT: entity, HostJWT: "garbage"}}); err == nil || !strings.HasPrefix(err.Error(), "Invalid Host JWT") {
		t.Fatalf("bad host token: %v", err)
	}
	if _, err := client.Get(ctx, "nats-kv", Request{Key: "db-password", Context: Context{EntityJWT: entity[:len(entity)-3] + "AAA", HostJWT: host}}); err == nil || !strings.HasPrefix(err.Error(), "Invalid Entity JWT") {
		t.Fatalf("tampered entity token: %v", err)
	}
	if err := kv.AddMapping(ctx, sub, []string{"missing"}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get(ctx, "nats-kv", Request{Key: "missing", Context: req.Context}); err == nil || err.Error() != "Secret not found" {
		t.Fatalf("missing secret: %v", err)
	}
	if err := kv.RemoveMapping(ctx, sub, []string{"db-password"}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Get(ctx, "nats-kv", req); err == nil || err.Error() != "Error fetching secret: unauthorized" {
		t.Fatalf("get after remove_mapping: %v", err)
	}
	// Reading the bucket directly needs the encryption key, as upstream's `get`.
	st, err := ReadStored(ctx, js, "", encSeed, "db-password", nil)
	if err != nil || *st.StringSecret != "hunter3" {
		t.Fatalf("read stored: %+v %v", st, err)
	}
	other, _ := nkeys.CreateCurveKeys()
	os, _ := other.Seed()
	if _, err := ReadStored(ctx, js, "", string(os), "db-password", nil); err == nil || !strings.Contains(err.Error(), "encryption key") {
		t.Fatalf("wrong encryption key: %v", err)
	}

	// Malformed requests get upstream's error replies.
	raw := func(subject string, m *nats.Msg) string {
		m.Subject = subject
		r, err := nc.RequestMsg(m, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return string(r.Data)
	}
	get := "wasmcloud.secrets.v1alpha1.nats-kv.get"
	if got := raw(get, &nats.Msg{}); got != `{"error":"InvalidPayload"}` {
		t.Errorf("empty get: %s", got)
	}
	if got := raw(get, &nats.Msg{Data: []byte("x")}); got != `{"error":"InvalidHeaders"}` {
		t.Errorf("get without headers: %s", got)
	}
	hm := nats.NewMsg("")
	hm.Header.Set(HostXKeyHeader, "not-a-key")
	hm.Data = []byte("x")
	if got := raw(get, hm); got != `{"error":"InvalidXKey"}` {
		t.Errorf("get with a bad key: %s", got)
	}
	kp, _ := nkeys.CreateCurveKeys()
	pub, _ := kp.PublicKey()
	hm = nats.NewMsg("")
	hm.Header.Set(HostXKeyHeader, pub)
	hm.Data = []byte("not sealed")
	if got := raw(get, hm); got != `{"error":"DecryptionError"}` {
		t.Errorf("unsealed get: %s", got)
	}
	if got := raw("wasmcloud.secrets.v1alpha1.nats-kv.frobnicate", &nats.Msg{}); got != "unknown operation frobnicate" {
		t.Errorf("unknown op: %s", got)
	}
	if got := raw("wasmcloud.secrets.v1alpha1.nats-kv.add_mapping", &nats.Msg{Data: []byte(`["x"]`)}); got != "no entity provided" {
		t.Errorf("mapping without entity: %s", got)
	}
}

func strconvU(n uint64) string { b, _ := json.Marshal(n); return string(b) }

func FuzzErrorCode(f *testing.F) {
	f.Add([]byte(`"SecretNotFound"`))
	f.Add([]byte(`{"UpstreamError":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e ErrorCode
		if json.Unmarshal(b, &e) == nil {
			_ = e.Error()
			if _, err := json.Marshal(e); err != nil {
				t.Fatal(err)
			}
		}
	})
}
