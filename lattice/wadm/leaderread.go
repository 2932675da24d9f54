package wadm

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// leaderReadKV is a KV bucket whose Get asks the leader of the bucket's
// stream. nats.go reads a bucket created with AllowDirect (its default, and
// an operator's bucket has it too) through direct gets, which any replica
// answers, also one that has not applied the latest write yet: a deploy was
// answered "Application ... not found" for an app another wadm process had
// stored a moment before (CI's TestClusterFailover; the same read made again
// at once found it). wadm decides on what it reads and writes back with
// compare-and-set, so it reads what the leader has.
type leaderReadKV struct {
	jetstream.KeyValue
	js     nats.JetStreamContext
	stream string // KV_<bucket>
	prefix string // $KV.<bucket>.
}

// leaderReads returns kv with its Get going to the stream leader; a bucket
// that mirrors another is returned as it is (its reads are local by design).
func leaderReads(ctx context.Context, nc *nats.Conn, domain string, kv jetstream.KeyValue) (jetstream.KeyValue, error) {
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, err
	}
	if s, ok := st.(*jetstream.KeyValueBucketStatus); ok && s.StreamInfo().Config.Mirror != nil {
		return kv, nil
	}
	var opts []nats.JSOpt
	if domain != "" {
		opts = append(opts, nats.Domain(domain))
	}
	js, err := nc.JetStream(opts...)
	if err != nil {
		return nil, err
	}
	return leaderReadKV{KeyValue: kv, js: js, stream: "KV_" + kv.Bucket(), prefix: "$KV." + kv.Bucket() + "."}, nil
}

// Get returns the latest entry of key as the stream leader has it; a deleted
// or purged key is not found, as with jetstream.KeyValue.Get.
func (k leaderReadKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	m, err := k.js.GetLastMsg(k.stream, k.prefix+key, nats.Context(ctx))
	if errors.Is(err, nats.ErrMsgNotFound) {
		return nil, jetstream.ErrKeyNotFound
	}
	if err != nil {
		return nil, err
	}
	if op := m.Header.Get("KV-Operation"); op == "DEL" || op == "PURGE" {
		return nil, jetstream.ErrKeyNotFound
	}
	return leaderEntry{bucket: k.Bucket(), key: key, msg: m}, nil
}

// leaderEntry is a KV entry read from the stream leader.
type leaderEntry struct {
	bucket, key string
	msg         *nats.RawStreamMsg
}

func (e leaderEntry) Bucket() string                  { return e.bucket }
func (e leaderEntry) Key() string                     { return e.key }
func (e leaderEntry) Value() []byte                   { return e.msg.Data }
func (e leaderEntry) Revision() uint64                { return e.msg.Sequence }
func (e leaderEntry) Created() time.Time              { return e.msg.Time }
func (e leaderEntry) Delta() uint64                   { return 0 }
func (e leaderEntry) Operation() jetstream.KeyValueOp { return jetstream.KeyValuePut }
