package wadm

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// TestNotificationJSON pins the wadm.notify wire format: serde's externally tagged enum of
// upstream crates/wadm/src/scaler/manager.rs:41-59 (Option<CloudEvent> is written as null).
func TestNotificationJSON(t *testing.T) {
	m, err := model.ParseManifest([]byte(stepApp))
	if err != nil {
		t.Fatal(err)
	}
	ev := `{"specversion":"1.0","id":"01J","type":"com.wasmcloud.lattice.component_scaled","source":"NA","datacontenttype":"application/json","time":"2026-01-01T00:00:00.000000Z","data":{"annotations":{},"component_id":"c","host_id":"NA","image_ref":"r","max_instances":2}}`
	app := "demo"
	golden := []struct {
		n    Notification
		want string
	}{
		{Notification{CreateScalers: m}, `{"CreateScalers":{"apiVersion":"core.oam.dev/v1beta1","kind":"Application","metadata":{"name":"demo","annotations":{"version":"v1"}},"spec":{"components":[{"name":"hello","type":"component","properties":{"image":"file:///hello.wasm"},"traits":[{"type":"spreadscaler","properties":{"instances":4}}]}]}}}`},
		{Notification{DeleteScalers: &app}, `{"DeleteScalers":"demo"}`},
		{Notification{RegisterExpectedEvents: &RegisterExpectedEvents{Name: "demo", ScalerID: "s1"}}, `{"RegisterExpectedEvents":{"name":"demo","scaler_id":"s1","triggering_event":null}}`},
		{Notification{RegisterExpectedEvents: &RegisterExpectedEvents{Name: "demo", ScalerID: "s1", TriggeringEvent: json.RawMessage(ev)}}, `{"RegisterExpectedEvents":{"name":"demo","scaler_id":"s1","triggering_event":` + ev + `}}`},
		{Notification{RemoveExpectedEvent: &RemoveExpectedEvent{Name: "demo", ScalerID: "s1", Event: json.RawMessage(ev)}}, `{"RemoveExpectedEvent":{"name":"demo","scaler_id":"s1","event":` + ev + `}}`},
	}
	for _, g := range golden {
		b, err := model.Marshal(g.n)
		if err != nil || string(b) != g.want {
			t.Errorf("encode:\n got %s (%v)\nwant %s", b, err, g.want)
			continue
		}
		var back Notification
		if err := json.Unmarshal([]byte(g.want), &back); err != nil || back.App() != "demo" {
			t.Errorf("decode %s: %v %+v", g.want, err, back)
		}
		if again, _ := model.Marshal(back); string(again) != g.want {
			t.Errorf("round trip:\n got %s\nwant %s", again, g.want)
		}
	}
	for _, bad := range []string{`{}`, `{"DeleteScalers":"a","CreateScalers":{}}`, `{"Reconcile":"a"}`, `[]`, `{"DeleteScalers":3}`} {
		var n Notification
		if err := json.Unmarshal([]byte(bad), &n); err == nil {
			t.Errorf("decoded %s", bad)
		}
	}
	if _, err := model.Marshal(Notification{}); err == nil {
		t.Error("encoded an empty notification")
	}
}

// reconcilerWithHostNA is a reconciler and its worker state after host NA started.
func reconcilerWithHostNA(t *testing.T) (*reconciler, *WorkerState, time.Time, *fakeReads) {
	r := newReconciler(time.Minute, nil)
	st := NewWorkerState()
	now := time.Now()
	reads := &fakeReads{}
	r.Step(st, hostEvent(t, events.HostStarted, "NA", events.HostStartedData{}), now, reads)
	return r, st, now, reads
}

// TestStepNotifies: a deploy tells peers to create the scalers and to expect what the commands
// cause; the answer removes the expectation; an undeploy deletes the scalers.
func TestStepNotifies(t *testing.T) {
	r, st, now, reads := reconcilerWithHostNA(t)
	res := r.Step(st, published(t, stepApp), now, reads)
	if len(res.Notifications) != 2 || res.Notifications[0].CreateScalers == nil || res.Notifications[1].RegisterExpectedEvents == nil {
		t.Fatalf("deploy notifications %+v", res.Notifications)
	}
	reg := res.Notifications[1].RegisterExpectedEvents
	if reg.Name != "demo" || reg.TriggeringEvent != nil {
		t.Fatalf("after a deploy peers reconcile: %+v", reg)
	}
	ans := scaled(t, "NA", "demo-hello", 4, mineAnn())
	res = r.Step(st, ans, now, reads)
	if len(res.Notifications) != 1 || res.Notifications[0].RemoveExpectedEvent == nil || res.Notifications[0].RemoveExpectedEvent.ScalerID != reg.ScalerID {
		t.Fatalf("answer notifications %+v", res.Notifications)
	}
	if got, _ := events.Parse(res.Notifications[0].RemoveExpectedEvent.Event); got.ID != ans.ID {
		t.Errorf("removed event %+v", got)
	}
	ev, err := NewManifestUnpublishedEvent("id", now, "demo")
	res = r.Step(st, wadmEvent(t, ev, err), now, reads)
	if n := res.Notifications; len(n) != 1 || n[0].DeleteScalers == nil || *n[0].DeleteScalers != "demo" {
		t.Fatalf("undeploy notifications %+v", n)
	}
}

// TestApplyNotification: a real wadm's notifications change wadm_state the way its own
// processes change their scalers.
func TestApplyNotification(t *testing.T) {
	r, st, now, reads := reconcilerWithHostNA(t)
	m, _ := model.ParseManifest([]byte(stepApp))
	// A stale CreateScalers (not the deployed version) changes nothing.
	if _, err := r.ApplyNotification(st, Notification{CreateScalers: m}, "v0", now, reads); !errors.Is(err, errIgnored) || len(st.Apps) != 0 {
		t.Fatalf("stale create: %v %v", err, st.Apps)
	}
	if _, err := r.ApplyNotification(st, Notification{CreateScalers: m}, "v1", now, reads); err != nil || len(st.Apps) != 1 {
		t.Fatalf("create: %v %v", err, st.Apps)
	}
	id := r.scalersFor("demo", st.Apps["demo"])[0].ID()
	if _, err := r.ApplyNotification(st, Notification{RegisterExpectedEvents: &RegisterExpectedEvents{Name: "demo", ScalerID: id}}, "", now, reads); err != nil {
		t.Fatal(err)
	}
	if e := st.Expected[id]; e == nil || len(e.Events) != 1 || e.Events[0].Key != "demo-hello@NA" {
		t.Fatalf("registered %+v", st.Expected)
	}
	// While it waits for the peer's command to take effect, this process sends nothing.
	if res := r.Step(st, hostEvent(t, events.HostStarted, "NB", events.HostStartedData{}), now, reads); len(res.Commands) != 0 {
		t.Fatalf("sent %v while the peer's command is pending", scaleSummary(res.Commands))
	}
	raw, _ := json.Marshal(scaled(t, "NA", "demo-hello", 4, mineAnn()))
	if _, err := r.ApplyNotification(st, Notification{RemoveExpectedEvent: &RemoveExpectedEvent{Name: "demo", ScalerID: id, Event: raw}}, "", now, reads); err != nil || len(st.Expected[id].Events) != 0 {
		t.Fatalf("remove: %v %+v", err, st.Expected[id])
	}
	app := "demo"
	if _, err := r.ApplyNotification(st, Notification{DeleteScalers: &app}, "v1", now, reads); !errors.Is(err, errIgnored) {
		t.Fatalf("delete of a still deployed app: %v", err)
	}
	statuses, err := r.ApplyNotification(st, Notification{DeleteScalers: &app}, "", now, reads)
	if err != nil || len(st.Apps) != 0 || statuses["demo"].Info.Type != model.StatusUndeployed {
		t.Fatalf("delete: %v %v %+v", err, st.Apps, statuses)
	}
}
