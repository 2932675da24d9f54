// Package ctl holds the wasmCloud 1.x control-interface types, exactly as they appear on the wire,
// and a client for every control subject.
package ctl

import (
	"encoding/json"
	"fmt"
)

// Response is the envelope every control reply uses: {"success","message","response"?}.
type Response struct {
	Success  bool            `json:"success"`
	Message  string          `json:"message"`
	Response json.RawMessage `json:"response,omitempty"`
}

// OK builds a data-carrying success envelope.
func OK(v any) Response {
	b, err := json.Marshal(v)
	if err != nil {
		return Fail(fmt.Sprintf("failed to serialize response: %v", err))
	}
	return Response{Success: true, Response: b}
}

// Success builds a message-only success envelope.
func Success(msg string) Response { return Response{Success: true, Message: msg} }

// Fail builds an error envelope.
func Fail(msg string) Response { return Response{Success: false, Message: msg} }

// Host is one host's answer to host.ping.
type Host struct {
	RPCHost       string            `json:"rpc_host,omitempty"`
	CtlHost       string            `json:"ctl_host,omitempty"`
	FriendlyName  string            `json:"friendly_name"`
	ID            string            `json:"id"`
	JSDomain      string            `json:"js_domain,omitempty"`
	Labels        map[string]string `json:"labels"`
	Lattice       string            `json:"lattice"`
	UptimeHuman   string            `json:"uptime_human,omitempty"`
	UptimeSeconds uint64            `json:"uptime_seconds"`
	Version       string            `json:"version,omitempty"`
}

// HostInventory is the reply to host.get and the data of host_heartbeat.
type HostInventory struct {
	Components    []ComponentDescription `json:"components"`
	Providers     []ProviderDescription  `json:"providers"`
	HostID        string                 `json:"host_id"`
	FriendlyName  string                 `json:"friendly_name"`
	Labels        map[string]string      `json:"labels"`
	Version       string                 `json:"version"`
	UptimeHuman   string                 `json:"uptime_human"`
	UptimeSeconds uint64                 `json:"uptime_seconds"`
}

// UnmarshalJSON accepts the legacy "actors" key for components.
func (h *HostInventory) UnmarshalJSON(b []byte) error {
	type plain HostInventory
	var aux struct {
		plain
		Actors []ComponentDescription `json:"actors"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*h = HostInventory(aux.plain)
	if h.Components == nil && aux.Actors != nil {
		h.Components = aux.Actors
	}
	return nil
}

// MarshalJSON writes empty lists and maps rather than null, as the Rust host does.
func (h HostInventory) MarshalJSON() ([]byte, error) {
	type plain HostInventory
	p := plain(h)
	if p.Components == nil {
		p.Components = []ComponentDescription{}
	}
	if p.Providers == nil {
		p.Providers = []ProviderDescription{}
	}
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	return json.Marshal(p)
}

// ComponentDescription is one component in an inventory. Limits is written as null when unset.
type ComponentDescription struct {
	ID           string            `json:"id"`
	ImageRef     string            `json:"image_ref"`
	Name         string            `json:"name,omitempty"`
	Annotations  map[string]string `json:"annotations"`
	Revision     int32             `json:"revision"`
	MaxInstances uint32            `json:"max_instances"`
	Limits       map[string]string `json:"limits"`
}

// MarshalJSON writes annotations as {} when empty (the host always sends the key).
func (c ComponentDescription) MarshalJSON() ([]byte, error) {
	type plain ComponentDescription
	p := plain(c)
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	return json.Marshal(p)
}

// ProviderDescription is one provider in an inventory.
type ProviderDescription struct {
	ID          string            `json:"id"`
	ImageRef    string            `json:"image_ref,omitempty"`
	Name        string            `json:"name,omitempty"`
	Revision    int32             `json:"revision"`
	Annotations map[string]string `json:"annotations"`
}

// MarshalJSON writes annotations as {} when empty.
func (p ProviderDescription) MarshalJSON() ([]byte, error) {
	type plain ProviderDescription
	q := plain(p)
	if q.Annotations == nil {
		q.Annotations = map[string]string{}
	}
	return json.Marshal(q)
}

// Unbounded is the max_instances value that means "no concurrency limit".
const Unbounded uint32 = 4294967295

// ScaleComponentCommand asks a host to run a component with at most Count concurrent
// invocations. The wire key is "count"; a "max_instances" key is ignored by hosts.
type ScaleComponentCommand struct {
	ComponentRef    string            `json:"component_ref"`
	ComponentID     string            `json:"component_id"`
	Annotations     map[string]string `json:"annotations,omitempty"`
	Count           uint32            `json:"count"`
	ComponentLimits map[string]string `json:"component_limits,omitempty"`
	HostID          string            `json:"host_id"`
	Config          []string          `json:"config"`
	AllowUpdate     bool              `json:"allow_update"`
}

// MarshalJSON sends config as [] rather than null: the Rust host rejects null for a list.
func (c ScaleComponentCommand) MarshalJSON() ([]byte, error) {
	type plain ScaleComponentCommand
	p := plain(c)
	if p.Config == nil {
		p.Config = []string{}
	}
	return json.Marshal(p)
}

// UpdateComponentCommand swaps a running component to a new image.
type UpdateComponentCommand struct {
	ComponentID     string            `json:"component_id"`
	HostID          string            `json:"host_id"`
	NewComponentRef string            `json:"new_component_ref"`
	Annotations     map[string]string `json:"annotations,omitempty"`
}

// StartProviderCommand asks a host to start a capability provider.
type StartProviderCommand struct {
	ProviderID  string            `json:"provider_id"`
	ProviderRef string            `json:"provider_ref"`
	HostID      string            `json:"host_id"`
	Config      []string          `json:"config"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// MarshalJSON sends config as [] rather than null.
func (c StartProviderCommand) MarshalJSON() ([]byte, error) {
	type plain StartProviderCommand
	p := plain(c)
	if p.Config == nil {
		p.Config = []string{}
	}
	return json.Marshal(p)
}

// StopProviderCommand asks a host to stop a provider.
type StopProviderCommand struct {
	HostID     string `json:"host_id"`
	ProviderID string `json:"provider_id"`
}

// UnmarshalJSON accepts the legacy alias "provider_ref" for the provider id.
func (c *StopProviderCommand) UnmarshalJSON(b []byte) error {
	var aux struct {
		HostID      string `json:"host_id"`
		ProviderID  string `json:"provider_id"`
		ProviderRef string `json:"provider_ref"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	c.HostID, c.ProviderID = aux.HostID, aux.ProviderID
	if c.ProviderID == "" {
		c.ProviderID = aux.ProviderRef
	}
	return nil
}

// StopHostCommand asks a host to shut down; Timeout is in milliseconds.
type StopHostCommand struct {
	HostID  string  `json:"host_id"`
	Timeout *uint64 `json:"timeout,omitempty"`
}

// ComponentAuctionRequest asks every host whether it can run a component.
type ComponentAuctionRequest struct {
	ComponentRef string            `json:"component_ref"`
	ComponentID  string            `json:"component_id"`
	Constraints  map[string]string `json:"constraints"`
}

// ComponentAuctionAck is a host's bid.
type ComponentAuctionAck struct {
	ComponentRef string            `json:"component_ref"`
	ComponentID  string            `json:"component_id"`
	HostID       string            `json:"host_id"`
	Constraints  map[string]string `json:"constraints"`
}

// ProviderAuctionRequest asks every host whether it can run a provider.
type ProviderAuctionRequest struct {
	ProviderRef string            `json:"provider_ref"`
	ProviderID  string            `json:"provider_id"`
	Constraints map[string]string `json:"constraints"`
}

// ProviderAuctionAck is a host's bid.
type ProviderAuctionAck struct {
	HostID      string            `json:"host_id"`
	ProviderRef string            `json:"provider_ref"`
	ProviderID  string            `json:"provider_id"`
	Constraints map[string]string `json:"constraints"`
}

// HostLabel sets one label.
type HostLabel struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// HostLabelIdentifier names a label to delete.
type HostLabelIdentifier struct {
	Key string `json:"key"`
}

// Link is the control-interface link definition, also stored in LATTICEDATA specs.
type Link struct {
	SourceID     string   `json:"source_id"`
	Target       string   `json:"target"`
	Name         string   `json:"name"`
	WitNamespace string   `json:"wit_namespace"`
	WitPackage   string   `json:"wit_package"`
	Interfaces   []string `json:"interfaces"`
	SourceConfig []string `json:"source_config"`
	TargetConfig []string `json:"target_config"`
}

// MarshalJSON writes empty lists rather than null and defaults the name.
func (l Link) MarshalJSON() ([]byte, error) {
	type plain Link
	p := plain(l.Normalized())
	return json.Marshal(p)
}

// Normalized fills serde defaults: name "default" and empty lists.
func (l Link) Normalized() Link {
	if l.Name == "" {
		l.Name = "default"
	}
	if l.Interfaces == nil {
		l.Interfaces = []string{}
	}
	if l.SourceConfig == nil {
		l.SourceConfig = []string{}
	}
	if l.TargetConfig == nil {
		l.TargetConfig = []string{}
	}
	return l
}

// DeleteLinkRequest removes a link; its identity is (source, namespace, package, name).
type DeleteLinkRequest struct {
	SourceID     string `json:"source_id"`
	Name         string `json:"name"`
	WitNamespace string `json:"wit_namespace"`
	WitPackage   string `json:"wit_package"`
}

// RegistryCredential authenticates a host to one OCI registry. The type key is camelCase upstream.
type RegistryCredential struct {
	Username     *string `json:"username,omitempty"`
	Password     *string `json:"password,omitempty"`
	Token        *string `json:"token,omitempty"`
	RegistryType string  `json:"registryType"`
}

// ComponentSpecification is the LATTICEDATA value under COMPONENT_<id>: a source's outgoing links.
type ComponentSpecification struct {
	URL   string `json:"url"`
	Links []Link `json:"links"`
}

// MarshalJSON writes links as [] when empty.
func (s ComponentSpecification) MarshalJSON() ([]byte, error) {
	type plain ComponentSpecification
	p := plain(s)
	if p.Links == nil {
		p.Links = []Link{}
	}
	return json.Marshal(p)
}
