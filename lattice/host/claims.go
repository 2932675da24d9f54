package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/wascap"
)

// componentClaims returns the verified embedded claims of a component, or nil when it is not
// signed. Like upstream, claims that are invalid (bad signature, expired, not yet valid, a
// changed binary) fail the scale.
func componentClaims(wasm []byte) (*wascap.Token[wascap.Component], error) {
	tok, err := wascap.ExtractClaims(wasm)
	if err != nil {
		if errors.Is(err, wascap.ErrNotWasm) {
			return nil, errors.New("the artifact is not a wasm binary")
		}
		return nil, fmt.Errorf("invalid embedded claims: %w", err)
	}
	if tok == nil {
		return nil, nil
	}
	if err := tok.Verify(time.Now()); err != nil {
		return nil, fmt.Errorf("invalid embedded claims: %w", err)
	}
	return tok, nil
}

func revString(r *int32) string {
	if r == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*r), 10)
}

// storedComponentClaims converts component claims to the CLAIMS_ form; claims without metadata
// have none (upstream refuses to store them).
func storedComponentClaims(c wascap.Claims[wascap.Component]) (ctl.StoredClaims, bool) {
	m := c.Metadata
	if m == nil {
		return ctl.StoredClaims{}, false
	}
	tags := m.Tags
	if tags == nil {
		tags = []string{}
	}
	return ctl.StoredClaims{Component: &ctl.StoredComponentClaims{
		CallAlias: m.CallAlias, Issuer: c.Issuer, Name: m.Name, Revision: revString(m.Rev),
		Subject: c.Subject, Tags: tags, Version: m.Ver,
	}}, true
}

// storedProviderClaims converts provider archive claims to the CLAIMS_ form.
func storedProviderClaims(c wascap.Claims[wascap.Provider]) (ctl.StoredClaims, bool) {
	m := c.Metadata
	if m == nil {
		return ctl.StoredClaims{}, false
	}
	p := &ctl.StoredProviderClaims{Issuer: c.Issuer, Revision: revString(m.Rev), Subject: c.Subject}
	if m.Name != nil {
		p.Name = *m.Name
	}
	if m.Ver != nil {
		p.Version = *m.Ver
	}
	if len(m.ConfigSchema) > 0 && string(m.ConfigSchema) != "null" {
		s := string(m.ConfigSchema)
		p.ConfigSchema = &s
	}
	return ctl.StoredClaims{Provider: p}, true
}

// storeClaims writes CLAIMS_<subject> to LATTICEDATA (so claims.get on every host lists it) and
// keeps it for this host's own claims.get right away.
func (h *Host) storeClaims(ctx context.Context, sc ctl.StoredClaims) error {
	b, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	if err := retryTransient(ctx, func() error {
		_, err := h.latticeData.Put(ctx, ctl.ClaimsKeyPrefix+sc.Subject(), b)
		return err
	}); err != nil {
		return fmt.Errorf("storing claims %s%s: %w", ctl.ClaimsKeyPrefix, sc.Subject(), err)
	}
	h.mu.Lock()
	h.claims[sc.Subject()] = sc
	h.mu.Unlock()
	return nil
}

// applyClaimsEntry mirrors a CLAIMS_ put or delete from LATTICEDATA (written by any host).
func (h *Host) applyClaimsEntry(sub string, value []byte, deleted bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if deleted {
		delete(h.claims, sub)
		return
	}
	var sc ctl.StoredClaims
	if err := json.Unmarshal(value, &sc); err != nil {
		h.log.Warn("ignoring malformed stored claims", "key", ctl.ClaimsKeyPrefix+sub, "err", err)
		return
	}
	if sc.Subject() != sub {
		h.log.Warn("ignoring stored claims under another subject's key", "key", ctl.ClaimsKeyPrefix+sub, "subject", sc.Subject())
		return
	}
	h.claims[sub] = sc
}

// allClaims is the claims.get reply: one flat map per known component or provider.
func (h *Host) allClaims() []map[string]string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := []map[string]string{}
	for _, c := range h.claims {
		out = append(out, c.Map())
	}
	return out
}

// epochOrNever is how upstream events show claim dates: epoch seconds as text, or "never".
func epochOrNever(t *int64) string {
	if t == nil {
		return "never"
	}
	return strconv.FormatInt(*t, 10)
}

// eventComponentClaims is the claims object of component_scaled.
func eventComponentClaims(c wascap.Claims[wascap.Component]) *events.ComponentClaims {
	out := &events.ComponentClaims{Issuer: c.Issuer, NotBeforeHuman: epochOrNever(c.NotBefore), ExpiresHuman: epochOrNever(c.Expires)}
	m := c.Metadata
	if m == nil {
		out.NoMetadata = true
		return out
	}
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	out.CallAlias, out.Name, out.Version, out.Revision = opt(m.CallAlias), opt(m.Name), opt(m.Ver), m.Rev
	out.Tags = m.Tags
	return out
}

// eventProviderClaims is the claims object of provider_started.
func eventProviderClaims(c wascap.Claims[wascap.Provider]) *events.ProviderClaims {
	out := &events.ProviderClaims{Issuer: c.Issuer, NotBeforeHuman: epochOrNever(c.NotBefore), ExpiresHuman: epochOrNever(c.Expires)}
	if m := c.Metadata; m != nil {
		if m.Name != nil {
			out.Name = *m.Name
		}
		if m.Ver != nil {
			out.Version = *m.Ver
		}
	}
	return out
}
