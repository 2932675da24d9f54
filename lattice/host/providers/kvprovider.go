package providers

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
)

// Built-in keyvalue provider names (image wasmcloud+builtin://<name>).
const (
	KeyValueInMemory = "keyvalue-inmemory"
	KeyValueNATS     = "keyvalue-nats"
	KeyValueRedis    = "keyvalue-redis"
)

// DefaultRedisURL is used when a link to keyvalue-redis names no url (upstream's default).
const DefaultRedisURL = "redis://127.0.0.1:6379"

// KeyValueOpener is a provider serving wasi:keyvalue: it maps store.open(identifier) through
// link to a backend and the bucket name the backend uses.
type KeyValueOpener interface {
	Open(ctx context.Context, link InterfaceLinkDefinition, identifier string) (KVStore, string, error)
}

// KeyValueProvider is a built-in wasi:keyvalue provider. Each link that targets it is served
// with that link's target config: keyvalue-redis reads "url", keyvalue-nats reads "bucket"
// (else the identifier given to store.open) and optionally "cluster_uri" (else the host's
// own NATS connection). Backends are shared by links with the same settings.
type KeyValueProvider struct {
	configPerCall // a link's config is read on each call (Open)
	kind          string
	nc            *nats.Conn
	jsDomain      string
	mem           *MemoryKV

	mu     sync.Mutex
	stores map[string]KVStore
}

// NewKeyValueProvider starts a built-in keyvalue provider of kind (one of the KeyValue*
// names). nc and jsDomain serve keyvalue-nats links without a cluster_uri.
func NewKeyValueProvider(kind string, nc *nats.Conn, jsDomain string) (*KeyValueProvider, error) {
	p := &KeyValueProvider{kind: kind, nc: nc, jsDomain: jsDomain, stores: map[string]KVStore{}}
	switch kind {
	case KeyValueInMemory:
		p.mem = NewMemoryKV()
	case KeyValueNATS, KeyValueRedis:
	default:
		return nil, fmt.Errorf("unknown keyvalue provider %q", kind)
	}
	return p, nil
}

// Kind is the builtin name.
func (p *KeyValueProvider) Kind() string { return p.kind }

// Open returns the backend and bucket for store.open(identifier) through link.
func (p *KeyValueProvider) Open(_ context.Context, link InterfaceLinkDefinition, identifier string) (KVStore, string, error) {
	cfg := link.TargetConfig
	switch p.kind {
	case KeyValueInMemory:
		return p.mem, identifier, nil
	case KeyValueRedis:
		url := configValue(cfg, "url")
		if url == "" {
			url = DefaultRedisURL
		}
		s, err := p.store("redis|"+url, func() (KVStore, error) { return NewRedisKV(url) })
		if err != nil {
			return nil, "", &KVError{Case: kvCaseOther, Msg: err.Error()}
		}
		return s, identifier, nil
	default: // KeyValueNATS
		bucket := configValue(cfg, "bucket")
		if bucket == "" {
			bucket = identifier
		}
		uri := configValue(cfg, "cluster_uri")
		domain := configValue(cfg, "js_domain")
		if domain == "" && uri == "" {
			domain = p.jsDomain
		}
		s, err := p.store("nats|"+uri+"|"+domain, func() (KVStore, error) {
			if uri != "" {
				return DialNATSKV(uri, domain)
			}
			if p.nc == nil {
				return nil, fmt.Errorf("keyvalue-nats: the link names no cluster_uri and the host gave no NATS connection")
			}
			return NewNATSKV(p.nc, domain)
		})
		if err != nil {
			return nil, "", &KVError{Case: kvCaseOther, Msg: err.Error()}
		}
		return s, bucket, nil
	}
}

func (p *KeyValueProvider) store(key string, mk func() (KVStore, error)) (KVStore, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.stores[key]; ok {
		return s, nil
	}
	s, err := mk()
	if err != nil {
		return nil, err
	}
	p.stores[key] = s
	return s, nil
}

// Stop closes every backend connection the provider opened.
func (p *KeyValueProvider) Stop(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, s := range p.stores {
		if c, ok := s.(interface{ Close() error }); ok {
			_ = c.Close()
		}
		delete(p.stores, k)
	}
	return nil
}
