// Package wascap reads, validates and writes wasmCloud capability claims: Ed25519-signed JWTs
// (signed with nkeys) that are embedded in wasm binaries (custom section "wasmcloud_jwt", or the
// legacy "jwt") and stored as claims.jwt in provider archives.
//
// It lives at the top level rather than under oci/ because claims are not an OCI concern: the host
// checks them for components loaded from file:// references too, and the claims commands need them
// without pulling in a registry client. It depends only on nkeys and nuid.
package wascap

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nuid"
)

const (
	headerType      = "jwt"
	headerAlgorithm = "Ed25519"
	// Revision is the wascap_revision written into new tokens.
	Revision = 3
	// MinHashedRevision is the lowest wascap_revision whose module hash is checked on extract.
	MinHashedRevision = 3
)

// Errors callers may test for with errors.Is.
var (
	ErrInvalidToken     = errors.New("invalid token")
	ErrInvalidSignature = errors.New("signature does not verify against the issuer key")
	ErrExpired          = errors.New("token has expired")
	ErrNotYetValid      = errors.New("token is not valid yet")
	ErrHashMismatch     = errors.New("module hash does not match the hash in the claims (the binary was changed after signing)")
)

// Claims is the JWT claim set. The field order matches upstream's serde order so that encoded
// tokens have the same layout as the ones wash writes.
type Claims[T any] struct {
	Expires   *int64 `json:"exp,omitempty"`
	ID        string `json:"jti"`
	IssuedAt  int64  `json:"iat"`
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	NotBefore *int64 `json:"nbf,omitempty"`
	Metadata  *T     `json:"wascap,omitempty"`
	// WascapRevision is absent in pre-1.0 tokens.
	WascapRevision *uint32 `json:"wascap_revision,omitempty"`
}

// Component is the metadata of a component (or a legacy actor/module).
type Component struct {
	Name      string   `json:"name,omitempty"`
	Hash      string   `json:"hash"`
	Tags      []string `json:"tags,omitempty"`
	Rev       *int32   `json:"rev,omitempty"`
	Ver       string   `json:"ver,omitempty"`
	CallAlias string   `json:"call_alias,omitempty"`
	Provider  bool     `json:"prov"`
	// Caps is the pre-1.0 capability list; read for display, ignored otherwise.
	Caps []string `json:"caps,omitempty"`
}

// Provider is the metadata of a capability provider (claims.jwt in a provider archive).
type Provider struct {
	// Name is serialized as null when nil, as upstream does.
	Name   *string `json:"name"`
	Vendor string  `json:"vendor"`
	Rev    *int32  `json:"rev,omitempty"`
	Ver    *string `json:"ver,omitempty"`
	// TargetHashes maps a target ("x86_64-linux") or "world.wasm" to the upper-case hex SHA-256.
	TargetHashes map[string]string `json:"target_hashes"`
	ConfigSchema json.RawMessage   `json:"config_schema,omitempty"`
}

// Token is an encoded JWT together with its decoded claims.
type Token[T any] struct {
	JWT    string
	Claims Claims[T]
}

type header struct {
	Type      string `json:"typ"`
	Algorithm string `json:"alg"`
}

var b64 = base64.RawURLEncoding

// NewClaims returns claims with a fresh jti, iat = now and the current wascap revision.
func NewClaims[T any](issuer, subject string, meta *T) Claims[T] {
	rev := uint32(Revision)
	return Claims[T]{
		ID:             nuid.Next(),
		IssuedAt:       time.Now().Unix(),
		Issuer:         issuer,
		Subject:        subject,
		Metadata:       meta,
		WascapRevision: &rev,
	}
}

// Encode signs the claims with the issuer's key pair (which must hold a seed) and returns the JWT.
func Encode[T any](c *Claims[T], issuer Signer) (string, error) {
	h, err := json.Marshal(header{Type: headerType, Algorithm: headerAlgorithm})
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encoding claims: %w", err)
	}
	signed := b64.EncodeToString(h) + "." + b64.EncodeToString(body)
	sig, err := issuer.Sign([]byte(signed))
	if err != nil {
		return "", fmt.Errorf("signing claims: %w", err)
	}
	return signed + "." + b64.EncodeToString(sig), nil
}

// Decode parses a JWT without checking its signature or dates (use Validate or Token.Verify).
// The header must name the Ed25519 algorithm.
func Decode[T any](jwt string) (*Token[T], error) {
	jwt = strings.TrimSpace(jwt)
	seg := strings.Split(jwt, ".")
	if len(seg) != 3 {
		return nil, fmt.Errorf("%w: expected 3 dot-separated segments, found %d", ErrInvalidToken, len(seg))
	}
	var h header
	if err := decodeSegment(seg[0], &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrInvalidToken, err)
	}
	if h.Algorithm != headerAlgorithm {
		return nil, fmt.Errorf("%w: algorithm %q, want %q", ErrInvalidToken, h.Algorithm, headerAlgorithm)
	}
	if h.Type != headerType {
		return nil, fmt.Errorf("%w: header type %q, want %q", ErrInvalidToken, h.Type, headerType)
	}
	t := &Token[T]{JWT: jwt}
	if err := decodeSegment(seg[1], &t.Claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrInvalidToken, err)
	}
	return t, nil
}

func decodeSegment(s string, v any) error {
	// Some writers pad; accept both.
	raw, err := b64.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return fmt.Errorf("bad base64url: %v", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("bad JSON: %v", err)
	}
	return nil
}

// Validation is the outcome of checking a token, as wash's inspect shows it.
type Validation struct {
	SignatureValid bool
	Expired        bool
	CannotUseYet   bool
	ExpiresHuman   string
	NotBeforeHuman string
}

// Validate checks the signature and the dates of a token at time now.
func (t *Token[T]) Validate(now time.Time) Validation {
	v := Validation{
		SignatureValid: t.signatureValid(),
		ExpiresHuman:   humanStamp(t.Claims.Expires, now, "never"),
		NotBeforeHuman: humanStamp(t.Claims.NotBefore, now, "immediately"),
	}
	if t.Claims.Expires != nil && *t.Claims.Expires < now.Unix() {
		v.Expired = true
	}
	if t.Claims.NotBefore != nil && now.Unix() < *t.Claims.NotBefore {
		v.CannotUseYet = true
	}
	return v
}

// Verify returns an error unless the signature is valid and the token is usable at time now.
func (t *Token[T]) Verify(now time.Time) error {
	if t.Claims.Issuer == "" {
		return fmt.Errorf("%w: missing issuer", ErrInvalidToken)
	}
	if t.Claims.Subject == "" {
		return fmt.Errorf("%w: missing subject", ErrInvalidToken)
	}
	v := t.Validate(now)
	switch {
	case !v.SignatureValid:
		return fmt.Errorf("%w (issuer %s)", ErrInvalidSignature, t.Claims.Issuer)
	case v.Expired:
		return fmt.Errorf("%w (expired %s)", ErrExpired, v.ExpiresHuman)
	case v.CannotUseYet:
		return fmt.Errorf("%w (usable %s)", ErrNotYetValid, v.NotBeforeHuman)
	}
	return nil
}

func (t *Token[T]) signatureValid() bool {
	i := strings.LastIndexByte(t.JWT, '.')
	if i < 0 {
		return false
	}
	sig, err := b64.DecodeString(strings.TrimRight(t.JWT[i+1:], "="))
	if err != nil {
		return false
	}
	return VerifySignature(t.Claims.Issuer, []byte(t.JWT[:i]), sig) == nil
}

// DisplayName returns the friendly name in the metadata, or upstream's fallback.
func (c *Component) DisplayName() string {
	if c == nil || c.Name == "" {
		return "Anonymous"
	}
	return c.Name
}

// DisplayName returns the provider name or upstream's fallback.
func (p *Provider) DisplayName() string {
	if p == nil || p.Name == nil {
		return "Unnamed Provider"
	}
	return *p.Name
}

// humanStamp renders a unix time relative to now ("in 3h", "2d ago"), or def when unset.
func humanStamp(stamp *int64, now time.Time, def string) string {
	if stamp == nil {
		return def
	}
	d := time.Unix(*stamp, 0).Sub(now)
	future := d >= 0
	if !future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%dh", int(d.Hours()))
	default:
		s = fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// Operator is the metadata of operator claims (self-signed).
type Operator struct {
	Name         string   `json:"name,omitempty"`
	ValidSigners []string `json:"valid_signers,omitempty"`
}

// Account is the metadata of account claims (signed by an operator).
type Account struct {
	Name         string   `json:"name,omitempty"`
	ValidSigners []string `json:"valid_signers,omitempty"`
}
