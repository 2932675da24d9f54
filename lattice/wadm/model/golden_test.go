package model

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func strp(s string) *string { return &s }

func TestStatusJSON(t *testing.T) {
	st := NewStatus([]ScalerStatus{
		{ID: "51f5", Kind: KindSpreadScaler, Name: "http_hello_world", Status: Reconciling("Scaling component on 1 host(s)")},
		{ID: "71e4", Kind: KindSpreadScaler, Name: "http_server", Status: Deployed("")},
		{ID: "0fcf", Kind: KindLinkScaler, Name: "http_server -(wasi:http)-> http_hello_world", Status: Reconciling("Putting link definition between http_server and http_hello_world")},
	})
	want := `{"status":{"type":"reconciling","message":"Scaling component on 1 host(s), Putting link definition between http_server and http_hello_world"},` +
		`"scalers":[{"id":"51f5","kind":"SpreadScaler","name":"http_hello_world","status":{"type":"reconciling","message":"Scaling component on 1 host(s)"}},` +
		`{"id":"71e4","kind":"SpreadScaler","name":"http_server","status":{"type":"deployed"}},` +
		`{"id":"0fcf","kind":"LinkScaler","name":"http_server -(wasi:http)-> http_hello_world","status":{"type":"reconciling","message":"Putting link definition between http_server and http_hello_world"}}],` +
		`"version":"","components":[]}`
	if got := mustJSON(t, st); got != want {
		t.Errorf("status:\n got %s\nwant %s", got, want)
	}
	var back Status
	if err := json.Unmarshal([]byte(want), &back); err != nil || !reflect.DeepEqual(back.Scalers, st.Scalers) {
		t.Errorf("decode: %v %+v", err, back)
	}
	golden := map[string]Status{
		`{"status":{"type":"undeployed"},"version":"","components":[]}`:                                                                                 DefaultStatus,
		`{"status":{"type":"undeployed","message":"Manifest has been undeployed"},"version":"","components":[]}`:                                        UndeployedStatus,
		`{"status":{"type":"waiting","message":"Waiting for status: Lattice contains no hosts, deployment not started."},"version":"","components":[]}`: ListPlaceholderStatus,
	}
	if got := mustJSON(t, NewStatus(nil)); got != `{"status":{"type":"undeployed"},"version":"","components":[]}` {
		t.Errorf("empty aggregate: %s", got)
	}
	for want, st := range golden {
		if got := mustJSON(t, st); got != want {
			t.Errorf("got %s want %s", got, want)
		}
	}
	// Aliases and tolerant decoding of a minimal document.
	var s2 Status
	if err := json.Unmarshal([]byte(`{"status":{"type":"compensating"}}`), &s2); err != nil || s2.Info.Type != StatusReconciling {
		t.Errorf("alias: %v %+v", err, s2)
	}
	if err := json.Unmarshal([]byte(`{"status":{"type":"ready"}}`), &s2); err != nil || s2.Info.Type != StatusDeployed {
		t.Errorf("alias ready: %v %+v", err, s2)
	}
	if err := json.Unmarshal([]byte(`{"status":{"type":"bogus"}}`), &s2); err == nil {
		t.Error("unknown status type must fail")
	}
}

func TestAggregateStatus(t *testing.T) {
	cases := []struct {
		in   []StatusType
		want StatusType
	}{
		{nil, StatusUndeployed},
		{[]StatusType{StatusDeployed, StatusDeployed}, StatusDeployed},
		{[]StatusType{StatusUndeployed, StatusFailed}, StatusFailed},
		{[]StatusType{StatusReconciling, StatusUndeployed}, StatusUndeployed},
		{[]StatusType{StatusDeployed, StatusUndeployed}, StatusUndeployed},
		{[]StatusType{StatusDeployed, StatusReconciling, StatusUndeployed, StatusFailed}, StatusFailed},
		{[]StatusType{StatusDeployed, StatusUnhealthy}, StatusUnhealthy},
		{[]StatusType{StatusReconciling, StatusUnhealthy}, StatusReconciling},
		{[]StatusType{StatusWaiting, StatusReconciling}, StatusWaiting},
	}
	for _, tc := range cases {
		if got := AggregateStatus(tc.in...); got != tc.want {
			t.Errorf("%v: got %s want %s", tc.in, got, tc.want)
		}
	}
}

func TestAPIJSON(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{PutModelResponse{Result: PutCreated, TotalVersions: 1, CurrentVersion: "v0.0.1", Message: "Successfully put manifest rust-sqldb-postgres-query ", Name: "rust-sqldb-postgres-query"},
			`{"result":"created","total_versions":1,"current_version":"v0.0.1","message":"Successfully put manifest rust-sqldb-postgres-query ","name":"rust-sqldb-postgres-query"}`},
		{GetModelResponse{Result: GetNotFound, Message: "Application with the name x not found"},
			`{"result":"notfound","message":"Application with the name x not found"}`},
		{ListModelsResponse{Result: GetSuccess, Message: "Successfully fetched list of applications"},
			`{"result":"success","message":"Successfully fetched list of applications","models":[]}`},
		{VersionResponse{Result: GetNotFound, Message: "Application with the name x not found"},
			`{"result":"notfound","message":"Application with the name x not found","versions":[]}`},
		{VersionResponse{Result: GetSuccess, Message: "Successfully fetched versions for application x", Versions: []VersionInfo{{"v0.0.1", false}, {"v0.0.2", true}}},
			`{"result":"success","message":"Successfully fetched versions for application x","versions":[{"version":"v0.0.1","deployed":false},{"version":"v0.0.2","deployed":true}]}`},
		{DeleteModelResponse{Result: DeleteNoop, Message: "Application x doesn't exist or was already deleted"},
			`{"result":"noop","message":"Application x doesn't exist or was already deleted","undeploy":false}`},
		{DeployModelResponse{Result: DeployAcknowledged, Message: "Successfully deployed application x v1", Name: "x", Version: strp("v1")},
			`{"result":"acknowledged","message":"Successfully deployed application x v1","name":"x","version":"v1"}`},
		{DeployModelResponse{Result: DeployNotFound, Message: "Application with the name x not found", Name: "x"},
			`{"result":"notfound","message":"Application with the name x not found","name":"x","version":null}`},
		{StatusResponse{Result: StatusResultOK, Message: "Successfully fetched status for application x", Status: &DefaultStatus},
			`{"result":"ok","message":"Successfully fetched status for application x","status":{"status":{"type":"undeployed"},"version":"","components":[]}}`},
		{NewErrorResponse("Internal storage error"), `{"result":"error","message":"Internal storage error"}`},
		{GetModelRequest{}, `{}`},
		{GetModelRequest{Version: strp("v1")}, `{"version":"v1"}`},
		{DeleteModelRequest{}, `{"version":null}`},
		// Deprecated model.list: a bare array of summaries.
		{[]ModelSummary{NewModelSummary("hello", "01J", strp("desc"), nil, ListPlaceholderStatus)},
			`[{"name":"hello","version":"01J","description":"desc","deployed_version":null,"detailed_status":{"status":{"type":"waiting","message":"Waiting for status: Lattice contains no hosts, deployment not started."},"version":"","components":[]},"status":"undeployed","status_message":"Waiting for status: Lattice contains no hosts, deployment not started."}]`},
	}
	for _, tc := range cases {
		if got := mustJSON(t, tc.v); got != tc.want {
			t.Errorf("%T:\n got %s\nwant %s", tc.v, got, tc.want)
		}
	}
	// The generic error envelope decodes into every response type.
	env := []byte(`{"result":"error","message":"boom"}`)
	for _, v := range []any{&PutModelResponse{}, &GetModelResponse{}, &DeleteModelResponse{}, &DeployModelResponse{}, &StatusResponse{}} {
		if err := json.Unmarshal(env, v); err != nil {
			t.Errorf("%T: %v", v, err)
		}
	}
	// A get response carries a manifest that round-trips.
	m := mustManifest(t, fixtureDir+"/simple.yaml")
	b := mustJSON(t, GetModelResponse{Result: GetSuccess, Message: "Successfully fetched application hello-simple", Manifest: m})
	var gr GetModelResponse
	if err := json.Unmarshal([]byte(b), &gr); err != nil || gr.Manifest == nil || gr.Manifest.Metadata.Name != "hello-simple" {
		t.Fatalf("get response: %v %+v", err, gr)
	}
}

func TestParseAPISubject(t *testing.T) {
	ok := map[string]APIRequest{
		"wadm.api.default.model.put":          {Lattice: "default", Operation: "put"},
		"wadm.api.default.model.get":          {Lattice: "default", Operation: "get"},
		"wadm.api.default.model.get.app":      {Lattice: "default", Operation: "get", App: "app"},
		"wadm.api.default.model.list":         {Lattice: "default", Operation: "list"},
		"wadm.api.default.model.status.app":   {Lattice: "default", Operation: "status", App: "app"},
		"wadm.api.default.model.undeploy.app": {Lattice: "default", Operation: "undeploy", App: "app"},
	}
	for subj, want := range ok {
		got, err := ParseAPISubject(DefaultAPIPrefix, subj)
		if err != nil || got != want {
			t.Errorf("%s: %+v %v", subj, got, err)
		}
	}
	bad := map[string]string{
		"wadm.api.default.model":                 "Invalid subject",
		"wadm.api.default.model.get.app.foo.bar": "Invalid subject: Found extra components of subject",
		"wadm.api.default.blah.get.app":          "Unsupported subject: wadm.api.default.blah.get.app",
		"wadm.api.default.model.put.foo":         "Unsupported subject",
		"wadm.api.default.model.del":             "Unsupported subject",
		"wadm.api.default.model.list.foo":        "Unsupported subject",
		"wadm.api.default.model.frob.foo":        "Unsupported subject",
	}
	for subj, prefix := range bad {
		_, err := ParseAPISubject(DefaultAPIPrefix, subj)
		if err == nil || !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("%s: %v, want prefix %q", subj, err, prefix)
		}
	}
}

func TestMissingSharedComponents(t *testing.T) {
	shared := mustManifest(t, fixtureDir+"/shared/shared_http.yaml")
	dev := mustManifest(t, fixtureDir+"/shared/shared_http_dev.yaml")
	if got := dev.MissingSharedComponents(nil); len(got) == 0 {
		t.Fatal("nothing deployed: references must be missing")
	}
	if got := dev.MissingSharedComponents([]*Manifest{shared}); len(got) != 0 {
		t.Errorf("shared deployed: missing %v", got)
	}
	notShared := mustManifest(t, fixtureDir+"/shared/notshared_http.yaml")
	nsDev := mustManifest(t, fixtureDir+"/shared/notshared_http_dev.yaml")
	if got := nsDev.MissingSharedComponents([]*Manifest{notShared}); !reflect.DeepEqual(got, []string{"httpserver"}) {
		t.Errorf("not shared: %v", got)
	}
	nm := mustManifest(t, fixtureDir+"/shared/no_matching_component.yaml")
	if got := nm.MissingSharedComponents([]*Manifest{shared}); !reflect.DeepEqual(got, []string{"httpserver"}) {
		t.Errorf("no matching component: %v", got)
	}
}
