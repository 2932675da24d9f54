package wadm

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/internal/testnats"
)

// TestJSTimedOut pins which JetStream setup failures wadm tries again at start (see
// setUpJetStream): no answer in time, or a cluster without a leader yet; not a server
// without JetStream or a refused request, which a retry cannot mend.
func TestJSTimedOut(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("opening stream wasmbus_events: %w", context.DeadlineExceeded), true},
		{fmt.Errorf("creating KV bucket wadm_state: %w", nats.ErrTimeout), true},
		{fmt.Errorf("creating stream wadm_events: %w", &jetstream.APIError{Code: 503, ErrorCode: jsErrCodeClusterNotAvailable}), true},
		{fmt.Errorf("opening KV bucket wadm_manifests: %w", jetstream.ErrJetStreamNotEnabled), false},
		{fmt.Errorf("creating stream wadm_events: %w", &jetstream.APIError{Code: 400, ErrorCode: jetstream.JSErrCodeBadRequest}), false},
		{context.Canceled, false},
	} {
		if got := jsTimedOut(c.err); got != c.want {
			t.Errorf("jsTimedOut(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestLeaderReadKV: the buckets wadm reads through their stream leader answer like
// jetstream.KeyValue.Get: the latest value and revision, and not found for a missing,
// deleted or purged key.
func TestLeaderReadKV(t *testing.T) {
	_, nc := testnats.Connected(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	plain, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "leaderread"})
	if err != nil {
		t.Fatal(err)
	}
	kv, err := leaderReads(ctx, nc, "", plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := kv.(leaderReadKV); !ok {
		t.Fatalf("leaderReads returned %T", kv)
	}
	if _, err := kv.Get(ctx, "a"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	if _, err := kv.Put(ctx, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	rev, err := kv.Put(ctx, "a", []byte("2"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "a")
	if err != nil || string(e.Value()) != "2" || e.Revision() != rev || e.Key() != "a" || e.Bucket() != "leaderread" {
		t.Fatalf("Get = %v, %v; want value 2 at revision %d", e, err, rev)
	}
	if _, err := kv.Update(ctx, "a", []byte("3"), e.Revision()); err != nil {
		t.Fatalf("update at the revision read: %v", err)
	}
	for _, remove := range []func() error{
		func() error { return kv.Delete(ctx, "a") },
		func() error { return kv.Purge(ctx, "a") },
	} {
		if _, err := kv.Put(ctx, "a", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := remove(); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Get(ctx, "a"); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Fatalf("removed key: %v", err)
		}
	}
}
