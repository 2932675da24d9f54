package ctl

import (
	"encoding/json"
	"testing"
)

// The expected strings are the worked examples and field tables of
// shared/reference/control-interface.md (§2.3, §3, §5.2, §8a), byte for byte.

const hostID = "NBXXXHOSTIDFORGOLDENTESTS2345672345672345672345672345672"

func TestGoldenRequests(t *testing.T) {
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"scale (8a)", ScaleComponentCommand{ComponentRef: "ghcr.io/acme/hello:0.1.0", ComponentID: "hello",
			Annotations: map[string]string{"wasmcloud.dev/appspec": "app"}, Count: 1, HostID: hostID, Config: []string{"hello-cfg"}},
			`{"component_ref":"ghcr.io/acme/hello:0.1.0","component_id":"hello","annotations":{"wasmcloud.dev/appspec":"app"},"count":1,"host_id":"` + hostID + `","config":["hello-cfg"],"allow_update":false}`},
		{"scale without optionals sends config []", ScaleComponentCommand{ComponentRef: "file:///c.wasm", ComponentID: "c", Count: 0, HostID: hostID},
			`{"component_ref":"file:///c.wasm","component_id":"c","count":0,"host_id":"` + hostID + `","config":[],"allow_update":false}`},
		{"scale with limits", ScaleComponentCommand{ComponentRef: "r", ComponentID: "c", Count: Unbounded, HostID: hostID,
			ComponentLimits: map[string]string{"max_memory_limit": "1048576", "max_execution_time": "5"}},
			`{"component_ref":"r","component_id":"c","count":4294967295,"component_limits":{"max_execution_time":"5","max_memory_limit":"1048576"},"host_id":"` + hostID + `","config":[],"allow_update":false}`},
		{"link put (8a)", Link{SourceID: "http", Target: "hello", Name: "default", WitNamespace: "wasi", WitPackage: "http",
			Interfaces: []string{"incoming-handler"}, SourceConfig: []string{"http-addr"}},
			`{"source_id":"http","target":"hello","name":"default","wit_namespace":"wasi","wit_package":"http","interfaces":["incoming-handler"],"source_config":["http-addr"],"target_config":[]}`},
		{"link defaults name", Link{SourceID: "a", Target: "b", WitNamespace: "wasi", WitPackage: "keyvalue", Interfaces: []string{"store"}},
			`{"source_id":"a","target":"b","name":"default","wit_namespace":"wasi","wit_package":"keyvalue","interfaces":["store"],"source_config":[],"target_config":[]}`},
		{"link del", DeleteLinkRequest{SourceID: "a", Name: "default", WitNamespace: "wasi", WitPackage: "http"},
			`{"source_id":"a","name":"default","wit_namespace":"wasi","wit_package":"http"}`},
		{"start provider", StartProviderCommand{ProviderID: "http", ProviderRef: "wasmcloud+builtin://http-server", HostID: hostID},
			`{"provider_id":"http","provider_ref":"wasmcloud+builtin://http-server","host_id":"` + hostID + `","config":[]}`},
		{"stop provider", StopProviderCommand{HostID: hostID, ProviderID: "http"},
			`{"host_id":"` + hostID + `","provider_id":"http"}`},
		{"stop host", StopHostCommand{HostID: hostID, Timeout: ptr(uint64(5000))},
			`{"host_id":"` + hostID + `","timeout":5000}`},
		{"stop host without timeout", StopHostCommand{HostID: hostID}, `{"host_id":"` + hostID + `"}`},
		{"update", UpdateComponentCommand{ComponentID: "c", HostID: hostID, NewComponentRef: "r2"},
			`{"component_id":"c","host_id":"` + hostID + `","new_component_ref":"r2"}`},
		{"component auction", ComponentAuctionRequest{ComponentRef: "r", ComponentID: "c", Constraints: map[string]string{"zone": "east"}},
			`{"component_ref":"r","component_id":"c","constraints":{"zone":"east"}}`},
		{"provider auction", ProviderAuctionRequest{ProviderRef: "r", ProviderID: "p", Constraints: map[string]string{}},
			`{"provider_ref":"r","provider_id":"p","constraints":{}}`},
		{"label put", HostLabel{Key: "zone", Value: "east"}, `{"key":"zone","value":"east"}`},
		{"label del", HostLabelIdentifier{Key: "zone"}, `{"key":"zone"}`},
		{"registry credential", map[string]RegistryCredential{"ghcr.io": {Username: ptr("u"), Password: ptr("p"), RegistryType: "oci"}},
			`{"ghcr.io":{"username":"u","password":"p","registryType":"oci"}}`},
		{"component spec", ComponentSpecification{URL: ""}, `{"url":"","links":[]}`},
	}
	for _, tc := range cases {
		b, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, b, tc.want)
		}
	}
}

func TestGoldenReplies(t *testing.T) {
	inv := HostInventory{
		Components: []ComponentDescription{{ID: "hello", ImageRef: "ghcr.io/acme/hello:0.1.0", MaxInstances: 1}},
		Providers:  []ProviderDescription{{ID: "http", ImageRef: "ghcr.io/wasmcloud/http-server:0.23.0", Name: "HTTP Server"}},
		HostID:     hostID, FriendlyName: "quiet-river-0042",
		Labels:  map[string]string{"hostcore.arch": "x86_64", "hostcore.os": "linux", "hostcore.osfamily": "unix"},
		Version: "1.9.2", UptimeHuman: "2m 5s", UptimeSeconds: 125,
	}
	b, _ := json.Marshal(OK(inv))
	want := `{"success":true,"message":"","response":{"components":[{"id":"hello","image_ref":"ghcr.io/acme/hello:0.1.0","annotations":{},"revision":0,"max_instances":1,"limits":null}],"providers":[{"id":"http","image_ref":"ghcr.io/wasmcloud/http-server:0.23.0","name":"HTTP Server","revision":0,"annotations":{}}],"host_id":"` + hostID + `","friendly_name":"quiet-river-0042","labels":{"hostcore.arch":"x86_64","hostcore.os":"linux","hostcore.osfamily":"unix"},"version":"1.9.2","uptime_human":"2m 5s","uptime_seconds":125}}`
	if string(b) != want {
		t.Errorf("inventory reply (8a):\n got %s\nwant %s", b, want)
	}

	ping := Host{RPCHost: "nats://127.0.0.1:4222", CtlHost: "nats://127.0.0.1:4222", FriendlyName: "floral-forest-3510", ID: hostID,
		Labels: map[string]string{"zone": "east"}, Lattice: "default", UptimeHuman: "45s", UptimeSeconds: 45, Version: "1.9.2"}
	b, _ = json.Marshal(OK(ping))
	want = `{"success":true,"message":"","response":{"rpc_host":"nats://127.0.0.1:4222","ctl_host":"nats://127.0.0.1:4222","friendly_name":"floral-forest-3510","id":"` + hostID + `","labels":{"zone":"east"},"lattice":"default","uptime_human":"45s","uptime_seconds":45,"version":"1.9.2"}}`
	if string(b) != want {
		t.Errorf("ping reply (3.1):\n got %s\nwant %s", b, want)
	}
	for _, tc := range []struct {
		r    Response
		want string
	}{
		{Success("successfully put label"), `{"success":true,"message":"successfully put label"}`},
		{Fail("unsupported subject"), `{"success":false,"message":"unsupported subject"}`},
		{OK(ComponentAuctionAck{ComponentRef: "r", ComponentID: "c", HostID: hostID, Constraints: map[string]string{}}),
			`{"success":true,"message":"","response":{"component_ref":"r","component_id":"c","host_id":"` + hostID + `","constraints":{}}}`},
		{OK(ProviderAuctionAck{HostID: hostID, ProviderRef: "r", ProviderID: "p", Constraints: map[string]string{}}),
			`{"success":true,"message":"","response":{"host_id":"` + hostID + `","provider_ref":"r","provider_id":"p","constraints":{}}}`},
	} {
		b, _ := json.Marshal(tc.r)
		if string(b) != tc.want {
			t.Errorf("got %s\nwant %s", b, tc.want)
		}
	}
}

func TestDecodeDefaults(t *testing.T) {
	// A host must accept requests that leave out defaulted fields, and legacy aliases.
	var inv HostInventory
	if err := json.Unmarshal([]byte(`{"actors":[{"id":"a","image_ref":"r","revision":0,"max_instances":1,"limits":null}],"providers":[]}`), &inv); err != nil {
		t.Fatal(err)
	}
	if len(inv.Components) != 1 || inv.Components[0].ID != "a" {
		t.Fatalf("actors alias not read: %+v", inv)
	}
	var stop StopProviderCommand
	if err := json.Unmarshal([]byte(`{"provider_ref":"p"}`), &stop); err != nil || stop.ProviderID != "p" {
		t.Fatalf("provider_ref alias: %+v %v", stop, err)
	}
	var l Link
	_ = json.Unmarshal([]byte(`{"source_id":"a","target":"b","wit_namespace":"w","wit_package":"p","interfaces":["i"]}`), &l)
	if n := l.Normalized(); n.Name != "default" || n.SourceConfig == nil {
		t.Fatalf("link defaults: %+v", n)
	}
}

func TestIsHostID(t *testing.T) {
	if !IsHostID(hostID) {
		t.Fatal("valid id refused")
	}
	for _, bad := range []string{"", "N", "MBXXX" + hostID[5:], hostID + "A", "nbxxx" + hostID[5:]} {
		if IsHostID(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func ptr[T any](v T) *T { return &v }
