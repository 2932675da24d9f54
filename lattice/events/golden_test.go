package events

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/lattice/ctl"
)

// Expected payloads follow shared/reference/control-interface.md §4.2 and §8a: keys sorted at
// every depth, as serde_json writes the host's json!{} values.

const hid = "NBXXXHOSTIDFORGOLDENTESTS2345672345672345672345672345672"

func strp(s string) *string { return &s }

func TestGoldenEventData(t *testing.T) {
	link := ctl.Link{SourceID: "http", Target: "hello", WitNamespace: "wasi", WitPackage: "http", Interfaces: []string{"incoming-handler"}, SourceConfig: []string{"http-addr"}}
	rev := int32(3)
	cases := []struct {
		name string
		data any
		want string
	}{
		{HostStarted, HostStartedData{FriendlyName: "quiet-river-0042", Labels: map[string]string{"hostcore.os": "linux"}, Version: "1.9.2"},
			`{"friendly_name":"quiet-river-0042","labels":{"hostcore.os":"linux"},"uptime_seconds":0,"version":"1.9.2"}`},
		{HostStopped, HostStoppedData{Labels: map[string]string{"zone": "east"}}, `{"labels":{"zone":"east"}}`},
		{ComponentScaled + " (8a)", ComponentScaledData{Annotations: map[string]string{"wasmcloud.dev/appspec": "app"}, HostID: hid, ImageRef: "ghcr.io/acme/hello:0.1.0", MaxInstances: 1, ComponentID: "hello"},
			`{"annotations":{"wasmcloud.dev/appspec":"app"},"component_id":"hello","host_id":"` + hid + `","image_ref":"ghcr.io/acme/hello:0.1.0","max_instances":1}`},
		{ComponentScaled + " with claims", ComponentScaledData{PublicKey: "MABC", Claims: &ComponentClaims{CallAlias: nil, Issuer: "AISS", Tags: nil, Name: strp("hello"), Version: strp("0.1.0"), Revision: &rev, NotBeforeHuman: "never", ExpiresHuman: "never"},
			Annotations: map[string]string{}, HostID: hid, ImageRef: "r", MaxInstances: 2, ComponentID: "c"},
			`{"annotations":{},"claims":{"call_alias":null,"expires_human":"never","issuer":"AISS","name":"hello","not_before_human":"never","revision":3,"tags":null,"version":"0.1.0"},"component_id":"c","host_id":"` + hid + `","image_ref":"r","max_instances":2,"public_key":"MABC"}`},
		// upstream host/src/wasmbus/event.rs:34-39: claims without wascap metadata carry only
		// the issuer and the two dates
		{ComponentScaled + " claims without metadata", ComponentScaledData{PublicKey: "MABC", Claims: &ComponentClaims{Issuer: "AISS", NotBeforeHuman: "1700000000", ExpiresHuman: "never", NoMetadata: true},
			Annotations: map[string]string{}, HostID: hid, ImageRef: "r", MaxInstances: 1, ComponentID: "c"},
			`{"annotations":{},"claims":{"expires_human":"never","issuer":"AISS","not_before_human":"1700000000"},"component_id":"c","host_id":"` + hid + `","image_ref":"r","max_instances":1,"public_key":"MABC"}`},
		// event.rs:81-90: public_key but no claims key when the failing component is signed
		{ComponentScaleFailed + " signed", ComponentScaleFailedData{PublicKey: "MABC", Annotations: map[string]string{}, HostID: hid, ImageRef: "r", MaxInstances: 1, ComponentID: "c", Error: "e"},
			`{"annotations":{},"component_id":"c","error":"e","host_id":"` + hid + `","image_ref":"r","max_instances":1,"public_key":"MABC"}`},
		{ComponentScaleFailed, ComponentScaleFailedData{Annotations: map[string]string{}, HostID: hid, ImageRef: "r", MaxInstances: 1, ComponentID: "c", Error: "failed to fetch: <not found>"},
			`{"annotations":{},"component_id":"c","error":"failed to fetch: <not found>","host_id":"` + hid + `","image_ref":"r","max_instances":1}`},
		{ProviderStarted, ProviderStartedData{HostID: hid, ImageRef: "http-server", ProviderID: "http", Annotations: map[string]string{}},
			`{"annotations":{},"host_id":"` + hid + `","image_ref":"http-server","provider_id":"http"}`},
		{ProviderStarted + " with claims", ProviderStartedData{HostID: hid, ImageRef: "/p.par.gz", ProviderID: "p", Annotations: map[string]string{},
			Claims: &ProviderClaims{Issuer: "AISS", Name: "P", Version: "1.0", NotBeforeHuman: "never", ExpiresHuman: "never"}, InstanceID: "p", PublicKey: "p", LinkName: "default"},
			`{"annotations":{},"claims":{"expires_human":"never","issuer":"AISS","name":"P","not_before_human":"never","tags":null,"version":"1.0"},"host_id":"` + hid + `","image_ref":"/p.par.gz","instance_id":"p","link_name":"default","provider_id":"p","public_key":"p"}`},
		{ProviderStartFailed, ProviderStartFailedData{ProviderRef: "oci://x", ProviderID: "p", HostID: hid, Error: "boom", LinkName: "default"},
			`{"error":"boom","host_id":"` + hid + `","link_name":"default","provider_id":"p","provider_ref":"oci://x"}`},
		{ProviderStopped, ProviderStoppedData{HostID: hid, ProviderID: "p", Annotations: map[string]string{}, Reason: "stop", InstanceID: "p", PublicKey: "p", LinkName: "default"},
			`{"annotations":{},"host_id":"` + hid + `","instance_id":"p","link_name":"default","provider_id":"p","public_key":"p","reason":"stop"}`},
		{HealthCheckPassed, HealthCheckData{HostID: hid, ProviderID: "p"}, `{"host_id":"` + hid + `","provider_id":"p"}`},
		{LinkdefSet, link,
			`{"interfaces":["incoming-handler"],"name":"default","source_config":["http-addr"],"source_id":"http","target":"hello","target_config":[],"wit_namespace":"wasi","wit_package":"http"}`},
		{LinkdefSetFailed, LinkdefSetFailedData{Link: link, Error: "link already exists with different target"},
			`{"error":"link already exists with different target","interfaces":["incoming-handler"],"name":"default","source_config":["http-addr"],"source_id":"http","target":"hello","target_config":[],"wit_namespace":"wasi","wit_package":"http"}`},
		{LinkdefDeleted + " removed", LinkdefDeletedData{SourceID: "http", Name: "default", WitNamespace: "wasi", WitPackage: "http", Target: "hello", Interfaces: []string{"incoming-handler"}},
			`{"interfaces":["incoming-handler"],"name":"default","source_id":"http","target":"hello","wit_namespace":"wasi","wit_package":"http"}`},
		// event.rs:140-148: a removed link with no interfaces still lists them, empty
		{LinkdefDeleted + " removed, no interfaces", LinkdefDeletedData{SourceID: "a", Name: "default", WitNamespace: "wasi", WitPackage: "kv", Target: "b", Removed: true},
			`{"interfaces":[],"name":"default","source_id":"a","target":"b","wit_namespace":"wasi","wit_package":"kv"}`},
		{LinkdefDeleted + " nothing removed", LinkdefDeletedData{SourceID: "http", Name: "default", WitNamespace: "wasi", WitPackage: "http"},
			`{"name":"default","source_id":"http","wit_namespace":"wasi","wit_package":"http"}`},
		{ConfigSet, ConfigData{ConfigName: "cfg"}, `{"config_name":"cfg"}`},
		{LabelsChanged, LabelsChangedData{HostID: hid, Labels: map[string]string{"b": "2", "a": "1"}}, `{"host_id":"` + hid + `","labels":{"a":"1","b":"2"}}`},
		{HostHeartbeat, ctl.HostInventory{HostID: hid, FriendlyName: "f", Version: "1.9.2", UptimeHuman: "0s",
			Components: []ctl.ComponentDescription{{ID: "c", ImageRef: "r", MaxInstances: 1}}},
			`{"components":[{"annotations":{},"id":"c","image_ref":"r","limits":null,"max_instances":1,"revision":0}],"friendly_name":"f","host_id":"` + hid + `","labels":{},"providers":[],"uptime_human":"0s","uptime_seconds":0,"version":"1.9.2"}`},
	}
	for _, tc := range cases {
		ev, err := New(strings.Fields(tc.name)[0], hid, tc.data)
		if err != nil {
			t.Fatal(err)
		}
		if string(ev.Data) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, ev.Data, tc.want)
		}
	}
}

func TestEnvelope(t *testing.T) {
	ev, err := New(ComponentScaled, hid, ConfigData{ConfigName: "x"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ctl.Marshal(ev)
	re := regexp.MustCompile(`^\{"specversion":"1\.0","id":"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}","type":"com\.wasmcloud\.lattice\.component_scaled","source":"` + hid + `","datacontenttype":"application/json","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z","data":\{"config_name":"x"\}\}$`)
	if !re.Match(b) {
		t.Fatalf("envelope %s does not match the CloudEvents 1.0 shape", b)
	}
	back, err := Parse(b)
	if err != nil || back.Name() != ComponentScaled || back.Source != hid || back.ParsedTime().IsZero() {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	var data map[string]string
	_ = json.Unmarshal(back.Data, &data)
	if data["config_name"] != "x" {
		t.Fatal(data)
	}
	if _, err := Parse([]byte(`{"nope":1}`)); err == nil {
		t.Fatal("envelope without type accepted")
	}
}
