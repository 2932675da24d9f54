package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const fixtureDir = "tests/fixtures/manifests"

// fixtureCase is one row of testdata/EXPECTED.md.
type fixtureCase struct {
	file     string
	errors   []string // all error-level messages in order; nil = valid
	warnings []string // warnings from Validate (not the raw-YAML ones)
	rawWarn  int      // extra warnings only ValidateBytes reports
	parseErr string   // substring of a parse error
}

var fixtureCases = []fixtureCase{
	{file: "oam/config.yaml"},
	{file: "oam/custom.yaml"},
	{file: "oam/echo.yaml"},
	{file: "oam/hello.yaml"},
	{file: "oam/kvcounter.yaml", warnings: []string{"unrecognized interface [wasi:keyvalue/atomic]", "unrecognized interface [wasi:keyvalue/eventual]"}},
	{file: "oam/simple1.yaml"},
	{file: "oam/simple1.json"},
	{file: "oam/simple2.yaml"},
	{file: "oam/sqldbpostgres.yaml", warnings: []string{"unrecognized interface [wasmcloud:postgres/query]"}},
	{file: fixtureDir + "/all_hosts.yaml"},
	{file: fixtureDir + "/complex.yaml"},
	{file: fixtureDir + "/correct_unique_interface_links.yaml"},
	{file: fixtureDir + "/custom-interface.wadm.yaml"},
	{file: fixtureDir + "/dangling-link.wadm.yaml",
		errors:   []string{`The following capability component(s) are missing from the manifest: ["httpclient"]`},
		warnings: []string{"link (target [httpclient]) target [httpclient] is not a listed component"}},
	{file: fixtureDir + "/deprecated-source-and-target-config.yaml", rawWarn: 2},
	{file: fixtureDir + "/duplicate_component.yaml", errors: []string{
		"Duplicate component name in manifest: ui", "Duplicate component name in manifest: vets"}},
	{file: fixtureDir + "/duplicate_id1.yaml", errors: []string{"Duplicate component identifier in manifest: httpserver"}},
	{file: fixtureDir + "/duplicate_id2.yaml", errors: []string{"Duplicate component identifier in manifest: ui"}},
	{file: fixtureDir + "/duplicate_link_config_names.wadm.yaml", errors: []string{
		"Duplicate link config name found: 'redis-url'",
		"Duplicate link config name found: 'alternate-port'",
		"Duplicate link config name found: 'default-port'"}},
	// Its deprecated source_config keys also give the two raw-YAML warnings.
	{file: fixtureDir + "/duplicate_links.yaml", rawWarn: 2, errors: []string{
		"Duplicate link found inside component 'httpserver': default (wasi:http/incoming-handler)"}},
	{file: fixtureDir + "/host_stop.yaml"},
	{file: fixtureDir + "/incorrect_component.yaml", errors: []string{
		"Duplicate component name in manifest: ui",
		"Duplicate component name in manifest: vets",
		`Scaler trait deserialized as custom trait, ensure fields are correct: {"spread":[{"name":"uiclinicapp","requirements":{"app":"petclinic"}}]}`}},
	{file: fixtureDir + "/incorrect_unique_interface_links.yaml", errors: []string{
		"Duplicate link found inside component 'my-component': default (wasi:keyvalue/atomics)"}},
	{file: fixtureDir + "/long_image_refs.yaml"},
	{file: fixtureDir + "/lotta_components.yaml"},
	{file: fixtureDir + "/made-up-key.wadm.yaml", parseErr: "unknown field `incorrect`"},
	{file: fixtureDir + "/misnamed-interface.wadm.yaml", warnings: []string{"unrecognized interface [wasi:keyvalue/atomic]"}},
	{file: fixtureDir + "/missing_capability_component.yaml", errors: []string{
		`The following capability component(s) are missing from the manifest: ["httpclyent"]`}},
	{file: fixtureDir + "/outdatedapp.yaml"},
	{file: fixtureDir + "/policy.wadm.yaml"},
	{file: fixtureDir + "/simple.wadm.yaml"},
	{file: fixtureDir + "/simple.yaml"},
	{file: fixtureDir + "/simple2.yaml"},
	{file: fixtureDir + "/unknown-package.wadm.yaml", warnings: []string{"unrecognized interface [wasi:keyvalues/atomics]"}},
	{file: fixtureDir + "/upgradedapp.yaml"},
	{file: fixtureDir + "/upgradedapp2.yaml"},
	{file: fixtureDir + "/upgradedapp3.yaml"},
	{file: fixtureDir + "/shared/both_properties.yaml", errors: []string{"Component cannot have both 'image' and 'application' properties"}},
	{file: fixtureDir + "/shared/no_properties.yaml", errors: []string{"Component must have either 'image' or 'application' property"}},
	{file: fixtureDir + "/shared/no_matching_app.yaml"},
	{file: fixtureDir + "/shared/no_matching_component.yaml"},
	{file: fixtureDir + "/shared/notshared_http.yaml"},
	{file: fixtureDir + "/shared/notshared_http_dev.yaml"},
	{file: fixtureDir + "/shared/shared_component.yaml"},
	{file: fixtureDir + "/shared/shared_component_dev.yaml"},
	{file: fixtureDir + "/shared/shared_http.yaml"},
	{file: fixtureDir + "/shared/shared_http_dev.yaml"},
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func msgs(fs []ValidationFailure) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Msg)
	}
	return out
}

func TestFixturesMatchExpected(t *testing.T) {
	// Every manifest fixture must be listed.
	var all []string
	_ = filepath.Walk("testdata", func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".json")) && !strings.HasSuffix(p, "events.json") && !strings.Contains(p, "fuzz") {
			all = append(all, strings.TrimPrefix(p, "testdata/"))
		}
		return nil
	})
	listed := map[string]bool{}
	for _, c := range fixtureCases {
		listed[c.file] = true
	}
	for _, f := range all {
		if !listed[f] {
			t.Errorf("fixture %s has no expected outcome", f)
		}
	}

	for _, tc := range fixtureCases {
		t.Run(tc.file, func(t *testing.T) {
			data := readFixture(t, tc.file)
			m, err := ParseManifest(data)
			if tc.parseErr != "" {
				if err == nil {
					t.Fatalf("expected parse error containing %q", tc.parseErr)
				}
				if !strings.HasPrefix(err.Error(), "Unable to parse manifest: ") || !strings.Contains(err.Error(), tc.parseErr) {
					t.Fatalf("parse error %q, want it to contain %q", err, tc.parseErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			f := Validate(m)
			if got := msgs(f.Errors()); !reflect.DeepEqual(got, tc.errors) {
				t.Errorf("errors = %q, want %q", got, tc.errors)
			}
			if got := msgs(f.Warnings()); !reflect.DeepEqual(got, tc.warnings) {
				t.Errorf("warnings = %q, want %q", got, tc.warnings)
			}
			wantFirst := ""
			if len(tc.errors) > 0 {
				wantFirst = tc.errors[0]
			}
			if got := CheckPut(m); got != wantFirst {
				t.Errorf("CheckPut = %q, want %q", got, wantFirst)
			}
			if !strings.HasSuffix(tc.file, ".json") {
				_, all, err := ValidateBytes(data)
				if err != nil {
					t.Fatalf("ValidateBytes: %v", err)
				}
				if got, want := len(all.Warnings()), len(tc.warnings)+tc.rawWarn; got != want {
					t.Errorf("ValidateBytes warnings = %d (%q), want %d", got, msgs(all.Warnings()), want)
				}
			}
			// Canonical JSON must decode again to the same manifest.
			js, err := m.MarshalCanonical()
			if err != nil {
				t.Fatal(err)
			}
			m2, err := ParseManifestJSON(js)
			if err != nil {
				t.Fatalf("re-parse canonical JSON: %v\n%s", err, js)
			}
			js2, _ := m2.MarshalCanonical()
			if string(js) != string(js2) {
				t.Errorf("canonical form not stable:\n%s\n%s", js, js2)
			}
		})
	}
}

func TestSchemaValidation(t *testing.T) {
	for _, tc := range fixtureCases {
		if tc.parseErr != "" {
			continue
		}
		data := readFixture(t, tc.file)
		err := ValidateSchema(data)
		// simple1 uses the legacy "actor" type, which the schema does not list.
		wantFail := strings.Contains(tc.file, "oam/simple1.")
		if (err != nil) != wantFail {
			t.Errorf("%s: schema error = %v, want failure %v", tc.file, err, wantFail)
		}
		m, perr := ParseManifest(data)
		if perr != nil {
			t.Fatal(perr)
		}
		// The canonical form always validates: actor is rewritten as component.
		if err := ValidateManifestSchema(m); err != nil {
			t.Errorf("%s: canonical form fails schema: %v", tc.file, err)
		}
	}
	if err := ValidateSchema(readFixture(t, fixtureDir+"/made-up-key.wadm.yaml")); err == nil {
		t.Error("made-up-key must fail the schema")
	}
}

func TestCanonicalSimple1(t *testing.T) {
	m, err := ParseManifest(readFixture(t, "oam/simple1.json"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := m.MarshalCanonical()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"apiVersion":"core.oam.dev/v1beta1","kind":"Application","metadata":{"name":"my-example-app","annotations":{"description":"This is my app"}},"spec":{"components":[` +
		`{"name":"userinfo","type":"component","properties":{"image":"wasmcloud.azurecr.io/fake:1"},"traits":[{"type":"spreadscaler","properties":{"instances":4,"spread":[{"name":"eastcoast","requirements":{"zone":"us-east-1"},"weight":80},{"name":"westcoast","requirements":{"zone":"us-west-1"},"weight":20}]}}]},` +
		`{"name":"webcap","type":"capability","properties":{"image":"wasmcloud.azurecr.io/httpserver:0.13.1"},"traits":[{"type":"link","properties":{"namespace":"wasi","package":"http","interfaces":["incoming-handler"],"target":{"name":"webcap"},"name":"default"}}]},` +
		`{"name":"ledblinky","type":"capability","properties":{"image":"wasmcloud.azurecr.io/ledblinky:0.0.1"},"traits":[{"type":"spreadscaler","properties":{"instances":1,"spread":[{"name":"haslights","requirements":{"ledenabled":"true"}}]}}]}]}}`
	if string(js) != want {
		t.Errorf("canonical JSON:\n got %s\nwant %s", js, want)
	}
	// YAML and JSON forms are the same manifest.
	my, err := ParseManifest(readFixture(t, "oam/simple1.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	jy, _ := my.MarshalCanonical()
	if string(jy) != want {
		t.Errorf("YAML canonical differs:\n%s", jy)
	}
}

func TestDeprecatedLinkForms(t *testing.T) {
	m, err := ParseManifest(readFixture(t, fixtureDir+"/deprecated-source-and-target-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	l := m.Spec.Components[0].Traits[1].Properties.Link
	if l == nil || l.Target.Name != "blobstore-fs" || len(l.Target.Config) != 1 || l.Target.Config[0].Name != "root-directory" || l.Target.Config[0].Properties["root"] != "/tmp" {
		t.Fatalf("target_config not converted: %+v", l)
	}
	l = m.Spec.Components[1].Traits[0].Properties.Link
	if l == nil || l.Source == nil || len(l.Source.Config) != 1 || l.Source.Config[0].Name != "default-http" {
		t.Fatalf("source_config not converted: %+v", l)
	}
	js, _ := m.MarshalCanonical()
	if strings.Contains(string(js), "source_config") || strings.Contains(string(js), "target_config") {
		t.Errorf("deprecated keys written: %s", js)
	}
	// replicas alias
	pm, err := ParseManifest(readFixture(t, fixtureDir+"/policy.wadm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	js, _ = pm.MarshalCanonical()
	if strings.Contains(string(js), "replicas") || !strings.Contains(string(js), `"instances":1`) {
		t.Errorf("replicas not canonicalised: %s", js)
	}
}

func TestParseErrors(t *testing.T) {
	base := "apiVersion: a\nkind: b\nmetadata:\n  name: x\n  annotations: {}\nspec:\n  components: []\n"
	cases := []struct {
		name, doc, want string
	}{
		{"empty", "", "EOF while parsing a value"},
		{"missing annotations", "apiVersion: a\nkind: b\nmetadata:\n  name: x\nspec:\n  components: []\n", "missing field `annotations`"},
		{"unknown top key", base + "extra: 1\n", "unknown field `extra`"},
		{"two documents", base + "---\n" + base, "more than one document"},
		{"unknown property", "apiVersion: a\nkind: b\nmetadata:\n  name: x\n  annotations: {}\nspec:\n  components:\n  - name: c\n    type: component\n    properties:\n      image: i\n      bogus: 1\n", "unknown field `bogus`"},
		{"bad type", "apiVersion: a\nkind: b\nmetadata:\n  name: x\n  annotations: {}\nspec:\n  components:\n  - name: c\n    type: widget\n    properties: {image: i}\n", "unknown variant `widget`"},
		{"number config value", "apiVersion: a\nkind: b\nmetadata:\n  name: x\n  annotations: {}\nspec:\n  components:\n  - name: c\n    type: component\n    properties:\n      image: i\n      config:\n      - name: c\n        properties: {port: 8080}\n", "expected a string"},
		{"unknown config key", "apiVersion: a\nkind: b\nmetadata:\n  name: x\n  annotations: {}\nspec:\n  components:\n  - name: c\n    type: component\n    properties:\n      image: i\n      config:\n      - name: c\n        extra: y\n", "unknown field `extra`"},
		{"bad yaml", "a: [", "invalid YAML"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseManifest([]byte(tc.doc))
			if err == nil {
				t.Fatalf("expected error containing %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), "Unable to parse manifest: ") || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q, want one line containing %q", err, tc.want)
			}
		})
	}
	if _, err := ParseManifest([]byte(base)); err != nil {
		t.Fatalf("base doc: %v", err)
	}
	// Direct YAML positions read any scalar as a string (serde_yaml).
	m, err := ParseManifest([]byte("apiVersion: a\nkind: b\nmetadata:\n  name: x\n  annotations: {version: 1.0}\n  labels: {n: 5}\nspec:\n  components: []\n"))
	if err != nil || m.Version() != "1.0" || m.Metadata.Labels["n"] != "5" {
		t.Fatalf("lenient scalars: %v %+v", err, m)
	}
	// ...but JSON is typed (without a header YAML goes first and accepts it, as upstream).
	if _, err := ParseManifestJSON([]byte(`{"apiVersion":"a","kind":"b","metadata":{"name":"x","annotations":{"version":1}},"spec":{"components":[]}}`)); err == nil {
		t.Fatal("JSON number annotation must fail")
	}
}

func TestContentType(t *testing.T) {
	data := readFixture(t, "oam/simple1.json")
	if _, err := ParseManifestContentType(data, ContentTypeJSON); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseManifestContentType(data, ContentTypeYAML); err != nil {
		t.Fatal(err)
	}
	yml := readFixture(t, "oam/simple1.yaml")
	if _, err := ParseManifestContentType(yml, ContentTypeJSON); err == nil {
		t.Fatal("YAML with JSON content type must fail")
	}
	_, err := ParseManifestContentType(data, "application/json; charset=utf-8")
	if err == nil || err.Error() != "Unsupported content type application/json; charset=utf-8 given. Wadm supports YAML and JSON" {
		t.Fatalf("content type error: %v", err)
	}
}

func TestCheckPutMessages(t *testing.T) {
	m, err := ParseManifest(readFixture(t, fixtureDir+"/simple.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m.Metadata.Annotations[VersionAnnotationKey] = "latest"
	if got := CheckPut(m); got != `invalid manifest version, errors: "latest is not allowed in wadm"` {
		t.Errorf("latest: %q", got)
	}
	m.Metadata.Annotations[VersionAnnotationKey] = "v1"
	m.Metadata.Name = "bad.name"
	if got := CheckPut(m); got != "Manifest name bad.name contains invalid characters. Manifest names can only contain alphanumeric characters, dashes, and underscores." {
		t.Errorf("name: %q", got)
	}
	if f := Validate(m).FirstError(); f != "manifest name [bad.name] is not allowed (should match regex [^[-\\w]+$])" {
		t.Errorf("library name rule: %q", f)
	}
	m.Metadata.Name = "ok"
	m.Metadata.Labels = map[string]string{"-bad": "v"}
	if got := CheckPut(m); got != `Invalid OAM label: ("-bad", "v")` {
		t.Errorf("label: %q", got)
	}
}

func TestOAMKeys(t *testing.T) {
	good := []string{"app.oam.io/name", "version", "wasmcloud.dev/authors", "experimental.wasmcloud.dev/shared", "a_b.c-d"}
	bad := []string{"", "-a", "a-", "1abc.io/x", "a/b/c", strings.Repeat("a", 64), "x..y/z", "a/"}
	for _, k := range good {
		if !ValidOAMKey(k) {
			t.Errorf("%q should be valid", k)
		}
	}
	for _, k := range bad {
		if ValidOAMKey(k) {
			t.Errorf("%q should be invalid", k)
		}
	}
}

func TestCustomTraitJSON(t *testing.T) {
	m, err := ParseManifest(readFixture(t, "oam/custom.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range m.Spec.Components {
		for _, tr := range c.Traits {
			if tr.Type == "customscaler" && tr.Properties.Custom == nil {
				t.Errorf("customscaler should decode as custom: %+v", tr.Properties)
			}
		}
	}
	var v any
	js, _ := m.MarshalCanonical()
	if err := json.Unmarshal(js, &v); err != nil {
		t.Fatal(err)
	}
}

func mustManifest(t testing.TB, file string) *Manifest {
	t.Helper()
	m, err := ParseManifest(readFixture(t, file))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
