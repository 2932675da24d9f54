package events

import (
	"encoding/json"

	"github.com/wasmlattice/wash/lattice/ctl"
)

// The data payloads, with keys exactly as the 1.9.2 host writes them.

// HostStartedData is the data of host_started.
type HostStartedData struct {
	FriendlyName  string            `json:"friendly_name"`
	Labels        map[string]string `json:"labels"`
	UptimeSeconds uint64            `json:"uptime_seconds"`
	Version       string            `json:"version"`
}

// HostStoppedData is the data of host_stopped.
type HostStoppedData struct {
	Labels map[string]string `json:"labels"`
}

// ComponentClaims are the component claims carried by component_scaled; the *_human values are
// epoch seconds as strings or "never", as upstream sends them.
type ComponentClaims struct {
	CallAlias      *string  `json:"call_alias"`
	Issuer         string   `json:"issuer"`
	Tags           []string `json:"tags"`
	Name           *string  `json:"name"`
	Version        *string  `json:"version"`
	Revision       *int32   `json:"revision"`
	NotBeforeHuman string   `json:"not_before_human"`
	ExpiresHuman   string   `json:"expires_human"`
	// NoMetadata marks claims without wascap metadata: upstream then sends only issuer and
	// the two dates (host/src/wasmbus/event.rs:13-41).
	NoMetadata bool `json:"-"`
}

// MarshalJSON leaves out the metadata keys of claims that have none.
func (c ComponentClaims) MarshalJSON() ([]byte, error) {
	if c.NoMetadata {
		return json.Marshal(map[string]string{"issuer": c.Issuer, "not_before_human": c.NotBeforeHuman, "expires_human": c.ExpiresHuman})
	}
	type plain ComponentClaims
	return json.Marshal(plain(c))
}

// ComponentScaledData is the data of component_scaled. PublicKey and Claims appear only when
// the component carries claims.
type ComponentScaledData struct {
	PublicKey    string            `json:"public_key,omitempty"`
	Claims       *ComponentClaims  `json:"claims,omitempty"`
	Annotations  map[string]string `json:"annotations"`
	HostID       string            `json:"host_id"`
	ImageRef     string            `json:"image_ref"`
	MaxInstances uint32            `json:"max_instances"`
	ComponentID  string            `json:"component_id"`
}

// ComponentScaleFailedData is the data of component_scale_failed.
type ComponentScaleFailedData struct {
	PublicKey    string            `json:"public_key,omitempty"`
	Annotations  map[string]string `json:"annotations"`
	HostID       string            `json:"host_id"`
	ImageRef     string            `json:"image_ref"`
	MaxInstances uint32            `json:"max_instances"`
	ComponentID  string            `json:"component_id"`
	Error        string            `json:"error"`
}

// ProviderClaims are the provider claims carried by provider_started.
type ProviderClaims struct {
	Issuer         string   `json:"issuer"`
	Tags           []string `json:"tags"`
	Name           string   `json:"name"`
	Version        string   `json:"version"`
	NotBeforeHuman string   `json:"not_before_human"`
	ExpiresHuman   string   `json:"expires_human"`
}

// ProviderStartedData is the data of provider_started. With claims, the legacy instance_id,
// public_key (both = provider id) and link_name keys are present too.
type ProviderStartedData struct {
	HostID      string            `json:"host_id"`
	ImageRef    string            `json:"image_ref"`
	ProviderID  string            `json:"provider_id"`
	Annotations map[string]string `json:"annotations"`
	Claims      *ProviderClaims   `json:"claims,omitempty"`
	InstanceID  string            `json:"instance_id,omitempty"`
	PublicKey   string            `json:"public_key,omitempty"`
	LinkName    string            `json:"link_name,omitempty"`
	// BuiltinTwin (wash only) names the built-in provider running in place of ImageRef,
	// which the host could not fetch (wash up --builtin-twins).
	BuiltinTwin string `json:"builtin_twin,omitempty"`
	// ReportsHealth (wash only) promises a health event (health_check_passed, or
	// health_check_failed with the reason) right after this one, once the provider has been
	// handed the links it starts with: wash's wadm does not count the provider as deployed
	// before it. Upstream wadm ignores the field.
	ReportsHealth bool `json:"reports_health,omitempty"`
}

// ProviderStartFailedData is the data of provider_start_failed.
type ProviderStartFailedData struct {
	ProviderRef string `json:"provider_ref"`
	ProviderID  string `json:"provider_id"`
	HostID      string `json:"host_id"`
	Error       string `json:"error"`
	LinkName    string `json:"link_name"`
}

// ProviderStoppedData is the data of provider_stopped.
type ProviderStoppedData struct {
	HostID      string            `json:"host_id"`
	ProviderID  string            `json:"provider_id"`
	Annotations map[string]string `json:"annotations"`
	Reason      string            `json:"reason"`
	InstanceID  string            `json:"instance_id"`
	PublicKey   string            `json:"public_key"`
	LinkName    string            `json:"link_name"`
}

// HealthCheckData is the data of the health_check_* events.
type HealthCheckData struct {
	HostID     string `json:"host_id"`
	ProviderID string `json:"provider_id"`
	// Message says why a built-in provider is unhealthy (a link it could not apply); upstream
	// sends no such field and wadm ignores it.
	Message string `json:"message,omitempty"`
}

// LinkdefSetFailedData is linkdef_set_failed: a link plus the error.
type LinkdefSetFailedData struct {
	ctl.Link
	Error string `json:"error"`
}

// MarshalJSON keeps the link's own normalisation and adds the error key.
func (d LinkdefSetFailedData) MarshalJSON() ([]byte, error) {
	l := d.Link.Normalized()
	return json.Marshal(map[string]any{
		"source_id": l.SourceID, "target": l.Target, "name": l.Name,
		"wit_namespace": l.WitNamespace, "wit_package": l.WitPackage,
		"interfaces": l.Interfaces, "source_config": l.SourceConfig, "target_config": l.TargetConfig,
		"error": d.Error,
	})
}

// LinkdefDeletedData is linkdef_deleted; Target and Interfaces appear only if a link was removed
// (Removed, or a non-empty Target), and then interfaces is a list even when empty
// (upstream host/src/wasmbus/event.rs:130-157).
type LinkdefDeletedData struct {
	SourceID     string   `json:"source_id"`
	Name         string   `json:"name"`
	WitNamespace string   `json:"wit_namespace"`
	WitPackage   string   `json:"wit_package"`
	Target       string   `json:"target,omitempty"`
	Interfaces   []string `json:"interfaces,omitempty"`
	Removed      bool     `json:"-"`
}

// MarshalJSON writes target and interfaces together, only for a removed link.
func (d LinkdefDeletedData) MarshalJSON() ([]byte, error) {
	m := map[string]any{"source_id": d.SourceID, "name": d.Name, "wit_namespace": d.WitNamespace, "wit_package": d.WitPackage}
	if d.Removed || d.Target != "" {
		ifaces := d.Interfaces
		if ifaces == nil {
			ifaces = []string{}
		}
		m["target"], m["interfaces"] = d.Target, ifaces
	}
	return json.Marshal(m)
}

// ConfigData is the data of config_set and config_deleted.
type ConfigData struct {
	ConfigName string `json:"config_name"`
}

// LabelsChangedData is the data of labels_changed.
type LabelsChangedData struct {
	HostID string            `json:"host_id"`
	Labels map[string]string `json:"labels"`
}
