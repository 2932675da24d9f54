package wadm

import (
	"testing"

	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// A provider that reported health_check_failed (a built-in one that could not apply a link)
// makes its scaler Failed, as upstream's spread scaler does; passing again makes it Deployed.
func TestUnhealthyProviderFailsScaler(t *testing.T) {
	s := NewLatticeState()
	sc := &ProviderSpreadScaler{id: "sc", ProviderID: "p", Reference: "wasmcloud+builtin://http-server",
		Property: model.SpreadScalerProperty{Instances: 1}}
	h := s.AddHost("N1", map[string]string{})
	h.SetProvider("p", "http-server", SpreadAnnotations(model.DefaultSpreadName, "sc"), ProviderFailed)
	if cmds, st := sc.Reconcile(s); len(cmds) != 0 || st.Type != model.StatusFailed || st.Message != "Unhealthy provider on 1 host(s)" {
		t.Fatalf("unhealthy: %v %+v", cmds, st)
	}
	h.SetProvider("p", "http-server", SpreadAnnotations(model.DefaultSpreadName, "sc"), ProviderRunning)
	if _, st := sc.Reconcile(s); st.Type != model.StatusDeployed {
		t.Fatalf("healthy again: %+v", st)
	}
}
