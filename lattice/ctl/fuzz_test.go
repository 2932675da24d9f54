package ctl

import (
	"encoding/json"
	"testing"
)

// FuzzDecode feeds bytes from the network to every control-interface type: requests the host
// decodes and replies the CLI decodes (the envelope and its response payloads). Decoding may
// fail; it must not panic, and what decodes must encode again.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"success":true,"message":"","response":{"components":[],"providers":[],"host_id":"N","labels":{},"friendly_name":"x","version":"1.9.2","uptime_human":"1s","uptime_seconds":1}}`,
		`{"component_ref":"file:///x.wasm","component_id":"c","max_instances":3,"annotations":{"a":"b"},"config":["c1"],"allow_update":true}`,
		`{"provider_ref":"wasmcloud+builtin://http-server","provider_id":"p","host_id":"N","config":["x"],"annotations":{}}`,
		`{"provider_id":"p","host_id":"N"}`, `{"host_id":"N","timeout":1000}`,
		`{"source_id":"a","target":"b","name":"default","wit_namespace":"wasi","wit_package":"http","interfaces":["incoming-handler"],"source_config":["c"],"target_config":[]}`,
		`{"component_ref":"r","component_id":"c","constraints":{"zone":"x"}}`,
		`{"key":"k","value":"v"}`, `{"reg":{"username":"u","password":"p","token":"t"}}`,
		`{"url":"file:///x","links":[{"source_id":"a","target":"b"}]}`, `[]`, `null`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		targets := []any{
			&Response{}, &Host{}, &HostInventory{}, &ComponentDescription{}, &ProviderDescription{},
			&ScaleComponentCommand{}, &UpdateComponentCommand{}, &StartProviderCommand{},
			&StopProviderCommand{}, &StopHostCommand{}, &ComponentAuctionRequest{},
			&ComponentAuctionAck{}, &ProviderAuctionRequest{}, &ProviderAuctionAck{}, &HostLabel{},
			&HostLabelIdentifier{}, &Link{}, &DeleteLinkRequest{}, &ComponentSpecification{},
			&map[string]RegistryCredential{}, &[]Link{}, &[]HostInventory{},
		}
		for _, v := range targets {
			if json.Unmarshal(b, v) != nil {
				continue
			}
			if _, err := json.Marshal(v); err != nil {
				t.Fatalf("%T decoded but does not encode: %v", v, err)
			}
		}
		var l Link
		if json.Unmarshal(b, &l) == nil {
			_ = l.Normalized()
		}
		_ = CheckName("name", string(b))
		_ = CheckLatticeName(string(b))
	})
}
