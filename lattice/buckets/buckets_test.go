package buckets_test

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/lattice/buckets"
)

func TestOpenOrCreateKV(t *testing.T) {
	_, nc := testnats.Connected(t)
	js, _ := jetstream.New(nc)
	ctx := t.Context()

	// Missing: created, with the replica count a single server can place.
	kv, err := buckets.OpenOrCreateKV(ctx, js, "LATTICEDATA_x")
	if err != nil {
		t.Fatal(err)
	}
	st, _ := kv.Status(ctx)
	if st.History() != 1 || st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas != 1 {
		t.Fatalf("created bucket: history %d, replicas %d", st.History(), st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas)
	}

	// Existing: used as the operator made it, never recreated or changed.
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "CONFIGDATA_x", History: 5, Description: "ops"}); err != nil {
		t.Fatal(err)
	}
	kv, err = buckets.OpenOrCreateKV(ctx, js, "CONFIGDATA_x")
	if err != nil {
		t.Fatal(err)
	}
	st, _ = kv.Status(ctx)
	if st.History() != 5 {
		t.Fatalf("existing bucket changed: history %d", st.History())
	}
}
