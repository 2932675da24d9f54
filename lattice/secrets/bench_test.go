package secrets_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	. "github.com/wasmlattice/wash/lattice/secrets"
)

// BenchmarkGetSecret is one host fetch of a secret from the NATS-KV backend: seal, request,
// authorise, KV read, decrypt, seal back, open. BenchmarkPlainRequest is the baseline: one NATS
// request/reply on the same server. Compare them as a ratio.
func BenchmarkGetSecret(b *testing.B) {
	nc, _, _ := backend(b)
	ctx := context.Background()
	kv := NatsKVClient{NC: nc}
	entity, sub, host := signedEntity(b)
	if _, err := kv.PutSecret(ctx, "", PutSecretRequest{Key: "k", StringSecret: strp("v")}); err != nil {
		b.Fatal(err)
	}
	if err := kv.AddMapping(ctx, sub, []string{"k"}); err != nil {
		b.Fatal(err)
	}
	c := NewClient(nc, DefaultTopic)
	req := Request{Key: "k", Context: Context{EntityJWT: entity, HostJWT: host}}
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Get(ctx, "nats-kv", req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlainRequest(b *testing.B) {
	nc, _, _ := backend(b)
	if _, err := nc.Subscribe("bench.echo", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := nc.Request("bench.echo", []byte("x"), 2*time.Second); err != nil {
			b.Fatal(err)
		}
	}
}
