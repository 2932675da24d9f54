package providers

import (
	"cmp"

	"github.com/wasmlattice/wash/lattice/secrets"
)

// InterfaceLinkDefinition is a link resolved for a provider (control-interface reference
// §5.4): config names replaced by their merged values. Native providers receive it on
// wasmbus.rpc.<lattice>.<key>.linkdefs.put/del and in HostData; built-in providers get the same
// value in process.
type InterfaceLinkDefinition struct {
	SourceID      string            `json:"source_id"`
	Target        string            `json:"target"`
	Name          string            `json:"name"`
	WitNamespace  string            `json:"wit_namespace"`
	WitPackage    string            `json:"wit_package"`
	Interfaces    []string          `json:"interfaces"`
	SourceConfig  map[string]string `json:"source_config"`
	TargetConfig  map[string]string `json:"target_config"`
	SourceSecrets ByteArray         `json:"source_secrets"`
	TargetSecrets ByteArray         `json:"target_secrets"`
}

// ByteArray is bytes as serde writes Vec<u8>: a JSON array of numbers (null when nil).
type ByteArray = secrets.ByteArray

// Normalized fills the defaults the wire format implies (name "default", empty maps).
func (l InterfaceLinkDefinition) Normalized() InterfaceLinkDefinition {
	l.Name = cmp.Or(l.Name, "default")
	l.Interfaces = nonNilSlice(l.Interfaces)
	l.SourceConfig = nonNilMap(l.SourceConfig)
	l.TargetConfig = nonNilMap(l.TargetConfig)
	return l
}

// nonNilMap is m, or an empty map for nil: the wire format's required maps are {}, never null.
func nonNilMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}

// nonNilSlice is s, or an empty slice for nil: the wire format's required lists are [], never
// null.
func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
