package ctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ClaimsKeyPrefix starts the LATTICEDATA key of stored claims: CLAIMS_<subject>.
const ClaimsKeyPrefix = "CLAIMS_"

// StoredClaims is the LATTICEDATA value under CLAIMS_<subject>: the claims of a component (M…)
// or a provider (V…) a host ran, kept so that claims.get on any host lists them. Exactly one of
// Component and Provider is set. The JSON has no tag; the component form is the one carrying
// call_alias and tags (upstream host/src/wasmbus/claims.rs:11-45, an untagged serde enum that
// tries the component form first).
type StoredClaims struct {
	Component *StoredComponentClaims
	Provider  *StoredProviderClaims
}

// StoredComponentClaims is the component form. Revision is a decimal string.
type StoredComponentClaims struct {
	CallAlias string   `json:"call_alias"`
	Issuer    string   `json:"issuer"`
	Name      string   `json:"name"`
	Revision  string   `json:"revision"`
	Subject   string   `json:"subject"`
	Tags      []string `json:"tags"`
	Version   string   `json:"version"`
}

// StoredProviderClaims is the provider form; config_schema is left out when absent.
type StoredProviderClaims struct {
	Issuer       string  `json:"issuer"`
	Name         string  `json:"name"`
	Revision     string  `json:"revision"`
	Subject      string  `json:"subject"`
	Version      string  `json:"version"`
	ConfigSchema *string `json:"config_schema,omitempty"`
}

// Subject is the component or provider public key the claims are about.
func (c StoredClaims) Subject() string {
	switch {
	case c.Component != nil:
		return c.Component.Subject
	case c.Provider != nil:
		return c.Provider.Subject
	}
	return ""
}

// MarshalJSON writes whichever form is set.
func (c StoredClaims) MarshalJSON() ([]byte, error) {
	switch {
	case c.Component != nil:
		cc := *c.Component
		if cc.Tags == nil {
			cc.Tags = []string{}
		}
		return json.Marshal(cc)
	case c.Provider != nil:
		return json.Marshal(c.Provider)
	}
	return nil, errors.New("stored claims: neither component nor provider claims")
}

// UnmarshalJSON accepts what upstream's reader accepts: every key required (iss, rev and sub
// also as aliases of issuer, revision and subject), tags as a list or a comma-joined string,
// the component form first.
func (c *StoredClaims) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("stored claims: %w", err)
	}
	str := func(keys ...string) (string, bool) {
		for _, k := range keys {
			if v, ok := raw[k]; ok {
				var s string
				if json.Unmarshal(v, &s) != nil {
					return "", false
				}
				return s, true
			}
		}
		return "", false
	}
	issuer, okI := str("issuer", "iss")
	name, okN := str("name")
	rev, okR := str("revision", "rev")
	sub, okS := str("subject", "sub")
	ver, okV := str("version")
	if !okI || !okN || !okR || !okS || !okV {
		return errors.New("stored claims: missing one of issuer, name, revision, subject, version")
	}
	if alias, okA := str("call_alias"); okA {
		if tags, okT := messyTags(raw["tags"]); okT {
			*c = StoredClaims{Component: &StoredComponentClaims{CallAlias: alias, Issuer: issuer, Name: name,
				Revision: rev, Subject: sub, Tags: tags, Version: ver}}
			return nil
		}
	}
	p := &StoredProviderClaims{Issuer: issuer, Name: name, Revision: rev, Subject: sub, Version: ver}
	if v, ok := raw["config_schema"]; ok && string(v) != "null" {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("stored claims: config_schema: %w", err)
		}
		p.ConfigSchema = &s
	}
	*c = StoredClaims{Provider: p}
	return nil
}

// canonicalJSON re-encodes a JSON text compactly with sorted keys, as serde_json writes a parsed
// Value; text that is not JSON becomes "" (upstream drops a schema it cannot parse).
func canonicalJSON(s string) string {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return ""
	}
	b, err := Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func messyTags(v json.RawMessage) ([]string, bool) {
	if v == nil {
		return nil, false
	}
	var list []string
	if json.Unmarshal(v, &list) == nil {
		return list, true
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return strings.Split(s, ","), true
	}
	return nil, false
}

// Map is one entry of the claims.get reply: a flat string map, with the iss/rev/sub duplicates
// upstream keeps for older clients (upstream claims.rs:161-193). Upstream keeps claims as parsed
// JWT claims in between, so a revision that is not a number comes back as "0" and tags drop
// empty lists to "".
func (c StoredClaims) Map() map[string]string {
	rev := func(s string) string {
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		if err != nil {
			return "0"
		}
		return strconv.FormatInt(n, 10)
	}
	switch {
	case c.Component != nil:
		cc := c.Component
		r := rev(cc.Revision)
		return map[string]string{
			"call_alias": cc.CallAlias, "iss": cc.Issuer, "issuer": cc.Issuer, "name": cc.Name,
			"rev": r, "revision": r, "sub": cc.Subject, "subject": cc.Subject,
			"tags": strings.Join(cc.Tags, ","), "version": cc.Version,
		}
	case c.Provider != nil:
		p := c.Provider
		r := rev(p.Revision)
		schema := ""
		if p.ConfigSchema != nil {
			schema = canonicalJSON(*p.ConfigSchema)
		}
		return map[string]string{
			"iss": p.Issuer, "issuer": p.Issuer, "name": p.Name, "rev": r, "revision": r,
			"sub": p.Subject, "subject": p.Subject, "version": p.Version, "config_schema": schema,
		}
	}
	return nil
}
