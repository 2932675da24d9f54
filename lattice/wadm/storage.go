package wadm

import (
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ManifestKey is the wadm_manifests key of one app: <lattice>-<app>, or
// <account>-<lattice>-<app> in multitenant mode.
func ManifestKey(account, lattice, app string) string {
	if account != "" {
		return account + "-" + lattice + "-" + app
	}
	return lattice + "-" + app
}

// ModelSetKey is the wadm_manifests key holding the sorted app-name list.
func ModelSetKey(account, lattice string) string {
	if account != "" {
		return account + "-" + lattice
	}
	return lattice
}

// State keys in wadm_state (no account prefix).
func HostStateKey(lattice string) string      { return "host_" + lattice }
func ComponentStateKey(lattice string) string { return "component_" + lattice }
func ProviderStateKey(lattice string) string  { return "provider_" + lattice }

// VersionedManifest is one stored version.
type VersionedManifest struct {
	Version  string
	Manifest *model.Manifest
}

// StoredManifest is the wadm_manifests value of one app: versions in put
// order plus the deployed version.
type StoredManifest struct {
	Versions []VersionedManifest
	Deployed *string
}

// ErrVersionExists is returned by AddVersion for a duplicate version.
var ErrVersionExists = errors.New("manifest version already exists")

// Current returns the most recently put version, or nil.
func (s *StoredManifest) Current() *VersionedManifest {
	if len(s.Versions) == 0 {
		return nil
	}
	return &s.Versions[len(s.Versions)-1]
}

// Get returns the named version, or nil.
func (s *StoredManifest) Get(version string) *VersionedManifest {
	for i := range s.Versions {
		if s.Versions[i].Version == version {
			return &s.Versions[i]
		}
	}
	return nil
}

// DeployedManifest returns the deployed manifest, or nil.
func (s *StoredManifest) DeployedManifest() *model.Manifest {
	if s.Deployed == nil {
		return nil
	}
	if v := s.Get(*s.Deployed); v != nil {
		return v.Manifest
	}
	return nil
}

// AddVersion appends m under its version annotation (which the caller must
// have set, e.g. to a ULID).
func (s *StoredManifest) AddVersion(m *model.Manifest) error {
	v := m.Version()
	if s.Get(v) != nil {
		return fmt.Errorf("Manifest version %s already exists: %w", v, ErrVersionExists)
	}
	s.Versions = append(s.Versions, VersionedManifest{Version: v, Manifest: m})
	return nil
}

// DeleteVersion removes a version, keeping the order of the rest; it clears
// Deployed when that version was deployed and reports whether it did.
func (s *StoredManifest) DeleteVersion(version string) (found, wasDeployed bool) {
	for i := range s.Versions {
		if s.Versions[i].Version == version {
			s.Versions = append(s.Versions[:i], s.Versions[i+1:]...)
			if s.Deployed != nil && *s.Deployed == version {
				s.Deployed = nil
				wasDeployed = true
			}
			return true, wasDeployed
		}
	}
	return false, false
}

// VersionInfos lists versions for model.versions.
func (s *StoredManifest) VersionInfos() []model.VersionInfo {
	out := make([]model.VersionInfo, 0, len(s.Versions))
	for _, v := range s.Versions {
		out = append(out, model.VersionInfo{Version: v.Version, Deployed: s.Deployed != nil && *s.Deployed == v.Version})
	}
	return out
}

// MarshalJSON writes {"manifests":{<ordered>},"deployed_version":…}.
func (s StoredManifest) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"manifests":{`)
	for i, v := range s.Versions {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := model.Marshal(v.Version)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		mj, err := model.Marshal(v.Manifest)
		if err != nil {
			return nil, fmt.Errorf("encode manifest %s: %w", v.Version, err)
		}
		b.Write(mj)
	}
	b.WriteString(`},"deployed_version":`)
	dv, err := model.Marshal(s.Deployed)
	if err != nil {
		return nil, err
	}
	b.Write(dv)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON keeps the version order of the object. Stored manifests are
// decoded leniently (Rust omits empty spread requirements when storing).
func (s *StoredManifest) UnmarshalJSON(data []byte) error {
	var raw struct {
		Manifests       json.RawMessage `json:"manifests"`
		DeployedVersion *string         `json:"deployed_version"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("decode stored manifest: %w", err)
	}
	s.Versions, s.Deployed = nil, raw.DeployedVersion
	if len(raw.Manifests) == 0 || string(raw.Manifests) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw.Manifests))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("decode stored manifest: manifests must be an object")
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return fmt.Errorf("decode stored manifest: %w", err)
		}
		key, _ := kt.(string)
		var mraw json.RawMessage
		if err := dec.Decode(&mraw); err != nil {
			return fmt.Errorf("decode stored manifest %s: %w", key, err)
		}
		m, err := model.ParseStoredManifestJSON(mraw)
		if err != nil {
			return fmt.Errorf("decode stored manifest %s: %w", key, err)
		}
		s.Versions = append(s.Versions, VersionedManifest{Version: key, Manifest: m})
	}
	return nil
}

// ProviderStatus is a provider's state on one host.
type ProviderStatus string

// Provider states.
const (
	ProviderPending ProviderStatus = "Pending"
	ProviderRunning ProviderStatus = "Running"
	ProviderFailed  ProviderStatus = "Failed"
)

// ProviderInfo is a provider entry of a host record (identity: provider id).
type ProviderInfo struct {
	ProviderID  string            `json:"provider_id"`
	ProviderRef string            `json:"provider_ref"`
	Annotations map[string]string `json:"annotations"`
}

// UnmarshalJSON accepts the legacy key public_key.
func (p *ProviderInfo) UnmarshalJSON(b []byte) error {
	var raw struct {
		ProviderID  *string           `json:"provider_id"`
		PublicKey   *string           `json:"public_key"`
		ProviderRef string            `json:"provider_ref"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	switch {
	case raw.ProviderID != nil:
		p.ProviderID = *raw.ProviderID
	case raw.PublicKey != nil:
		p.ProviderID = *raw.PublicKey
	default:
		return errors.New("provider info: missing field provider_id")
	}
	p.ProviderRef, p.Annotations = raw.ProviderRef, raw.Annotations
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	return nil
}

// MarshalJSON writes annotations as {} when empty.
func (p ProviderInfo) MarshalJSON() ([]byte, error) {
	type plain ProviderInfo
	q := plain(p)
	if q.Annotations == nil {
		q.Annotations = map[string]string{}
	}
	return model.Marshal(q)
}

// HostRecord is a host_<lattice> entry.
type HostRecord struct {
	Components    map[string]int    `json:"components"`
	FriendlyName  string            `json:"friendly_name"`
	Labels        map[string]string `json:"labels"`
	Providers     []ProviderInfo    `json:"providers"`
	UptimeSeconds uint64            `json:"uptime_seconds"`
	Version       *string           `json:"version"`
	ID            string            `json:"id"`
	LastSeen      time.Time         `json:"last_seen"`
}

// UnmarshalJSON accepts the legacy key actors for components.
func (h *HostRecord) UnmarshalJSON(b []byte) error {
	type plain HostRecord
	var raw struct {
		plain
		Actors map[string]int `json:"actors"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*h = HostRecord(raw.plain)
	if h.Components == nil && raw.Actors != nil {
		h.Components = raw.Actors
	}
	return nil
}

// MarshalJSON writes empty collections as {} / [].
func (h HostRecord) MarshalJSON() ([]byte, error) {
	type plain HostRecord
	q := plain(h)
	if q.Components == nil {
		q.Components = map[string]int{}
	}
	if q.Labels == nil {
		q.Labels = map[string]string{}
	}
	if q.Providers == nil {
		q.Providers = []ProviderInfo{}
	}
	return model.Marshal(q)
}

// InstanceInfo is one annotation set's instance count on a host.
type InstanceInfo struct {
	Annotations map[string]string `json:"annotations"`
	Count       int               `json:"count"`
}

// ComponentRecord is a component_<lattice> entry.
type ComponentRecord struct {
	ID        string                    `json:"id"`
	Name      string                    `json:"name"`
	Issuer    string                    `json:"issuer"`
	Instances map[string][]InstanceInfo `json:"instances"`
	Reference string                    `json:"reference"`
}

// ProviderRecord is a provider_<lattice> entry.
type ProviderRecord struct {
	ID        string                    `json:"id"`
	Name      string                    `json:"name"`
	Issuer    string                    `json:"issuer"`
	Reference string                    `json:"reference"`
	Hosts     map[string]ProviderStatus `json:"hosts"`
	// Unhealthy (wash only; upstream ignores it) keeps, by host, the reason a host gave
	// with its health_check_failed (a built-in provider that could not apply a link), so
	// the app status can say why.
	Unhealthy map[string]string `json:"unhealthy,omitempty"`
	// AwaitingHealth (wash only) lists the hosts whose provider_started promised a health
	// report (reports_health) that has not come yet: until it does, the provider is not
	// counted as deployed there.
	AwaitingHealth map[string]bool `json:"awaiting_health,omitempty"`
}
