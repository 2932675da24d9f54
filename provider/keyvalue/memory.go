package keyvalue

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
)

// ListPage is how many keys one list-keys call returns.
const ListPage = 1000

// Memory is a Store in process memory; buckets are the identifiers components passed to
// store.open. Counters are kept as decimal text, as Redis INCRBY keeps them.
type Memory struct {
	mu      sync.Mutex
	buckets map[string]map[string][]byte
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{buckets: map[string]map[string][]byte{}} }

func (m *Memory) bucket(name string) map[string][]byte {
	b, ok := m.buckets[name]
	if !ok {
		b = map[string][]byte{}
		m.buckets[name] = b
	}
	return b
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, bucket, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.bucket(bucket)[key]
	return slices.Clone(v), ok, nil
}

// Set implements Store.
func (m *Memory) Set(_ context.Context, bucket, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.bucket(bucket)[key] = slices.Clone(value)
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(_ context.Context, bucket, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.bucket(bucket), key)
	return nil
}

// Exists implements Store.
func (m *Memory) Exists(_ context.Context, bucket, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.bucket(bucket)[key]
	return ok, nil
}

// ListKeys implements Store; the cursor is an offset into the sorted keys.
func (m *Memory) ListKeys(_ context.Context, bucket string, cursor uint64) ([]string, *uint64, error) {
	m.mu.Lock()
	keys := make([]string, 0, len(m.bucket(bucket)))
	for k := range m.bucket(bucket) {
		keys = append(keys, k)
	}
	m.mu.Unlock()
	slices.Sort(keys)
	return Page(keys, cursor)
}

// Page cuts one list-keys page from sorted keys (cursor is an offset).
func Page(keys []string, cursor uint64) ([]string, *uint64, error) {
	if cursor >= uint64(len(keys)) {
		return []string{}, nil, nil
	}
	end := cursor + ListPage
	if end >= uint64(len(keys)) {
		return keys[cursor:], nil, nil
	}
	return keys[cursor:end], &end, nil
}

// Increment implements Store. Values are decimal text, as Redis INCRBY keeps them.
func (m *Memory) Increment(_ context.Context, bucket, key string, delta uint64) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.bucket(bucket)
	n, err := ParseCounter(b[key], key)
	if err != nil {
		return 0, err
	}
	n += delta
	b[key] = strconv.AppendUint(nil, n, 10)
	return n, nil
}

// ParseCounter reads a counter value kept as decimal text (a missing value is 0).
func ParseCounter(v []byte, key string) (uint64, error) {
	if len(v) == 0 {
		return 0, nil
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, &Error{Case: CaseOther, Msg: fmt.Sprintf("cannot increment %q: its value is not an unsigned decimal number", key)}
	}
	return n, nil
}
