package wascap

// Host is the metadata of a host token. Upstream hosts issue themselves one (subject the host id,
// signed by a fresh account key, labels {"self_signed":"true"}) and send it with every secret
// request, so a secrets backend can tell which host asks (crates/wascap/src/jwt.rs:142-148,
// crates/host/src/wasmbus/mod.rs:690-703).
type Host struct {
	Name   *string           `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// SelfSignedHostToken issues a host token the way upstream hosts do: subject hostID, a fresh
// account key as issuer.
func SelfSignedHostToken(hostID, friendlyName string) (*Token[Host], error) {
	issuer, err := NewKey(KindAccount)
	if err != nil {
		return nil, err
	}
	c := NewClaims(issuer.Public(), hostID, &Host{Name: &friendlyName, Labels: map[string]string{"self_signed": "true"}})
	jwt, err := Encode(&c, issuer)
	if err != nil {
		return nil, err
	}
	return &Token[Host]{JWT: jwt, Claims: c}, nil
}
