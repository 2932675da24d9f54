package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Subject is <topic>.<api version>.<backend>.<op>, where a backend serves op
// (upstream crates/secrets-client/src/lib.rs:43-63).
func Subject(topic, backend, op string) string {
	return topic + "." + APIVersion + "." + backend + "." + op
}

// Client fetches secrets from backends for a host, the way upstream's secrets client does: it
// asks each backend for its server xkey once, then seals every request to it with a fresh xkey
// sent in the WasmCloud-Host-Xkey header, and opens the reply sealed back to that key.
type Client struct {
	nc    *nats.Conn
	topic string

	mu   sync.Mutex
	keys map[string]string // backend -> server xkey public key
}

// NewClient makes a client for backends under topic (the host's secrets topic).
func NewClient(nc *nats.Conn, topic string) *Client {
	return &Client{nc: nc, topic: topic, keys: map[string]string{}}
}

// ServerXKey asks a backend for its transit public key (and remembers it).
func (c *Client) ServerXKey(ctx context.Context, backend string) (string, error) {
	c.mu.Lock()
	k, ok := c.keys[backend]
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	subject := Subject(c.topic, backend, "server_xkey")
	msg, err := c.nc.RequestWithContext(ctx, subject, nil)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			return "", fmt.Errorf("no secrets backend %q answers on %s: start it (wash secrets nats-kv run, or wash up --secrets-nats-kv) or check the backend name", backend, subject)
		}
		return "", fmt.Errorf("failed to fetch server xkey from %s: %w", subject, err)
	}
	k = string(msg.Data)
	if !nkeys.IsValidPublicCurveKey(k) {
		return "", fmt.Errorf("failed to parse server xkey from %s: %q is not an xkey", subject, truncate(k))
	}
	c.mu.Lock()
	c.keys[backend] = k
	c.mu.Unlock()
	return k, nil
}

// Get fetches one secret from backend.
func (c *Client) Get(ctx context.Context, backend string, req Request) (*Secret, error) {
	s, err := c.get(ctx, backend, req)
	var ec *ErrorCode
	if errors.As(err, &ec) && (ec.Kind == ErrDecryption || ec.Kind == ErrInvalidXKey) {
		// the backend may have restarted with another transit key: ask again once
		c.mu.Lock()
		delete(c.keys, backend)
		c.mu.Unlock()
		s, err = c.get(ctx, backend, req)
	}
	return s, err
}

func (c *Client) get(ctx context.Context, backend string, req Request) (*Secret, error) {
	server, err := c.ServerXKey(ctx, backend)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("failed to serialize secret request: %w", err)
	}
	kp, err := nkeys.CreateCurveKeys()
	if err != nil {
		return nil, err
	}
	pub, _ := kp.PublicKey()
	sealed, err := kp.Seal(body, server)
	if err != nil {
		return nil, fmt.Errorf("failed to seal secret request: %w", err)
	}
	m := nats.NewMsg(Subject(c.topic, backend, "get"))
	m.Header.Set(HostXKeyHeader, pub)
	m.Data = sealed
	reply, err := c.nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("failed to send secret request to %s: %w", m.Subject, err)
	}
	var resp Response
	respKey := headerValue(reply.Header, ResponseXKeyHeader)
	if respKey == "" {
		// Without the response key the reply is a plain error.
		if err := json.Unmarshal(reply.Data, &resp); err != nil {
			return nil, fmt.Errorf("failed to deserialize secret response: %w", err)
		}
		if resp.Error != nil {
			return nil, resp.Error
		}
		return nil, errors.New("unhandled server error (the server errored without explanation)")
	}
	plain, err := kp.Open(reply.Data, respKey)
	if err != nil {
		return nil, fmt.Errorf("failed to open secret response: %w", err)
	}
	if err := json.Unmarshal(plain, &resp); err != nil {
		return nil, fmt.Errorf("failed to deserialize secret response: %w", err)
	}
	if resp.Secret == nil {
		if resp.Error != nil {
			return nil, resp.Error
		}
		return nil, fmt.Errorf("missing secret: no secret found with name [%s]", req.Key)
	}
	return resp.Secret, nil
}

// headerValue reads a header by exact name, then case-insensitively (NATS headers keep case).
func headerValue(h nats.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs[0]
		}
	}
	return ""
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
