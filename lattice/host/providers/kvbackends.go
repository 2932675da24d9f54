package providers

import (
	"context"
	"errors"
	"fmt"
	"net"
	neturl "net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/lattice/buckets"
	"github.com/wasmlattice/wash/provider/keyvalue"
)

// listPage is how many keys one list-keys call returns.
const listPage = keyvalue.ListPage

// MemoryKV keeps buckets in process memory (keyvalue-inmemory); it is the SDK's Memory, so a
// native provider built with the SDK stores exactly the same way.
type MemoryKV = keyvalue.Memory

// NewMemoryKV returns an empty in-memory store.
func NewMemoryKV() *MemoryKV { return keyvalue.NewMemory() }

func page(keys []string, cursor uint64) ([]string, *uint64, error) {
	return keyvalue.Page(keys, cursor)
}

func parseCounter(v []byte, key string) (uint64, error) { return keyvalue.ParseCounter(v, key) }

// RedisKV is a keyvalue backend on one Redis server (keyvalue-redis). Keys are stored as they
// are named (no bucket prefix), so redis-cli sees what components write. It uses redigo, a
// small client: go-redis's typed API for every Redis command made the wash binary 11 MB larger,
// which every idle lattice process paid for in resident pages.
type RedisKV struct {
	pool *redis.Pool
	addr string
}

// NewRedisKV parses a redis:// or rediss:// URL (redis://[user:password@]host[:port][/db]). It
// does not connect: a server that is down fails each call with a clear error instead of the
// link.
func NewRedisKV(url string) (*RedisKV, error) {
	u, err := neturl.Parse(url)
	if err == nil && u.Scheme != "redis" && u.Scheme != "rediss" {
		err = fmt.Errorf("scheme %q is not redis or rediss", u.Scheme)
	}
	if db := strings.Trim(u.Path, "/"); err == nil && db != "" {
		if _, e := strconv.Atoi(db); e != nil {
			err = fmt.Errorf("database %q is not a number", db)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("invalid Redis URL %q: %w (expected redis://host:port[/db])", url, err)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "localhost"
	}
	if port == "" {
		port = "6379"
	}
	r := &RedisKV{addr: net.JoinHostPort(host, port)}
	r.pool = &redis.Pool{
		MaxIdle:     4,
		IdleTimeout: 5 * time.Minute,
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			return redis.DialURLContext(ctx, url, redis.DialConnectTimeout(2*time.Second),
				redis.DialReadTimeout(3*time.Second), redis.DialWriteTimeout(3*time.Second))
		},
	}
	return r, nil
}

// Close releases the connection pool.
func (r *RedisKV) Close() error { return r.pool.Close() }

// do runs one command on a pooled connection.
func (r *RedisKV) do(ctx context.Context, cmd string, args ...any) (any, error) {
	c, err := r.pool.GetContext(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return redis.DoContext(c, ctx, cmd, args...)
}

func (r *RedisKV) wrap(op string, err error) error {
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) {
		return &KVError{Case: keyvalue.CaseOther, Msg: fmt.Sprintf("keyvalue-redis: %s: cannot reach Redis at %s: %v", op, r.addr, err)}
	}
	return &KVError{Case: keyvalue.CaseOther, Msg: fmt.Sprintf("keyvalue-redis: %s on %s: %v", op, r.addr, err)}
}

// Get implements KVStore.
func (r *RedisKV) Get(ctx context.Context, _, key string) ([]byte, bool, error) {
	v, err := redis.Bytes(r.do(ctx, "GET", key))
	if errors.Is(err, redis.ErrNil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, r.wrap("GET", err)
	}
	return v, true, nil
}

// Set implements KVStore.
func (r *RedisKV) Set(ctx context.Context, _, key string, value []byte) error {
	if _, err := r.do(ctx, "SET", key, value); err != nil {
		return r.wrap("SET", err)
	}
	return nil
}

// Delete implements KVStore.
func (r *RedisKV) Delete(ctx context.Context, _, key string) error {
	if _, err := r.do(ctx, "DEL", key); err != nil {
		return r.wrap("DEL", err)
	}
	return nil
}

// Exists implements KVStore.
func (r *RedisKV) Exists(ctx context.Context, _, key string) (bool, error) {
	n, err := redis.Int64(r.do(ctx, "EXISTS", key))
	if err != nil {
		return false, r.wrap("EXISTS", err)
	}
	return n > 0, nil
}

// ListKeys implements KVStore with SCAN; the cursor is Redis's.
func (r *RedisKV) ListKeys(ctx context.Context, _ string, cursor uint64) ([]string, *uint64, error) {
	reply, err := redis.Values(r.do(ctx, "SCAN", cursor, "MATCH", "*", "COUNT", listPage))
	var next uint64
	var keys []string
	if err == nil && len(reply) != 2 {
		err = fmt.Errorf("SCAN answered %d values, not 2", len(reply))
	}
	if err == nil {
		next, err = redis.Uint64(reply[0], nil)
	}
	if err == nil {
		keys, err = redis.Strings(reply[1], nil)
	}
	if err != nil {
		return nil, nil, r.wrap("SCAN", err)
	}
	if keys == nil {
		keys = []string{}
	}
	if next == 0 {
		return keys, nil, nil
	}
	return keys, &next, nil
}

// Increment implements KVStore with INCRBY (atomic on the server).
func (r *RedisKV) Increment(ctx context.Context, _, key string, delta uint64) (uint64, error) {
	n, err := redis.Int64(r.do(ctx, "INCRBY", key, int64(delta)))
	if err != nil {
		return 0, r.wrap("INCRBY", err)
	}
	return uint64(n), nil
}

// NATSKV is a keyvalue backend on JetStream KV (keyvalue-nats). The bucket comes from the
// link config ("bucket"), else from the identifier passed to store.open; a missing bucket is
// created.
type NATSKV struct {
	js    jetstream.JetStream
	nc    *nats.Conn
	owned bool // nc was dialed for this link and is closed with it

	mu      sync.Mutex
	buckets map[string]jetstream.KeyValue
}

// NewNATSKV uses nc (not owned).
func NewNATSKV(nc *nats.Conn, domain string) (*NATSKV, error) {
	js, err := buckets.JetStream(nc, domain)
	if err != nil {
		return nil, fmt.Errorf("keyvalue-nats: JetStream: %w", err)
	}
	return &NATSKV{js: js, nc: nc, buckets: map[string]jetstream.KeyValue{}}, nil
}

// DialNATSKV connects to url for a link whose config names its own cluster.
func DialNATSKV(url, domain string) (*NATSKV, error) {
	nc, err := nats.Connect(url, nats.Name("wash keyvalue-nats"), nats.Timeout(2*time.Second))
	if err != nil {
		return nil, fmt.Errorf("keyvalue-nats: connecting to %s: %w", url, err)
	}
	kv, err := NewNATSKV(nc, domain)
	if err != nil {
		nc.Close()
		return nil, err
	}
	kv.owned = true
	return kv, nil
}

// Close closes a connection this backend dialed.
func (n *NATSKV) Close() error {
	if n.owned {
		n.nc.Close()
	}
	return nil
}

func (n *NATSKV) kv(ctx context.Context, bucket string) (jetstream.KeyValue, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if kv, ok := n.buckets[bucket]; ok {
		return kv, nil
	}
	if !jetstreamNameOK(bucket) {
		return nil, &KVError{Case: keyvalue.CaseOther, Msg: fmt.Sprintf("keyvalue-nats: invalid bucket name %q: use letters, digits, '-' and '_'", bucket)}
	}
	kv, err := n.js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = n.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, History: 1})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = n.js.KeyValue(ctx, bucket)
		}
	}
	if err != nil {
		return nil, &KVError{Case: keyvalue.CaseOther, Msg: fmt.Sprintf("keyvalue-nats: opening bucket %s: %v", bucket, err)}
	}
	n.buckets[bucket] = kv
	return kv, nil
}

func jetstreamNameOK(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func natsErr(op, key string, err error) error {
	if errors.Is(err, jetstream.ErrInvalidKey) {
		return &KVError{Case: keyvalue.CaseOther, Msg: fmt.Sprintf("keyvalue-nats: invalid key %q: NATS KV keys use letters, digits and -_/=.", key)}
	}
	return &KVError{Case: keyvalue.CaseOther, Msg: fmt.Sprintf("keyvalue-nats: %s %q: %v", op, key, err)}
}

// Get implements KVStore.
func (n *NATSKV) Get(ctx context.Context, bucket, key string) ([]byte, bool, error) {
	kv, err := n.kv(ctx, bucket)
	if err != nil {
		return nil, false, err
	}
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, natsErr("get", key, err)
	}
	return e.Value(), true, nil
}

// Set implements KVStore.
func (n *NATSKV) Set(ctx context.Context, bucket, key string, value []byte) error {
	kv, err := n.kv(ctx, bucket)
	if err != nil {
		return err
	}
	if _, err := kv.Put(ctx, key, value); err != nil {
		return natsErr("put", key, err)
	}
	return nil
}

// Delete implements KVStore.
func (n *NATSKV) Delete(ctx context.Context, bucket, key string) error {
	kv, err := n.kv(ctx, bucket)
	if err != nil {
		return err
	}
	if err := kv.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return natsErr("delete", key, err)
	}
	return nil
}

// Exists implements KVStore.
func (n *NATSKV) Exists(ctx context.Context, bucket, key string) (bool, error) {
	_, ok, err := n.Get(ctx, bucket, key)
	return ok, err
}

// ListKeys implements KVStore; the cursor is an offset into the sorted keys.
func (n *NATSKV) ListKeys(ctx context.Context, bucket string, cursor uint64) ([]string, *uint64, error) {
	kv, err := n.kv(ctx, bucket)
	if err != nil {
		return nil, nil, err
	}
	keys, err := kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return []string{}, nil, nil
	}
	if err != nil {
		return nil, nil, &KVError{Case: keyvalue.CaseOther, Msg: fmt.Sprintf("keyvalue-nats: listing keys of %s: %v", bucket, err)}
	}
	slices.Sort(keys)
	return page(keys, cursor)
}

// Increment implements KVStore with compare-and-set on the key's revision, retried on
// conflict, so concurrent increments from any number of hosts add up.
func (n *NATSKV) Increment(ctx context.Context, bucket, key string, delta uint64) (uint64, error) {
	kv, err := n.kv(ctx, bucket)
	if err != nil {
		return 0, err
	}
	for attempt := 0; ; attempt++ {
		var cur uint64
		var rev uint64
		e, err := kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return 0, natsErr("get", key, err)
		default:
			rev = e.Revision()
			if cur, err = parseCounter(e.Value(), key); err != nil {
				return 0, err
			}
		}
		next := cur + delta
		val := strconv.AppendUint(nil, next, 10)
		if rev == 0 {
			_, err = kv.Create(ctx, key, val)
		} else {
			_, err = kv.Update(ctx, key, val, rev)
		}
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSequence(err) {
			return 0, natsErr("update", key, err)
		}
		if ctx.Err() != nil {
			return 0, natsErr("update", key, ctx.Err())
		}
		if attempt > 4 {
			time.Sleep(time.Duration(attempt) * 100 * time.Microsecond)
		}
	}
}

// isWrongSequence reports a lost compare-and-set race (JetStream error 10071).
func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}
