package testmanifest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// Every shape the builder writes is a manifest wadm accepts without a warning, and it reads
// back as what the test asked for.
func TestManifestReadsBackWithoutWarnings(t *testing.T) {
	app := App{
		Name:        "everything",
		Version:     "v1",
		Description: "all the parts",
		Policies: []Policy{{Name: "kv-secrets", Type: "policy.secret.wasmcloud.dev/v1alpha1",
			Properties: map[string]string{"backend": "nats-kv"}}},
		Components: []Component{
			func() Component {
				c := Wasm("hello", "/tmp/hello.wasm", 5).Spread(
					Spread{Name: "east", Weight: 80, Requirements: map[string]string{"zone": "us-east-1"}},
					Spread{Name: "west", Weight: 20, Requirements: map[string]string{"zone": "us-west-1"}})
				c.Secrets = []Secret{{Name: "api", Policy: "kv-secrets", Key: "api-token"}}
				return c.Link(Link{Target: "kv", Namespace: "wasi", Package: "keyvalue", Interfaces: []string{"store", "atomics"},
					TargetConfig: []Config{{Name: "redis-url", Properties: map[string]string{"url": "redis://127.0.0.1:1"}}}})
			}(),
			func() Component {
				c := Builtin("kv", "keyvalue-redis")
				c.ID = "kv-everything"
				return c
			}(),
			HTTPServer("hello", "hello-http", "127.0.0.1:8080").Spread(Spread{Name: "a", Requirements: map[string]string{"role": "a"}}),
		},
	}
	text := app.YAML()
	m, failures, err := model.ValidateBytes([]byte(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if len(failures) != 0 {
		t.Fatalf("validation: %v\n%s", failures, text)
	}
	if m.Metadata.Name != "everything" || m.Metadata.Annotations["version"] != "v1" || m.Metadata.Annotations["description"] != "all the parts" {
		t.Errorf("metadata = %+v", m.Metadata)
	}
	got, _ := json.Marshal(m.Spec)
	want := `{"components":[` +
		`{"name":"hello","type":"component","properties":{"image":"file:///tmp/hello.wasm","secrets":[{"name":"api","properties":{"policy":"kv-secrets","key":"api-token"}}]},"traits":[` +
		`{"type":"spreadscaler","properties":{"instances":5,"spread":[{"name":"east","requirements":{"zone":"us-east-1"},"weight":80},{"name":"west","requirements":{"zone":"us-west-1"},"weight":20}]}},` +
		`{"type":"link","properties":{"namespace":"wasi","package":"keyvalue","interfaces":["store","atomics"],"target":{"name":"kv","config":[{"name":"redis-url","properties":{"url":"redis://127.0.0.1:1"}}]}}}]},` +
		`{"name":"kv","type":"capability","properties":{"image":"wasmcloud+builtin://keyvalue-redis","id":"kv-everything"}},` +
		`{"name":"httpserver","type":"capability","properties":{"image":"wasmcloud+builtin://http-server"},"traits":[` +
		`{"type":"spreadscaler","properties":{"instances":1,"spread":[{"name":"a","requirements":{"role":"a"}}]}},` +
		`{"type":"link","properties":{"namespace":"wasi","package":"http","interfaces":["incoming-handler"],"source":{"config":[{"name":"hello-http","properties":{"address":"127.0.0.1:8080"}}]},"target":{"name":"hello"}}}]}],` +
		`"policies":[{"name":"kv-secrets","properties":{"backend":"nats-kv"},"type":"policy.secret.wasmcloud.dev/v1alpha1"}]}`
	if string(got) != want {
		t.Errorf("spec read back as\n%s\nwant\n%s\nfrom\n%s", got, want, text)
	}
}

// A manifest without annotations still has the key: wadm requires metadata.annotations.
func TestEmptyAnnotationsStayPresent(t *testing.T) {
	text := App{Name: "bare", Components: []Component{Wasm("c", "/c.wasm", 1)}}.YAML()
	if _, failures, err := model.ValidateBytes([]byte(text)); err != nil || len(failures) != 0 {
		t.Fatalf("%v %v\n%s", err, failures, text)
	}
}

// Replicas is upstream's older key for instances; wadm reads both the same.
func TestReplicasIsInstances(t *testing.T) {
	c := Wasm("c", "/c.wasm", 7)
	c.Scaler.Replicas = true
	text := App{Name: "old", Components: []Component{c}}.YAML()
	if !strings.Contains(text, "replicas: 7") || strings.Contains(text, "instances:") {
		t.Fatalf("replicas not written as asked:\n%s", text)
	}
	m, err := model.ParseManifest([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if sc := m.Spec.Components[0].Traits[0].Properties.Scaler; sc == nil || sc.Instances != 7 {
		t.Fatalf("scaler = %+v", m.Spec.Components[0].Traits[0].Properties)
	}
}

// A scaler of zero instances keeps its key (a scaled-to-zero component is still a scaler).
func TestZeroInstancesWritten(t *testing.T) {
	if text := (App{Name: "zero", Components: []Component{Wasm("c", "/c.wasm", 0)}}).YAML(); !strings.Contains(text, "instances: 0") {
		t.Fatalf("instances: 0 missing:\n%s", text)
	}
}
