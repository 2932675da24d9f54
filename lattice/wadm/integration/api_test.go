package integration_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
)

const fx = "../model/testdata/tests/fixtures/manifests/"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../model/testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// raw sends an API request and decodes the reply into a map.
func raw(t testing.TB, nc *nats.Conn, subject string, body []byte, hdr nats.Header) map[string]any {
	t.Helper()
	m, err := nc.RequestMsg(&nats.Msg{Subject: subject, Data: body, Header: hdr}, 5*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", subject, err)
	}
	var out map[string]any
	if err := json.Unmarshal(m.Data, &out); err != nil {
		t.Fatalf("%s: reply %s: %v", subject, m.Data, err)
	}
	return out
}

// TestFixturesThroughAPI puts every fixture manifest (EXPECTED.md) through model.put.
func TestFixturesThroughAPI(t *testing.T) {
	_, nc := startNATS(t, "")
	startWadm(t, nc)
	invalid := map[string]string{
		"dangling-link.wadm.yaml":               `The following capability component(s) are missing from the manifest: ["httpclient"]`,
		"duplicate_component.yaml":              "Duplicate component name in manifest: ui",
		"duplicate_id1.yaml":                    "Duplicate component identifier in manifest: httpserver",
		"duplicate_id2.yaml":                    "Duplicate component identifier in manifest: ui",
		"duplicate_link_config_names.wadm.yaml": "Duplicate link config name found: 'redis-url'",
		"duplicate_links.yaml":                  "Duplicate link found inside component 'httpserver': default (wasi:http/incoming-handler)",
		"incorrect_component.yaml":              "Duplicate component name in manifest: ui",
		"incorrect_unique_interface_links.yaml": "Duplicate link found inside component 'my-component': default (wasi:keyvalue/atomics)",
		"missing_capability_component.yaml":     `The following capability component(s) are missing from the manifest: ["httpclyent"]`,
		"shared/both_properties.yaml":           "Component cannot have both 'image' and 'application' properties",
		"shared/no_properties.yaml":             "Component must have either 'image' or 'application' property",
	}
	var files []string
	for _, dir := range []string{"../model/testdata/oam", fx, fx + "shared"} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".json")) && e.Name() != "events.json" {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
	}
	if len(files) < 45 {
		t.Fatalf("only %d fixtures found", len(files))
	}
	nInvalid := 0
	for i, f := range files {
		data, _ := os.ReadFile(f)
		lattice := fmt.Sprintf("fx%d", i)
		rel := strings.TrimPrefix(f, fx)
		resp := raw(t, nc, "wadm.api."+lattice+".model.put", data, nil)
		want, bad := invalid[rel]
		switch {
		case strings.HasSuffix(rel, "made-up-key.wadm.yaml"):
			nInvalid++
			if resp["result"] != "error" || !strings.Contains(resp["message"].(string), "Unable to parse manifest") || !strings.Contains(resp["message"].(string), "incorrect") {
				t.Errorf("%s: %v", rel, resp)
			}
		case bad:
			nInvalid++
			if resp["result"] != "error" || resp["message"] != want {
				t.Errorf("%s: got %v, want error %q", rel, resp, want)
			}
			// Nothing stored.
			list := raw(t, nc, "wadm.api."+lattice+".model.get", nil, nil)
			if models, _ := list["models"].([]any); len(models) != 0 {
				t.Errorf("%s: invalid manifest was stored: %v", rel, list)
			}
		default:
			if resp["result"] != "created" {
				t.Errorf("%s: got %v, want created", rel, resp)
			}
		}
	}
	if nInvalid != 12 {
		t.Errorf("%d fixtures invalid, EXPECTED.md says 12", nInvalid)
	}

	// Deploy-time failures.
	put := func(lattice, file string) {
		if r := raw(t, nc, "wadm.api."+lattice+".model.put", fixture(t, file), nil); r["result"] == "error" {
			t.Fatalf("put %s: %v", file, r)
		}
	}
	dep := func(lattice, app string) map[string]any {
		return raw(t, nc, "wadm.api."+lattice+".model.deploy."+app, nil, nil)
	}
	// The shared-component fixtures in order: each deploy sees what the ones before it left.
	acknowledged := func(r map[string]any) bool { return r["result"] == "acknowledged" }
	for _, step := range []struct {
		file, app string
		ok        func(map[string]any) bool
	}{
		{"no_matching_app", "some-nonexistant-app", func(r map[string]any) bool {
			return r["message"] == `Application contains shared components that are not deployed in other applications: ["httpserver"]`
		}},
		{"shared_http", "shared-http", acknowledged},
		{"shared_http_dev", "shared-http-dev", acknowledged},
		{"no_matching_component", "no-matching-component", func(r map[string]any) bool {
			return r["result"] == "error" && strings.Contains(r["message"].(string), `["httpserver"]`)
		}},
		{"notshared_http", "not-shared-http", acknowledged},
		{"notshared_http_dev", "not-shared-http-dev", func(r map[string]any) bool { return r["result"] == "error" }},
	} {
		put("sh", "tests/fixtures/manifests/shared/"+step.file+".yaml")
		if r := dep("sh", step.app); !step.ok(r) {
			t.Errorf("%s deploy: %v", step.file, r)
		}
	}
	put("up", "tests/fixtures/manifests/outdatedapp.yaml")
	put("up", "tests/fixtures/manifests/upgradedapp3.yaml")
	if r := dep("up", "updateapp"); r["result"] != "acknowledged" {
		t.Errorf("updateapp deploy: %v", r)
	}
	if r := dep("up", "dontupdateapp"); r["message"] != "Component identifier 'http_server' is already deployed in a different application 'updateapp'." {
		t.Errorf("upgradedapp3 deploy: %v", r)
	}
}

// TestAPIOperations is wadm.md §6 checks 7-12 (CRUD, bad requests, subjects,
// parsing, deploy/undeploy with events, status before deploy).
func TestAPIOperations(t *testing.T) {
	_, nc := startNATS(t, "")
	startWadm(t, nc)
	api := func(op string) string { return "wadm.api.default.model." + op }
	evs := make(chan *nats.Msg, 64)
	sub, _ := nc.ChanSubscribe("wadm.evt.default.>", evs)
	defer sub.Unsubscribe()

	// 7. CRUD
	r := raw(t, nc, api("put"), fixture(t, "oam/sqldbpostgres.yaml"), nil)
	if r["result"] != "created" || r["current_version"] != "v0.0.1" || r["total_versions"] != 1.0 {
		t.Fatalf("put sqldb: %v", r)
	}
	r = raw(t, nc, api("put"), fixture(t, "oam/simple1.yaml"), nil)
	ulid, _ := r["current_version"].(string)
	if r["result"] != "created" || len(ulid) != 26 {
		t.Fatalf("put simple1: %v", r)
	}
	app := r["name"].(string)
	g := raw(t, nc, api("get."+app), nil, nil)
	if g["result"] != "success" || g["manifest"].(map[string]any)["metadata"].(map[string]any)["annotations"].(map[string]any)["version"] != ulid {
		t.Fatalf("get: %v", g)
	}
	if l := raw(t, nc, api("get"), nil, nil); len(l["models"].([]any)) != 2 {
		t.Fatalf("list: %v", l)
	}
	// The deprecated list is a bare array.
	if m, err := nc.Request(api("list"), nil, 5*time.Second); err != nil || !strings.HasPrefix(string(m.Data), "[") {
		t.Fatalf("model.list: %v %s", err, m.Data)
	}
	for i, v := range []string{"v0.0.2", "v0.0.3"} {
		var man map[string]any
		_ = json.Unmarshal([]byte(g["manifest"].(map[string]any)["metadata"].(map[string]any)["name"].(string)), &man)
		body := strings.Replace(string(fixture(t, "oam/simple1.yaml")), "annotations:", "annotations:\n    version: "+v, 1)
		r = raw(t, nc, api("put"), []byte(body), nil)
		if r["result"] != "newversion" || r["total_versions"] != float64(i+2) {
			t.Fatalf("put %s: %v", v, r)
		}
	}
	vs := raw(t, nc, api("versions."+app), nil, nil)
	if b, _ := json.Marshal(vs["versions"]); string(b) != fmt.Sprintf(`[{"deployed":false,"version":"%s"},{"deployed":false,"version":"v0.0.2"},{"deployed":false,"version":"v0.0.3"}]`, ulid) {
		t.Fatalf("versions: %s", b)
	}
	if g := raw(t, nc, api("get."+app), []byte(`{"version":"v0.0.2"}`), nil); g["result"] != "success" {
		t.Fatalf("get v0.0.2: %v", g)
	}
	if d := raw(t, nc, api("del."+app), []byte(`{"version":"v0.0.2"}`), nil); d["result"] != "deleted" {
		t.Fatalf("del v0.0.2: %v", d)
	}
	if d := raw(t, nc, api("del."+app), nil, nil); d["result"] != "deleted" {
		t.Fatalf("del all: %v", d)
	}
	if g := raw(t, nc, api("get."+app), nil, nil); g["result"] != "notfound" {
		t.Fatalf("get after delete: %v", g)
	}
	// 8. bad requests
	if r := raw(t, nc, api("put"), fixture(t, "oam/sqldbpostgres.yaml"), nil); r["result"] != "error" || r["message"] != "Manifest version v0.0.1 already exists" {
		t.Fatalf("second put: %v", r)
	}
	latest := strings.Replace(string(fixture(t, "oam/sqldbpostgres.yaml")), "v0.0.1", "latest", 1)
	if r := raw(t, nc, api("put"), []byte(latest), nil); r["result"] != "error" {
		t.Fatalf("latest put: %v", r)
	}
	if d := raw(t, nc, api("del.nope"), nil, nil); d["result"] != "noop" {
		t.Fatalf("del missing: %v", d)
	}
	// 9. subjects
	if r := raw(t, nc, "wadm.api.default.model", nil, nil); !strings.HasPrefix(r["message"].(string), "Invalid subject") {
		t.Fatalf("short subject: %v", r)
	}
	if r := raw(t, nc, api("get.x.foo.bar"), nil, nil); !strings.HasPrefix(r["message"].(string), "Invalid subject") {
		t.Fatalf("long subject: %v", r)
	}
	if r := raw(t, nc, "wadm.api.default.blah.get.x", nil, nil); !strings.HasPrefix(r["message"].(string), "Unsupported subject") {
		t.Fatalf("category: %v", r)
	}
	if r := raw(t, nc, api("history.x"), nil, nil); r["result"] != "error" {
		t.Fatalf("history: %v", r)
	}
	// 10. parsing
	if r := raw(t, nc, "wadm.api.p.model.put", fixture(t, "oam/simple1.json"), nil); r["result"] != "created" {
		t.Fatalf("json without header: %v", r)
	}
	yhdr := nats.Header{"Content-Type": []string{"application/yaml"}}
	if r := raw(t, nc, "wadm.api.p2.model.put", fixture(t, "oam/simple1.yaml"), yhdr); r["result"] != "created" {
		t.Fatalf("yaml with header: %v", r)
	}
	jhdr := nats.Header{"Content-Type": []string{"application/json"}}
	if r := raw(t, nc, "wadm.api.p2.model.put", fixture(t, "oam/simple1.json"), jhdr); r["result"] != "newversion" {
		t.Fatalf("json with header: %v", r)
	}
	bad := nats.Header{"Content-Type": []string{"application/json; charset=utf-8"}}
	if r := raw(t, nc, "wadm.api.p2.model.put", fixture(t, "oam/simple1.json"), bad); r["result"] != "error" {
		t.Fatalf("unsupported content type: %v", r)
	}
	if r := raw(t, nc, "wadm.api.p.model.put", fixture(t, "oam/config.yaml"), nil); r["result"] != "created" {
		t.Fatalf("config.yaml: %v", r)
	}
	// 12. status before deploy
	if s := raw(t, nc, api("status.rust-sqldb-postgres-query"), nil, nil); s["result"] != "ok" || s["status"].(map[string]any)["status"].(map[string]any)["type"] != "undeployed" {
		t.Fatalf("status before deploy: %v", s)
	}
	// 11. deploy / undeploy
	v2 := strings.Replace(string(fixture(t, "oam/sqldbpostgres.yaml")), "v0.0.1", "v0.0.2", 1)
	raw(t, nc, api("put"), []byte(v2), nil)
	for len(evs) > 0 {
		<-evs
	}
	const sq = "rust-sqldb-postgres-query"
	if r := raw(t, nc, api("deploy.foobar"), nil, nil); r["result"] != "notfound" {
		t.Fatalf("deploy foobar: %v", r)
	}
	if r := raw(t, nc, api("undeploy.foobar"), nil, nil); r["result"] != "notfound" {
		t.Fatalf("undeploy foobar: %v", r)
	}
	wantEvent := func(typ string) {
		t.Helper()
		select {
		case m := <-evs:
			if !strings.Contains(string(m.Data), typ) {
				t.Fatalf("event %s, want %s", m.Data, typ)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no %s event", typ)
		}
	}
	deployed := func() string {
		vs := raw(t, nc, api("versions."+sq), nil, nil)
		for _, v := range vs["versions"].([]any) {
			if v.(map[string]any)["deployed"] == true {
				return v.(map[string]any)["version"].(string)
			}
		}
		return ""
	}
	if r := raw(t, nc, api("deploy."+sq), nil, nil); r["result"] != "acknowledged" {
		t.Fatalf("deploy: %v", r)
	}
	wantEvent("com.wadm.manifest_published")
	if d := deployed(); d != "v0.0.2" {
		t.Fatalf("deployed %q", d)
	}
	raw(t, nc, api("deploy."+sq), []byte(`{"version":"v0.0.1"}`), nil)
	wantEvent("com.wadm.manifest_published")
	if d := deployed(); d != "v0.0.1" {
		t.Fatalf("deployed %q", d)
	}
	raw(t, nc, api("deploy."+sq), []byte(`{"version":"latest"}`), nil)
	wantEvent("com.wadm.manifest_published")
	if d := deployed(); d != "v0.0.2" {
		t.Fatalf("deployed %q", d)
	}
	if r := raw(t, nc, api("undeploy."+sq), nil, nil); r["result"] != "acknowledged" {
		t.Fatalf("undeploy: %v", r)
	}
	wantEvent("com.wadm.manifest_unpublished")
	if d := deployed(); d != "" {
		t.Fatalf("still deployed %q", d)
	}
	// The client maps the same API.
	c := wadmclient.New(nc, wadmclient.Options{})
	if _, err := c.Get(context.Background(), "nope", ""); err == nil {
		t.Fatal("client get of a missing app did not fail")
	}
}
