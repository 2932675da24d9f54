package wadm

import (
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := model.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func strp(s string) *string { return &s }

func TestStoredManifestJSON(t *testing.T) {
	m1 := mustManifest(t, "oam/sqldbpostgres.yaml")
	m2 := mustManifest(t, fixtureDir+"/simple.yaml")
	m2.Metadata.Annotations[model.VersionAnnotationKey] = "01HABCDEFGHJKMNPQRSTVWXYZ0"
	var s StoredManifest
	if err := s.AddVersion(m2); err != nil {
		t.Fatal(err)
	}
	if err := s.AddVersion(m1); err != nil {
		t.Fatal(err)
	}
	if err := s.AddVersion(m1); err == nil || err.Error() != "Manifest version v0.0.1 already exists: manifest version already exists" {
		t.Fatalf("duplicate: %v", err)
	}
	s.Deployed = strp("v0.0.1")
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	js := string(b)
	j1, _ := m1.MarshalCanonical()
	j2, _ := m2.MarshalCanonical()
	want := `{"manifests":{"01HABCDEFGHJKMNPQRSTVWXYZ0":` + string(j2) + `,"v0.0.1":` + string(j1) + `},"deployed_version":"v0.0.1"}`
	if js != want {
		t.Fatalf("stored:\n got %s\nwant %s", js, want)
	}
	var back StoredManifest
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.VersionInfos(); !reflect.DeepEqual(got, []model.VersionInfo{{Version: "01HABCDEFGHJKMNPQRSTVWXYZ0", Deployed: false}, {Version: "v0.0.1", Deployed: true}}) {
		t.Errorf("versions %v", got)
	}
	if back.Current().Version != "v0.0.1" || back.DeployedManifest() == nil {
		t.Errorf("current/deployed wrong")
	}
	// Insertion order is kept even when not sorted.
	if found, dep := back.DeleteVersion("v0.0.1"); !found || !dep || back.Deployed != nil {
		t.Errorf("delete deployed version")
	}
	// Rust writes spreads without requirements when empty; stored decoding
	// accepts that.
	rust := `{"manifests":{"v1":{"apiVersion":"a","kind":"b","metadata":{"name":"x"},"spec":{"components":[{"name":"c","type":"component","properties":{"image":"i"},"traits":[{"type":"spreadscaler","properties":{"instances":1,"spread":[{"name":"s"}]}}]}]}}},"deployed_version":null}`
	var rs StoredManifest
	if err := json.Unmarshal([]byte(rust), &rs); err != nil {
		t.Fatal(err)
	}
	if sc := rs.Versions[0].Manifest.Spec.Components[0].Traits[0].Properties.Scaler; sc == nil || sc.Spread[0].Requirements == nil {
		t.Errorf("lenient stored decode: %+v", rs.Versions[0].Manifest.Spec.Components[0].Traits[0].Properties)
	}
	if ManifestKey("", "default", "app") != "default-app" || ManifestKey("acct", "default", "app") != "acct-default-app" || ModelSetKey("", "default") != "default" {
		t.Error("manifest keys")
	}
	if HostStateKey("default") != "host_default" || ComponentStateKey("l") != "component_l" || ProviderStateKey("l") != "provider_l" {
		t.Error("state keys")
	}
	if names, _ := json.Marshal([]string{"hello-simple", "rust-sqldb-postgres-query"}); string(names) != `["hello-simple","rust-sqldb-postgres-query"]` {
		t.Error("model set")
	}
}

func TestStateRecordsJSON(t *testing.T) {
	hostJSON := `{"NABC":{"components":{"http_hello_world":4},"friendly_name":"silent-sky-1234","labels":{"region":"us-brooks-east"},"providers":[{"provider_id":"http_server","provider_ref":"ghcr.io/wasmcloud/http-server:0.23.0","annotations":{"wasmcloud.dev/managed-by":"wadm"}}],"uptime_seconds":120,"version":"1.4.0","id":"NABC","last_seen":"2025-03-19T10:00:00.123Z"}}`
	var hosts map[string]HostRecord
	if err := json.Unmarshal([]byte(hostJSON), &hosts); err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, hosts); got != hostJSON {
		t.Errorf("host record:\n got %s\nwant %s", got, hostJSON)
	}
	legacy := `{"actors":{"a":1},"friendly_name":"f","labels":{},"providers":[{"public_key":"p"}],"uptime_seconds":0,"version":null,"id":"N","last_seen":"2025-03-19T10:00:00Z"}`
	var h HostRecord
	if err := json.Unmarshal([]byte(legacy), &h); err != nil || h.Components["a"] != 1 || h.Providers[0].ProviderID != "p" {
		t.Fatalf("legacy host: %v %+v", err, h)
	}
	compJSON := `{"http_hello_world":{"id":"http_hello_world","name":"http-hello-world","issuer":"A","instances":{"NABC":[{"annotations":{"wasmcloud.dev/scaler":"x"},"count":4}]},"reference":"ghcr.io/x:0.1.0"}}`
	var comps map[string]ComponentRecord
	if err := json.Unmarshal([]byte(compJSON), &comps); err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, comps); got != compJSON {
		t.Errorf("component record:\n got %s\nwant %s", got, compJSON)
	}
	provJSON := `{"http_server":{"id":"http_server","name":"HTTP Server","issuer":"A","reference":"ghcr.io/y","hosts":{"NABC":"Running"}}}`
	var provs map[string]ProviderRecord
	if err := json.Unmarshal([]byte(provJSON), &provs); err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, provs); got != provJSON {
		t.Errorf("provider record:\n got %s\nwant %s", got, provJSON)
	}
	s := StateFromRecords(hosts, comps, provs, nil, nil)
	hs := s.Hosts["NABC"]
	if hs == nil || hs.Components["http_hello_world"].Count() != 4 || hs.Providers["http_server"].Health != ProviderRunning || hs.Labels["region"] != "us-brooks-east" {
		t.Errorf("snapshot from records: %+v", hs)
	}
}

func TestCommandJSON(t *testing.T) {
	cases := []struct {
		c    Command
		want string
	}{
		{ScaleComponent{ComponentID: "http_hello_world", HostID: "N1", Count: 4, Reference: "ghcr.io/x:0.1.0", ModelName: "hello-simple", Annotations: map[string]string{model.ScalerAnnotation: "51f5", model.SpreadNameAnnotation: "default"}},
			`{"ScaleComponent":{"component_id":"http_hello_world","host_id":"N1","count":4,"reference":"ghcr.io/x:0.1.0","model_name":"hello-simple","annotations":{"wasmcloud.dev/scaler":"51f5","wasmcloud.dev/spread_name":"default"}}}`},
		{StartProvider{Reference: "r", ProviderID: "p", HostID: "N1", ModelName: "m", Config: []string{"c"}, Annotations: map[string]string{}},
			`{"StartProvider":{"reference":"r","provider_id":"p","host_id":"N1","model_name":"m","config":["c"],"annotations":{}}}`},
		{StopProvider{ProviderID: "p", HostID: "N1", ModelName: "m"},
			`{"StopProvider":{"provider_id":"p","host_id":"N1","model_name":"m","annotations":{}}}`},
		{PutLink{SourceID: "s", Target: "t", Name: "default", WitNamespace: "wasi", WitPackage: "http", Interfaces: []string{"incoming-handler"}, SourceConfig: []string{"hello_simple-httpaddr"}, ModelName: "m"},
			`{"PutLink":{"source_id":"s","target":"t","name":"default","wit_namespace":"wasi","wit_package":"http","interfaces":["incoming-handler"],"source_config":["hello_simple-httpaddr"],"target_config":[],"model_name":"m"}}`},
		{DeleteLink{SourceID: "s", WitNamespace: "wasi", WitPackage: "http", LinkName: "default", ModelName: "m"},
			`{"DeleteLink":{"source_id":"s","wit_namespace":"wasi","wit_package":"http","link_name":"default","model_name":"m"}}`},
		{PutConfig{ConfigName: "c", Config: map[string]string{"k": "v"}}, `{"PutConfig":{"config_name":"c","config":{"k":"v"}}}`},
		{DeleteConfig{ConfigName: "c"}, `{"DeleteConfig":{"config_name":"c"}}`},
	}
	for _, tc := range cases {
		b, err := MarshalCommand(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.c.CommandName(), b, tc.want)
		}
		back, err := UnmarshalCommand(b)
		if err != nil || back.CommandName() != tc.c.CommandName() {
			t.Errorf("round trip %s: %v", tc.c.CommandName(), err)
		}
		b2, _ := MarshalCommand(back)
		if string(b2) != tc.want {
			t.Errorf("round trip %s: %s", tc.c.CommandName(), b2)
		}
	}
	if _, err := UnmarshalCommand([]byte(`{"Bogus":{}}`)); err == nil {
		t.Error("unknown variant must fail")
	}
}

func TestWadmEvents(t *testing.T) {
	at := time.Date(2025, 3, 19, 10, 0, 0, 0, time.UTC)
	ev, err := NewManifestUnpublishedEvent("0b5b2a4e-0000-4000-8000-000000000000", at, "hello")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"specversion":"1.0","id":"0b5b2a4e-0000-4000-8000-000000000000","type":"com.wadm.manifest_unpublished","source":"wadm","datacontenttype":"application/json","time":"2025-03-19T10:00:00Z","data":{"name":"hello"}}`
	if got := mustJSON(t, ev); got != want {
		t.Errorf("unpublished:\n got %s\nwant %s", got, want)
	}
	if n, err := ev.UnpublishedName(); err != nil || n != "hello" {
		t.Errorf("name %q %v", n, err)
	}
	m := mustManifest(t, fixtureDir+"/simple.yaml")
	pub, err := NewManifestPublishedEvent("id", at, m)
	if err != nil {
		t.Fatal(err)
	}
	mj, _ := m.MarshalCanonical()
	if string(pub.Data) != string(mj) || pub.Type != EventTypeManifestPublished {
		t.Errorf("published data %s", pub.Data)
	}
	back, err := pub.PublishedManifest()
	if err != nil || back.Metadata.Name != "hello-simple" {
		t.Errorf("published manifest %v", err)
	}
	if EventSubject("default", EventManifestPublished) != "wadm.evt.default.manifest_published" || model.StatusSubject("default", "app") != "wadm.status.default.app" {
		t.Error("subjects")
	}
}

// TestOwnEventsJSON pins the events this wadm adds on wadm.evt (a real wadm skips their types),
// and a status naming its version.
func TestOwnEventsJSON(t *testing.T) {
	at := time.Date(2025, 3, 19, 10, 0, 0, 0, time.UTC)
	exp, err := newWadmEvent("e1", EventTypeHostExpired, at, HostExpired{HostID: "NA", Gone: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustJSON(t, exp), `{"specversion":"1.0","id":"e1","type":"com.wadm.host_expired","source":"wadm","datacontenttype":"application/json","time":"2025-03-19T10:00:00Z","data":{"host_id":"NA","gone":true}}`; got != want {
		t.Errorf("host_expired:\n got %s\nwant %s", got, want)
	}
	inv, err := newWadmEvent("e2", EventTypeHostInventory, at, ctl.HostInventory{HostID: "NA", FriendlyName: "a", Labels: map[string]string{"zone": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustJSON(t, inv), `{"specversion":"1.0","id":"e2","type":"com.wadm.host_inventory","source":"wadm","datacontenttype":"application/json","time":"2025-03-19T10:00:00Z","data":{"components":[],"providers":[],"host_id":"NA","friendly_name":"a","labels":{"zone":"x"},"version":"","uptime_human":"","uptime_seconds":0}}`; got != want {
		t.Errorf("host_inventory:\n got %s\nwant %s", got, want)
	}
	if EventSubject("default", EventHostInventory) != "wadm.evt.default.host_inventory" || NotifySubject("default") != "wadm.notify.default" ||
		EventConsumerSubject("default") != "wadm_event_consumer.evt.default.>" {
		t.Error("subjects")
	}
	st := model.NewStatus(nil)
	st.Version = "v1"
	if got, want := mustJSON(t, st), `{"status":{"type":"undeployed"},"version":"v1","components":[]}`; got != want {
		t.Errorf("status:\n got %s\nwant %s", got, want)
	}
}
