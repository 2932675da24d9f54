package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/wasmlattice/wash/wascap"
)

// Defaults of the NATS-KV backend (upstream crates/secrets-nats-kv/src/main.rs:46-70).
const (
	NatsKVName       = "nats-kv"
	NatsKVBucket     = "WASMCLOUD_SECRETS"
	NatsKVQueueBase  = "wasmcloud_secrets"
	NatsKVMaxHistory = 64
)

// NatsKVConfig configures a NATS-KV secrets backend.
type NatsKVConfig struct {
	// TransitSeed is the xkey seed (SX…) requests are sealed to; its public key is what
	// server_xkey answers.
	TransitSeed string
	// EncryptionSeed is the xkey seed every stored value is sealed with. Lose it and the
	// secrets are lost.
	EncryptionSeed string
	Topic          string // default wasmcloud.secrets
	Name           string // backend name, default nats-kv
	Bucket         string // default WASMCLOUD_SECRETS
	MaxHistory     int    // revisions kept per secret, default (and at most) 64
	QueueBase      string // default wasmcloud_secrets
	Logger         *slog.Logger
}

func (c *NatsKVConfig) defaults() error {
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.Name == "" {
		c.Name = NatsKVName
	}
	if c.Bucket == "" {
		c.Bucket = NatsKVBucket
	}
	if c.MaxHistory <= 0 || c.MaxHistory > NatsKVMaxHistory {
		c.MaxHistory = NatsKVMaxHistory
	}
	if c.QueueBase == "" {
		c.QueueBase = NatsKVQueueBase
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	for _, t := range []string{c.Topic, c.Name, c.QueueBase} {
		if t == "" || strings.ContainsAny(t, " *>") || strings.HasPrefix(t, ".") || strings.HasSuffix(t, ".") {
			return fmt.Errorf("invalid secrets backend subject part %q", t)
		}
	}
	if strings.Contains(c.Name, ".") {
		return fmt.Errorf("invalid secrets backend name %q: one word without '.'", c.Name)
	}
	return nil
}

// StateBucket, LockStream and the Subject of a backend (api.rs:53-69).
func (c NatsKVConfig) StateBucket() string { return "SECRETS_" + c.Name + "_state" }
func (c NatsKVConfig) lockStream() string  { return "SECRETS_" + c.Name + "_state_lock" }

// NatsKV is a running NATS-KV secrets backend, wire-compatible with upstream secrets-nats-kv:
// the same subjects, queue group, buckets, lock stream, xkey sealing and replies, so either can
// serve a lattice and both can share one.
type NatsKV struct {
	cfg        NatsKVConfig
	nc         *nats.Conn
	js         jetstream.JetStream
	transit    nkeys.KeyPair
	transitPub string
	encryption nkeys.KeyPair
	encPub     string
	secrets    jetstream.KeyValue
	state      jetstream.KeyValue
	sub        *nats.Subscription
}

// StartNatsKV creates the buckets and the lock stream if missing and starts serving
// <topic>.v1alpha1.<name>.> in the queue group <queue base>.<name>.
func StartNatsKV(ctx context.Context, nc *nats.Conn, cfg NatsKVConfig) (*NatsKV, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	transit, err := nkeys.FromCurveSeed([]byte(strings.TrimSpace(cfg.TransitSeed)))
	if err != nil {
		return nil, fmt.Errorf("transit xkey seed: %w (expected a curve seed starting with SX)", err)
	}
	encryption, err := nkeys.FromCurveSeed([]byte(strings.TrimSpace(cfg.EncryptionSeed)))
	if err != nil {
		return nil, fmt.Errorf("encryption xkey seed: %w (expected a curve seed starting with SX)", err)
	}
	s := &NatsKV{cfg: cfg, nc: nc, transit: transit, encryption: encryption}
	s.transitPub, _ = transit.PublicKey()
	s.encPub, _ = encryption.PublicKey()
	if s.js, err = jetstream.New(nc); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if s.secrets, err = openOrCreateKV(ctx, s.js, jetstream.KeyValueConfig{Bucket: cfg.Bucket, Description: "Secrets store",
		Compression: true, History: uint8(cfg.MaxHistory)}); err != nil {
		return nil, fmt.Errorf("secrets bucket %s: %w", cfg.Bucket, err)
	}
	if s.state, err = openOrCreateKV(ctx, s.js, jetstream.KeyValueConfig{Bucket: cfg.StateBucket(), Description: "Secrets state store",
		Compression: true}); err != nil {
		return nil, fmt.Errorf("secrets state bucket %s: %w", cfg.StateBucket(), err)
	}
	// The lock stream serialises mapping updates across backend instances: one message per
	// entity subject, refused while one is there, gone after 3 s (api.rs:78-94).
	if _, err := s.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: cfg.lockStream(), Description: "Lock stream for secrets state", Subjects: []string{cfg.lockStream() + ".*"},
		Discard: jetstream.DiscardNew, DiscardNewPerSubject: true, Storage: jetstream.MemoryStorage,
		MaxMsgsPerSubject: 1, MaxAge: 3 * time.Second,
	}); err != nil {
		return nil, fmt.Errorf("secrets lock stream %s: %w", cfg.lockStream(), err)
	}
	subject := Subject(cfg.Topic, cfg.Name, ">")
	if s.sub, err = nc.QueueSubscribe(subject, cfg.QueueBase+"."+cfg.Name, s.onMessage); err != nil {
		return nil, fmt.Errorf("subscribing %s: %w", subject, err)
	}
	if err := nc.Flush(); err != nil {
		_ = s.sub.Unsubscribe()
		return nil, err
	}
	cfg.Logger.Info("secrets backend serving", "backend", cfg.Name, "subject", subject, "bucket", cfg.Bucket)
	return s, nil
}

func openOrCreateKV(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, cfg.Bucket)
		}
	}
	return kv, err
}

// TransitPublicKey is what server_xkey answers.
func (s *NatsKV) TransitPublicKey() string { return s.transitPub }

// Stop stops serving.
func (s *NatsKV) Stop() {
	if s.sub != nil {
		_ = s.sub.Unsubscribe()
	}
}

// onMessage dispatches <topic>.<version>.<name>.<op>[.<entity>] (api.rs:352-455).
func (s *NatsKV) onMessage(m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	rest := strings.TrimPrefix(m.Subject, s.cfg.Topic+"."+APIVersion+"."+s.cfg.Name+".")
	op, entity, _ := strings.Cut(rest, ".")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch op {
	case "server_xkey":
		_ = m.Respond([]byte(s.transitPub))
	case "get":
		s.handleGet(ctx, m)
	case "put_secret":
		s.handlePut(ctx, m)
	case "add_mapping", "remove_mapping":
		if entity == "" {
			_ = m.Respond([]byte("no entity provided"))
			return
		}
		var values []string
		if err := json.Unmarshal(m.Data, &values); err != nil {
			_ = m.Respond([]byte(err.Error()))
			return
		}
		if err := s.updateMapping(ctx, entity, values, op == "add_mapping"); err != nil {
			_ = m.Respond([]byte(err.Error()))
			return
		}
		_ = m.Respond([]byte("ok"))
	default:
		_ = m.Respond([]byte("unknown operation " + op))
	}
}

func respondJSON(m *nats.Msg, v any) {
	b, _ := json.Marshal(v)
	_ = m.Respond(b)
}

// openRequest checks payload and header and opens a request sealed to the transit key; it
// returns the sender's key, or the error kind to answer.
func (s *NatsKV) openRequest(m *nats.Msg) (plain []byte, sender string, kind string) {
	if len(m.Data) == 0 {
		return nil, "", ErrInvalidPayload
	}
	if len(m.Header) == 0 {
		return nil, "", ErrInvalidHeaders
	}
	sender = headerValue(m.Header, HostXKeyHeader)
	if !nkeys.IsValidPublicCurveKey(sender) {
		return nil, "", ErrInvalidXKey
	}
	plain, err := s.transit.Open(m.Data, sender)
	if err != nil {
		return nil, "", ErrDecryption
	}
	return plain, sender, ""
}

func (s *NatsKV) handleGet(ctx context.Context, m *nats.Msg) {
	fail := func(e ErrorCode) { respondJSON(m, Response{Error: &e}) }
	plain, sender, kind := s.openRequest(m)
	if kind != "" {
		fail(ErrorCode{Kind: kind})
		return
	}
	var req Request
	if err := json.Unmarshal(plain, &req); err != nil {
		fail(ErrorCode{Kind: ErrInvalidRequest})
		return
	}
	secret, ec := s.get(ctx, req)
	if ec != nil {
		fail(*ec)
		return
	}
	body, _ := json.Marshal(Response{Secret: secret})
	// The answer is sealed to the requester's key with a fresh key named in the reply header.
	kp, err := nkeys.CreateCurveKeys()
	if err != nil {
		fail(ErrorCode{Kind: ErrEncryption})
		return
	}
	sealed, err := kp.Seal(body, sender)
	if err != nil {
		fail(ErrorCode{Kind: ErrEncryption})
		return
	}
	pub, _ := kp.PublicKey()
	reply := nats.NewMsg(m.Reply)
	reply.Header.Set(ResponseXKeyHeader, pub)
	reply.Data = sealed
	_ = s.nc.PublishMsg(reply)
}

// validToken checks a JWT's signature and dates, whatever its metadata.
func validToken(jwt string) (subject, issuer string, err error) {
	tok, err := wascap.Decode[json.RawMessage](jwt)
	if err != nil {
		return "", "", err
	}
	if err := tok.Verify(time.Now()); err != nil {
		return "", "", err
	}
	return tok.Claims.Subject, tok.Claims.Issuer, nil
}

// get authorises and reads one secret (api.rs:594-699): valid entity and host tokens, a mapping
// from the entity's public key to the key, then the latest (or the given) revision.
func (s *NatsKV) get(ctx context.Context, req Request) (*Secret, *ErrorCode) {
	subject, _, err := validToken(req.Context.EntityJWT)
	if err != nil {
		return nil, &ErrorCode{Kind: ErrInvalidEntityJWT, Detail: err.Error()}
	}
	if _, hostIssuer, err := validToken(req.Context.HostJWT); err != nil {
		return nil, &ErrorCode{Kind: ErrInvalidHostJWT, Detail: err.Error()}
	} else if strings.HasPrefix(hostIssuer, "N") {
		s.cfg.Logger.Warn("host JWT issued by a non-account key", "issuer", hostIssuer)
	}
	allowed, err := s.mapping(ctx, subject)
	if err != nil {
		return nil, &ErrorCode{Kind: ErrUpstream, Detail: err.Error()}
	}
	if !slices.Contains(allowed, req.Key) {
		return nil, &ErrorCode{Kind: ErrUnauthorized}
	}
	var entry jetstream.KeyValueEntry
	if req.Version != nil {
		rev, err := strconv.ParseUint(*req.Version, 10, 64)
		if err != nil {
			return nil, &ErrorCode{Kind: ErrInvalidRequest}
		}
		entry, err = s.secrets.GetRevision(ctx, req.Key, rev)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, &ErrorCode{Kind: ErrSecretNotFound}
		}
		if err != nil {
			return nil, &ErrorCode{Kind: ErrUpstream, Detail: err.Error()}
		}
	} else {
		entry, err = s.secrets.Get(ctx, req.Key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, &ErrorCode{Kind: ErrSecretNotFound}
		}
		if err != nil {
			return nil, &ErrorCode{Kind: ErrUpstream, Detail: err.Error()}
		}
	}
	return s.decrypt(entry)
}

// decrypt opens a stored value. Text comes back as string_secret, other bytes as binary_secret.
// (Upstream returns the still-encrypted bytes as binary_secret, api.rs:689-691; we return the
// plaintext, which is what a reader can use.)
func (s *NatsKV) decrypt(entry jetstream.KeyValueEntry) (*Secret, *ErrorCode) {
	plain, err := s.encryption.Open(entry.Value(), s.encPub)
	if err != nil {
		return nil, &ErrorCode{Kind: ErrDecryption}
	}
	sec := &Secret{Version: strconv.FormatUint(entry.Revision(), 10)}
	if utf8.Valid(plain) {
		str := string(plain)
		sec.StringSecret = &str
	} else {
		sec.BinarySecret = plain
	}
	return sec, nil
}

// mapping is the list of secret keys an entity may read.
func (s *NatsKV) mapping(ctx context.Context, entity string) ([]string, error) {
	e, err := s.state.Get(ctx, entity)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var values []string
	if err := json.Unmarshal(e.Value(), &values); err != nil {
		return nil, err
	}
	return values, nil
}

// updateMapping adds or removes secret keys for an entity, holding the entity's lock message in
// the lock stream meanwhile. (Upstream's remove_mapping never removes anything: it checks the
// set of keys for the entity's own name, api.rs:551; this one removes what it is told.)
func (s *NatsKV) updateMapping(ctx context.Context, entity string, values []string, add bool) error {
	seq, err := s.lock(ctx, entity)
	if err != nil {
		return err
	}
	defer func() {
		if stream, err := s.js.Stream(context.Background(), s.cfg.lockStream()); err == nil {
			_ = stream.DeleteMsg(context.Background(), seq)
		}
	}()
	current, err := s.mapping(ctx, entity)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	for _, v := range current {
		set[v] = true
	}
	for _, v := range values {
		set[v] = add
	}
	out := make([]string, 0, len(set))
	for v, keep := range set {
		if keep {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	b, _ := json.Marshal(out)
	_, err = s.state.Put(ctx, entity, b)
	return err
}

// lock publishes the entity's lock message, retrying with backoff for up to 3 s while another
// instance holds it (api.rs:460-512).
func (s *NatsKV) lock(ctx context.Context, entity string) (uint64, error) {
	subject := s.cfg.lockStream() + "." + entity
	deadline := time.Now().Add(3 * time.Second)
	wait := 100 * time.Millisecond
	for {
		ack, err := s.js.Publish(ctx, subject, []byte("lock"))
		if err == nil {
			return ack.Sequence, nil
		}
		if time.Now().Add(wait).After(deadline) {
			return 0, errors.New("timed out getting lock")
		}
		time.Sleep(wait)
		wait = min(wait*2, time.Second)
	}
}

// PutSecretRequest stores a secret through put_secret: one of StringSecret and BinarySecret
// (upstream crates/secrets-nats-kv/src/types.rs:5-11).
type PutSecretRequest struct {
	Key          string    `json:"key"`
	Version      string    `json:"version"`
	StringSecret *string   `json:"string_secret"`
	BinarySecret ByteArray `json:"binary_secret"`
}

// PutSecretResponse is put_secret's answer; Error is a name such as "DecryptionError".
type PutSecretResponse struct {
	Revision uint64  `json:"revision"`
	Error    *string `json:"error"`
}

func (s *NatsKV) handlePut(ctx context.Context, m *nats.Msg) {
	fail := func(kind string) { respondJSON(m, PutSecretResponse{Error: &kind}) }
	plain, _, kind := s.openRequest(m)
	if kind != "" {
		fail(kind) // PutSecretError has the same names for these four
		return
	}
	var req PutSecretRequest
	if err := json.Unmarshal(plain, &req); err != nil {
		_ = m.Respond([]byte(err.Error()))
		return
	}
	var value []byte
	switch {
	case req.StringSecret != nil:
		value = []byte(*req.StringSecret)
	case req.BinarySecret != nil:
		value = req.BinarySecret
	default:
		fail(ErrInvalidPayload)
		return
	}
	if !validKey(req.Key) {
		_ = m.Respond([]byte(fmt.Sprintf("invalid secret name %q: use letters, digits and -/_=.", req.Key)))
		return
	}
	sealed, err := s.encryption.Seal(value, s.encPub)
	if err != nil {
		_ = m.Respond([]byte("encrypting the secret: " + err.Error()))
		return
	}
	rev, err := s.secrets.Put(ctx, req.Key, sealed)
	if err != nil {
		_ = m.Respond([]byte(err.Error()))
		return
	}
	respondJSON(m, PutSecretResponse{Revision: rev})
}

// validKey is a JetStream KV key.
func validKey(k string) bool {
	if k == "" || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") {
		return false
	}
	for _, r := range k {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-/_=.", r)
		if !ok {
			return false
		}
	}
	return true
}
