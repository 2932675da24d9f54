package providers

import (
	"encoding/json"
	"fmt"
	"strconv"
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
	var nums []uint8
	var ints []int
	if err := json.Unmarshal(data, &ints); err != nil {
		return fmt.Errorf("secrets: expected an array of bytes: %w", err)
	}
	for _, n := range ints {
		if n < 0 || n > 255 {
			return fmt.Errorf("secrets: %d is not a byte", n)
		}
		nums = append(nums, uint8(n))
	}
	*b = nums
	return nil
}

// Normalized fills the defaults the wire format implies (name "default", empty maps).
func (l InterfaceLinkDefinition) Normalized() InterfaceLinkDefinition {
	if l.Name == "" {
		l.Name = "default"
	}
	if l.Interfaces == nil {
		l.Interfaces = []string{}
	}
	if l.SourceConfig == nil {
		l.SourceConfig = map[string]string{}
	}
	if l.TargetConfig == nil {
		l.TargetConfig = map[string]string{}
	}
	return l
}
