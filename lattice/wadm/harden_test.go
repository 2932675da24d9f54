package wadm

import (
	"strings"
	"testing"
)

// A provider that reported health_check_failed (a built-in one that could not apply a link)
// makes its scaler Failed, as upstream's spread scaler does; passing again makes it Deployed.
func TestUnhealthyProviderFailsScaler(t *testing.T) {
	s := NewLatticeState()
	sc := &ProviderSpreadScaler{id: "sc", ProviderID: "p", Reference: "wasmcloud+builtin://http-server",
		Property: SpreadScalerProperty{Instances: 1}}
	h := s.AddHost("N1", map[string]string{})
	h.SetProvider("p", "http-server", SpreadAnnotations(DefaultSpreadName, "sc"), ProviderFailed)
	if cmds, st := sc.Reconcile(s); len(cmds) != 0 || st.Type != StatusFailed || st.Message != "Unhealthy provider on 1 host(s)" {
		t.Fatalf("unhealthy: %v %+v", cmds, st)
	}
	h.SetProvider("p", "http-server", SpreadAnnotations(DefaultSpreadName, "sc"), ProviderRunning)
	if _, st := sc.Reconcile(s); st.Type != StatusDeployed {
		t.Fatalf("healthy again: %+v", st)
	}
}

func TestManifestNameLengths(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, doc := range []string{
		"apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata:\n  name: " + long + "\n  annotations: {}\nspec:\n  components: []\n",
		"apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata:\n  name: app\n  annotations: {}\nspec:\n  components:\n    - name: " + long + "\n      type: component\n      properties:\n        image: file:///x.wasm\n",
	} {
		m, err := ParseManifest([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if msg := CheckPut(m); !strings.Contains(msg, "at most 255 bytes") {
			t.Fatalf("CheckPut = %q", msg)
		}
	}
}
