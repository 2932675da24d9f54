// Package secrets speaks wasmCloud's secrets protocol (API v1alpha1): the secret references a
// lattice keeps as SECRET_<name> config, the xkey-sealed requests a host sends a secrets backend
// on <topic>.v1alpha1.<backend>.get, and a backend compatible with upstream's secrets-nats-kv
// (secrets encrypted at rest in a JetStream KV bucket, access granted per entity public key).
//
// Wire facts come from upstream wasmCloud v1.9.2 crates/secrets-types, crates/secrets-client and
// crates/secrets-nats-kv; the tests pin them.
package secrets

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Protocol constants (upstream crates/secrets-types/src/lib.rs:10-30).
const (
	APIVersion           = "v1alpha1"
	HostXKeyHeader       = "WasmCloud-Host-Xkey"
	ResponseXKeyHeader   = "Server-Response-Xkey"
	SecretType           = "secret.wasmcloud.dev/v1alpha1"
	PolicyPropertiesType = "properties.secret.wasmcloud.dev/v1alpha1"
	// ConfigPrefix starts the config name of every secret reference. Upstream's constant is
	// "SECRET"; references are stored as SECRET_<name>.
	ConfigPrefix = "SECRET_"
	// DefaultTopic is the subject prefix backends listen under by default (secrets-nats-kv).
	DefaultTopic = "wasmcloud.secrets"
)

// IsReference reports whether a config name is a secret reference (upstream tests the prefix
// "SECRET", without the underscore).
func IsReference(configName string) bool { return strings.HasPrefix(configName, "SECRET") }

// ConfigName is the config key of the reference named name: SECRET_<name>, unless name already
// is one (wash secrets does the same).
func ConfigName(name string) string {
	if IsReference(name) {
		return name
	}
	return ConfigPrefix + name
}

// Policy is a reference's policy: free properties a backend may evaluate.
type Policy struct {
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
}

// Reference is a secret reference (upstream SecretConfig): where a component or provider's secret
// named Name comes from. It is stored as a config map of strings, Policy as a JSON string.
type Reference struct {
	Name    string
	Backend string
	Key     string
	Field   *string
	Version *string
	Policy  Policy
	Type    string
}

// NewReference builds a reference with string policy properties, as `wash secrets put` does.
func NewReference(name, backend, key string, field, version *string, properties map[string]string) Reference {
	props := map[string]any{}
	for k, v := range properties {
		props[k] = v
	}
	return Reference{Name: name, Backend: backend, Key: key, Field: field, Version: version,
		Policy: Policy{Type: PolicyPropertiesType, Properties: props}, Type: SecretType}
}

// ConfigMap is the config value stored for the reference (upstream
// crates/secrets-types/src/lib.rs:222-262: name, type, backend, key, field?, version?, policy).
func (r Reference) ConfigMap() (map[string]string, error) {
	props := r.Policy.Properties
	if props == nil {
		props = map[string]any{}
	}
	pol, err := json.Marshal(Policy{Type: r.Policy.Type, Properties: props})
	if err != nil {
		return nil, fmt.Errorf("secret policy: %w", err)
	}
	m := map[string]string{"name": r.Name, "type": r.Type, "backend": r.Backend, "key": r.Key, "policy": string(pol)}
	if r.Field != nil {
		m["field"] = *r.Field
	}
	if r.Version != nil {
		m["version"] = *r.Version
	}
	return m, nil
}

// ParseReference reads a reference from its config map; every key upstream requires must be there
// (lib.rs:292-321), and the policy must be a JSON object.
func ParseReference(m map[string]string) (Reference, error) {
	var missing []string
	for _, k := range []string{"name", "backend", "key", "policy", "type"} {
		if _, ok := m[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return Reference{}, fmt.Errorf("not a secret reference: missing %s", strings.Join(missing, ", "))
	}
	r := Reference{Name: m["name"], Backend: m["backend"], Key: m["key"], Type: m["type"]}
	if v, ok := m["field"]; ok {
		r.Field = &v
	}
	if v, ok := m["version"]; ok {
		r.Version = &v
	}
	if err := json.Unmarshal([]byte(m["policy"]), &r.Policy); err != nil {
		return Reference{}, fmt.Errorf("secret reference policy is not a JSON object: %w", err)
	}
	return r, nil
}

// Application says which application a requesting entity belongs to; Policy is the reference's
// policy as a JSON string.
type Application struct {
	Name   *string `json:"name"`
	Policy string  `json:"policy"`
}

// Context identifies the requester: the entity's signed claims (a component's embedded JWT or a
// provider archive's) and the host's self-issued token.
type Context struct {
	EntityJWT   string      `json:"entity_jwt"`
	HostJWT     string      `json:"host_jwt"`
	Application Application `json:"application"`
}

// Request asks a backend for one secret (upstream SecretRequest).
type Request struct {
	Key     string  `json:"key"`
	Field   *string `json:"field"`
	Version *string `json:"version"`
	Context Context `json:"context"`
}

// RequestFor turns a reference into the request a host sends for entityJWT.
func (r Reference) RequestFor(entityJWT, hostJWT string, application *string) (Request, error) {
	pol, err := json.Marshal(r.Policy)
	if err != nil {
		return Request{}, fmt.Errorf("failed to serialize secret policy as string: %w", err)
	}
	return Request{Key: r.Key, Field: r.Field, Version: r.Version,
		Context: Context{EntityJWT: entityJWT, HostJWT: hostJWT, Application: Application{Name: application, Policy: string(pol)}}}, nil
}

// Secret is a backend's answer: a string or bytes, and the version it came from.
type Secret struct {
	Version      string    `json:"version"`
	StringSecret *string   `json:"string_secret"`
	BinarySecret ByteArray `json:"binary_secret"`
}

// Response is a backend's reply to get: a secret or an error, never both.
type Response struct {
	Secret *Secret    `json:"secret,omitempty"`
	Error  *ErrorCode `json:"error,omitempty"`
}

// ErrorCode is a backend error (upstream GetSecretError, crates/secrets-types/src/errors.rs),
// written the way serde writes an enum: "SecretNotFound" for a case without detail, or
// {"UpstreamError":"detail"}.
type ErrorCode struct {
	Kind   string
	Detail string
}

// Error kinds a backend may answer.
const (
	ErrInvalidEntityJWT = "InvalidEntityJWT"
	ErrInvalidHostJWT   = "InvalidHostJWT"
	ErrSecretNotFound   = "SecretNotFound"
	ErrInvalidXKey      = "InvalidXKey"
	ErrEncryption       = "EncryptionError"
	ErrDecryption       = "DecryptionError"
	ErrUpstream         = "UpstreamError"
	ErrUnauthorized     = "Unauthorized"
	ErrInvalidRequest   = "InvalidRequest"
	ErrInvalidPayload   = "InvalidPayload"
	ErrInvalidHeaders   = "InvalidHeaders"
	ErrPolicy           = "PolicyError"
	ErrOther            = "Other"
)

// withDetail are the kinds that carry a message.
var withDetail = map[string]bool{ErrInvalidEntityJWT: true, ErrInvalidHostJWT: true, ErrUpstream: true, ErrPolicy: true, ErrOther: true}

// Error is the text upstream displays for the error.
func (e *ErrorCode) Error() string {
	switch e.Kind {
	case ErrInvalidEntityJWT:
		return "Invalid Entity JWT: " + e.Detail
	case ErrInvalidHostJWT:
		return "Invalid Host JWT: " + e.Detail
	case ErrSecretNotFound:
		return "Secret not found"
	case ErrInvalidXKey:
		return "Invalid XKey"
	case ErrEncryption:
		return "Error encrypting secret"
	case ErrDecryption:
		return "Error decrypting secret"
	case ErrUpstream:
		return "Error fetching secret: " + e.Detail
	case ErrUnauthorized:
		return "Error fetching secret: unauthorized"
	case ErrInvalidRequest:
		return "Invalid request"
	case ErrInvalidPayload:
		return "Invalid payload"
	case ErrInvalidHeaders:
		return "Invalid headers"
	case ErrPolicy:
		return "Error processing policies: $" + e.Detail
	}
	return "Encountered an unknown error fetching secret: " + e.Detail
}

// MarshalJSON writes serde's external enum tagging.
func (e ErrorCode) MarshalJSON() ([]byte, error) {
	if withDetail[e.Kind] {
		return json.Marshal(map[string]string{e.Kind: e.Detail})
	}
	return json.Marshal(e.Kind)
}

// UnmarshalJSON reads "Kind" or {"Kind":"detail"}.
func (e *ErrorCode) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*e = ErrorCode{Kind: s}
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil || len(m) != 1 {
		return errors.New("secrets: error is neither a name nor a one-key object")
	}
	for k, v := range m {
		*e = ErrorCode{Kind: k, Detail: v}
	}
	return nil
}

// Value is a secret as a component or provider sees it: a string or bytes.
type Value struct {
	String *string
	Bytes  []byte
}

// Value returns the secret's value; a secret with neither form is an error.
func (s *Secret) Value() (Value, error) {
	switch {
	case s.StringSecret != nil:
		return Value{String: s.StringSecret}, nil
	case s.BinarySecret != nil:
		return Value{Bytes: []byte(s.BinarySecret)}, nil
	}
	return Value{}, errors.New("secret did not contain a value")
}

// ByteArray is bytes as serde writes Vec<u8>: a JSON array of numbers, or null.
type ByteArray []byte

// MarshalJSON writes the bytes as an array of numbers.
func (b ByteArray) MarshalJSON() ([]byte, error) {
	if b == nil {
		return []byte("null"), nil
	}
	out := make([]byte, 0, 2+4*len(b))
	out = append(out, '[')
	for i, x := range b {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendUint(out, uint64(x), 10)
	}
	return append(out, ']'), nil
}

// UnmarshalJSON reads an array of numbers or null.
func (b *ByteArray) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*b = nil
		return nil
	}
	var ints []int
	if err := json.Unmarshal(data, &ints); err != nil {
		return fmt.Errorf("secrets: expected an array of bytes: %w", err)
	}
	out := make([]byte, len(ints))
	for i, n := range ints {
		if n < 0 || n > 255 {
			return fmt.Errorf("secrets: %d is not a byte", n)
		}
		out[i] = byte(n)
	}
	*b = out
	return nil
}
