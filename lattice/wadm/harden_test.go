package wadm

import (
	"testing"
	"time"

	"github.com/wasmlattice/wash/lattice/events"
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

// The reason a host gives with health_check_failed reaches the app status, on one line, and
// goes away when the provider passes again.
func TestUnhealthyProviderReason(t *testing.T) {
	o := newObserved()
	o.hosts["N1"] = HostRecord{ID: "N1", Providers: []ProviderInfo{{ProviderID: "p", ProviderRef: "http-server",
		Annotations: SpreadAnnotations(model.DefaultSpreadName, "sc")}}}
	health := func(name, msg string) {
		t.Helper()
		ev, err := events.New(name, "N1", events.HealthCheckData{HostID: "N1", ProviderID: "p", Message: msg})
		if err != nil {
			t.Fatal(err)
		}
		o.apply(ev, time.Now(), time.Minute)
	}
	sc := &ProviderSpreadScaler{id: "sc", ProviderID: "p", Reference: "wasmcloud+builtin://http-server",
		Property: model.SpreadScalerProperty{Instances: 1}}
	health(events.HealthCheckFailed, "http-server cannot listen on 127.0.0.1:8080:\naddress already in use")
	health(events.HealthCheckStatus, "")
	want := "Unhealthy provider on 1 host(s): http-server cannot listen on 127.0.0.1:8080: address already in use"
	if _, st := sc.Reconcile(o.snapshot(nil, nil)); st.Type != model.StatusFailed || st.Message != want {
		t.Fatalf("status %+v, want Failed %q", st, want)
	}
	health(events.HealthCheckPassed, "")
	if _, st := sc.Reconcile(o.snapshot(nil, nil)); st.Type != model.StatusDeployed || len(o.providers["p"].Unhealthy) != 0 {
		t.Fatalf("after passing: %+v %+v", st, o.providers["p"])
	}
}
