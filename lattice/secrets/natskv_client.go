package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"
)

// NatsKVClient manages secrets in a running NATS-KV backend, as upstream's secrets-nats-kv CLI
// does (crates/secrets-nats-kv/src/client.rs).
type NatsKVClient struct {
	NC      *nats.Conn
	Topic   string // default wasmcloud.secrets
	Backend string // default nats-kv
}

func (c NatsKVClient) names() (topic, backend string) {
	topic, backend = c.Topic, c.Backend
	if topic == "" {
		topic = DefaultTopic
	}
	if backend == "" {
		backend = NatsKVName
	}
	return topic, backend
}

func (c NatsKVClient) request(ctx context.Context, op string, m *nats.Msg) (*nats.Msg, error) {
	topic, backend := c.names()
	m.Subject = Subject(topic, backend, op)
	reply, err := c.NC.RequestMsgWithContext(ctx, m)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, fmt.Errorf("no secrets backend %q answers on %s: start one (wash secrets nats-kv run, or wash up --secrets-nats-kv)", backend, m.Subject)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Subject, err)
	}
	return reply, nil
}

// PutSecret stores a secret. transitKey is the backend's transit xkey (a public key or the
// seed); empty asks the backend for it.
func (c NatsKVClient) PutSecret(ctx context.Context, transitKey string, req PutSecretRequest) (uint64, error) {
	if req.StringSecret != nil && req.BinarySecret != nil {
		return 0, errors.New("secret cannot have both binary and string values")
	}
	server, err := c.transitPublic(ctx, transitKey)
	if err != nil {
		return 0, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	kp, err := nkeys.CreateCurveKeys()
	if err != nil {
		return 0, err
	}
	pub, _ := kp.PublicKey()
	sealed, err := kp.Seal(body, server)
	if err != nil {
		return 0, fmt.Errorf("sealing the secret: %w", err)
	}
	m := nats.NewMsg("")
	m.Header.Set(HostXKeyHeader, pub)
	m.Data = sealed
	reply, err := c.request(ctx, "put_secret", m)
	if err != nil {
		return 0, err
	}
	var resp PutSecretResponse
	if err := json.Unmarshal(reply.Data, &resp); err != nil {
		return 0, fmt.Errorf("secrets backend: %s", truncate(string(reply.Data)))
	}
	if resp.Error != nil {
		if *resp.Error == ErrDecryption {
			return 0, errors.New("the backend could not decrypt the secret: the transit xkey is not the one the backend runs with")
		}
		return 0, fmt.Errorf("secrets backend refused the secret: %s", *resp.Error)
	}
	return resp.Revision, nil
}

func (c NatsKVClient) transitPublic(ctx context.Context, key string) (string, error) {
	key = strings.TrimSpace(key)
	switch {
	case key == "":
		topic, backend := c.names()
		return NewClient(c.NC, topic).ServerXKey(ctx, backend)
	case nkeys.IsValidPublicCurveKey(key):
		return key, nil
	}
	kp, err := nkeys.FromCurveSeed([]byte(key))
	if err != nil {
		return "", fmt.Errorf("transit xkey: %w (expected an xkey seed SX… or public key X…)", err)
	}
	return kp.PublicKey()
}

// AddMapping lets the entity with public key entity (a component M… or provider V…) read the
// named secrets; RemoveMapping takes that back.
func (c NatsKVClient) AddMapping(ctx context.Context, entity string, secrets []string) error {
	return c.mapping(ctx, "add_mapping", entity, secrets)
}

// RemoveMapping revokes access to the named secrets.
func (c NatsKVClient) RemoveMapping(ctx context.Context, entity string, secrets []string) error {
	return c.mapping(ctx, "remove_mapping", entity, secrets)
}

func (c NatsKVClient) mapping(ctx context.Context, op, entity string, secrets []string) error {
	if entity == "" || strings.ContainsAny(entity, ". *>") {
		return fmt.Errorf("invalid public key %q: give the component's (M…) or provider's (V…) key", entity)
	}
	if len(secrets) == 0 {
		return errors.New("name at least one secret")
	}
	body, _ := json.Marshal(secrets)
	m := nats.NewMsg("")
	m.Data = body
	reply, err := c.request(ctx, op+"."+entity, m)
	if err != nil {
		return err
	}
	if string(reply.Data) != "ok" {
		return fmt.Errorf("secrets backend: %s", truncate(string(reply.Data)))
	}
	return nil
}

// ReadStored reads a secret straight from the backend's bucket and decrypts it with the
// encryption key: no authorisation, holding the key is the trust (upstream client.rs:80-137).
func ReadStored(ctx context.Context, js jetstream.JetStream, bucket, encryptionSeed, key string, version *string) (*Secret, error) {
	enc, err := nkeys.FromCurveSeed([]byte(strings.TrimSpace(encryptionSeed)))
	if err != nil {
		return nil, fmt.Errorf("encryption xkey: %w (expected an xkey seed SX…)", err)
	}
	if bucket == "" {
		bucket = NatsKVBucket
	}
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("secrets bucket %s: %w", bucket, err)
	}
	var entry jetstream.KeyValueEntry
	if version != nil {
		rev, perr := strconv.ParseUint(*version, 10, 64)
		if perr != nil {
			return nil, errors.New("invalid version format - must be a positive integer")
		}
		entry, err = kv.GetRevision(ctx, key, rev)
	} else {
		entry, err = kv.Get(ctx, key)
	}
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("secret %q not found in bucket %s", key, bucket)
	}
	if err != nil {
		return nil, err
	}
	s := &NatsKV{encryption: enc}
	s.encPub, _ = enc.PublicKey()
	sec, ec := s.decrypt(entry)
	if ec != nil {
		return nil, errors.New("failed to decrypt secret: ensure the encryption key is correct")
	}
	return sec, nil
}
