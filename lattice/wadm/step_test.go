package wadm

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// fakeReads answers a step's lattice reads from memory and counts what it was asked.
type fakeReads struct {
	links   []Link
	configs map[string]map[string]string
	queued  bool
	asked   int
}

func (f *fakeReads) Links() []Link { f.asked++; return f.links }
func (f *fakeReads) Configs(names []string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, n := range names {
		if c, ok := f.configs[n]; ok {
			out[n] = c
		}
	}
	return out
}
func (f *fakeReads) CommandsQueued() bool { return f.queued }

func hostEvent(t *testing.T, name, host string, data any) events.Event {
	t.Helper()
	ev, err := events.New(name, host, data)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func wadmEvent(t *testing.T, ev CloudEvent, err error) events.Event {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ev)
	out, perr := events.Parse(b)
	if perr != nil {
		t.Fatal(perr)
	}
	return out
}

const stepApp = `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: demo
  annotations:
    version: v1
spec:
  components:
    - name: hello
      type: component
      properties:
        image: file:///hello.wasm
      traits:
        - type: spreadscaler
          properties:
            instances: 4
`

func published(t *testing.T, manifest string) events.Event {
	t.Helper()
	m, err := model.ParseManifest([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := NewManifestPublishedEvent("id", time.Unix(0, 0), m)
	return wadmEvent(t, ev, err)
}

func scaled(t *testing.T, host, comp string, count int, ann map[string]string) events.Event {
	return hostEvent(t, events.ComponentScaled, host, events.ComponentScaledData{ComponentID: comp, HostID: host,
		ImageRef: "file:///hello.wasm", MaxInstances: uint32(count), Annotations: ann})
}

// stepCase is one event fed to a step, with what must come out of it.
type stepCase struct {
	name  string
	at    time.Duration // since the test's t0
	event func(t *testing.T, st *WorkerState) events.Event
	reads fakeReads
	// commands as scaleSummary writes them; status of app "demo" ("" = none published)
	commands []string
	// rechecked is how many of the commands are marked for a check against the host
	rechecked int
	status    model.StatusInfo
	check     func(t *testing.T, st *WorkerState)
}

func runSteps(t *testing.T, cases []stepCase) {
	t.Helper()
	r := newReconciler(70*time.Second, nil)
	st := NewWorkerState()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range cases {
		reads := c.reads
		res := r.Step(st, c.event(t, st), t0.Add(c.at), &reads)
		if got := scaleSummary(res.Commands); !reflect.DeepEqual(got, c.commands) && (len(got) > 0 || len(c.commands) > 0) {
			t.Fatalf("%s: commands %v, want %v", c.name, got, c.commands)
		}
		if len(res.Recheck) != c.rechecked {
			t.Fatalf("%s: %d commands to recheck, want %d", c.name, len(res.Recheck), c.rechecked)
		}
		if got := res.Statuses["demo"].Info; got != c.status {
			t.Fatalf("%s: status %+v, want %+v", c.name, got, c.status)
		}
		if c.check != nil {
			c.check(t, st)
		}
	}
}

var mineAnn = func() map[string]string {
	return withAppNamed(SpreadAnnotations(model.DefaultSpreadName, ScalerIDForComponent(model.KindSpreadScaler, "demo", "hello", "demo-hello", "file:///hello.wasm", nil)), "demo")
}

func withAppNamed(ann map[string]string, app string) map[string]string {
	return WithManagedAnnotations(ann, app)
}

// TestStepDeployAndExpectations: a deploy places the instances and waits for the host's
// answer; other events meanwhile change nothing; the answer completes the wait and the scaler
// finds nothing left to do in the same step; undeploy cleans up.
func TestStepDeployAndExpectations(t *testing.T) {
	runSteps(t, []stepCase{
		{name: "host starts", event: func(t *testing.T, _ *WorkerState) events.Event {
			return hostEvent(t, events.HostStarted, "NA", events.HostStartedData{FriendlyName: "a", Labels: map[string]string{"zone": "x"}})
		}, check: func(t *testing.T, st *WorkerState) {
			if h := st.Hosts["NA"]; h.FriendlyName != "a" || h.Labels["zone"] != "x" {
				t.Fatalf("host record %+v", h)
			}
		}},
		{name: "deploy", at: time.Second, event: func(t *testing.T, _ *WorkerState) events.Event { return published(t, stepApp) },
			commands: []string{"NA=4/default"}, status: model.Reconciling("Scaling component on 1 host(s)"),
			check: func(t *testing.T, st *WorkerState) {
				if len(st.Apps) != 1 || len(st.Expected) != 1 {
					t.Fatalf("apps %d expected %d", len(st.Apps), len(st.Expected))
				}
				for _, e := range st.Expected {
					if e.Deadline.Sub(time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)) != scaleExpectTimeout || len(e.Events) != 1 || e.Events[0].Key != "demo-hello@NA" {
						t.Fatalf("expectation %+v", e)
					}
				}
			}},
		{name: "unrelated host event while waiting", at: 2 * time.Second, event: func(t *testing.T, _ *WorkerState) events.Event {
			return hostEvent(t, events.HostStarted, "NB", events.HostStartedData{})
		}, status: model.Reconciling("Scaling component on 1 host(s)")},
		{name: "the host answers", at: 3 * time.Second, event: func(t *testing.T, _ *WorkerState) events.Event {
			return scaled(t, "NA", "demo-hello", 4, mineAnn())
		}, status: model.Deployed(""), check: func(t *testing.T, st *WorkerState) {
			if len(st.Expected) != 0 {
				t.Fatalf("expectations left %+v", st.Expected)
			}
			if c := st.Components["demo-hello"]; !reflect.DeepEqual(c.Instances["NA"], []InstanceInfo{{Annotations: mineAnn(), Count: 4}}) {
				t.Fatalf("component record %+v", c)
			}
		}},
		{name: "undeploy", at: 4 * time.Second, event: func(t *testing.T, _ *WorkerState) events.Event {
			ev, err := NewManifestUnpublishedEvent("id", time.Unix(0, 0), "demo")
			return wadmEvent(t, ev, err)
		}, commands: []string{"NA=0/default"}, status: model.UndeployedStatus.Info, check: func(t *testing.T, st *WorkerState) {
			if len(st.Apps) != 0 || len(st.Expected) != 0 {
				t.Fatalf("apps %v expected %v", st.Apps, st.Expected)
			}
		}},
	})
}

// TestStepWaitTimeoutAndFailure: an expectation that runs out re-plans, unless commands still
// wait in the queue; a failure event holds the scaler failed for the backoff.
func TestStepWaitTimeoutAndFailure(t *testing.T) {
	host := func(t *testing.T, _ *WorkerState) events.Event {
		return hostEvent(t, events.HostStarted, "NA", events.HostStartedData{})
	}
	heartbeat := func(t *testing.T, _ *WorkerState) events.Event {
		return hostEvent(t, events.HostHeartbeat, "NA", ctl.HostInventory{HostID: "NA"})
	}
	reconciling := model.Reconciling("Scaling component on 1 host(s)")
	runSteps(t, []stepCase{
		{name: "host", event: host},
		{name: "deploy", event: func(t *testing.T, _ *WorkerState) events.Event { return published(t, stepApp) },
			commands: []string{"NA=4/default"}, status: reconciling},
		{name: "heartbeat before the deadline", at: 10 * time.Second, event: heartbeat},
		{name: "deadline passed, queue busy", at: 25 * time.Second, event: heartbeat, reads: fakeReads{queued: true}, status: reconciling},
		{name: "deadline passed, queue empty: re-planned, to be checked against the host first", at: 26 * time.Second, event: heartbeat,
			commands: []string{"NA=4/default"}, rechecked: 1, status: reconciling},
		{name: "the host fails", at: 27 * time.Second, event: func(t *testing.T, _ *WorkerState) events.Event {
			return hostEvent(t, events.ComponentScaleFailed, "NA", events.ComponentScaleFailedData{ComponentID: "demo-hello", HostID: "NA", Error: "no such file"})
		}, status: model.Failed("no such file")},
		{name: "in backoff", at: 29 * time.Second, event: host, status: model.Failed("no such file")},
		{name: "backoff over: tried again", at: 33 * time.Second, event: heartbeat, commands: []string{"NA=4/default"}, status: reconciling},
	})
}

// TestStepHostFold: the observed records follow host events; a heartbeat that changes nothing
// but last_seen asks the lattice nothing.
func TestStepHostFold(t *testing.T) {
	r := newReconciler(70*time.Second, nil)
	st := NewWorkerState()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reads := &fakeReads{}
	inv := ctl.HostInventory{HostID: "NA", Labels: map[string]string{"zone": "x"},
		Components: []ctl.ComponentDescription{{ID: "c1", ImageRef: "r1", MaxInstances: 3, Annotations: map[string]string{"k": "v"}}}}
	r.Step(st, hostEvent(t, events.HostHeartbeat, "NA", inv), now, reads)
	if h := st.Hosts["NA"]; h.Components["c1"] != 3 || !h.LastSeen.Equal(now) {
		t.Fatalf("host after heartbeat %+v", h)
	}
	r.Step(st, hostEvent(t, events.HostHeartbeat, "NA", inv), now.Add(30*time.Second), reads)
	if reads.asked != 0 {
		t.Errorf("an unchanged heartbeat asked the lattice for links %d times", reads.asked)
	}
	// A rescale replaces the host's instance set (one per component id).
	r.Step(st, scaled(t, "NA", "c1", 5, map[string]string{"k": "w"}), now, reads)
	if got := st.Components["c1"].Instances["NA"]; !reflect.DeepEqual(got, []InstanceInfo{{Annotations: map[string]string{"k": "w"}, Count: 5}}) {
		t.Fatalf("instances after rescale %+v", got)
	}
	// Expiry: not before the expiry, then gone with everything it ran.
	exp := func(gone bool) events.Event {
		ev := CloudEvent{SpecVersion: "1.0", ID: "x", Type: EventTypeHostExpired, Source: EventSource, Time: now}
		ev.Data, _ = json.Marshal(HostExpired{HostID: "NA", Gone: gone})
		return wadmEvent(t, ev, nil)
	}
	r.Step(st, exp(false), now.Add(60*time.Second), reads)
	if _, ok := st.Hosts["NA"]; !ok {
		t.Fatal("host expired 30 s after its last heartbeat")
	}
	r.Step(st, exp(true), now.Add(61*time.Second), reads)
	if len(st.Hosts) != 0 || len(st.Components) != 0 {
		t.Fatalf("gone host left records: %+v %+v", st.Hosts, st.Components)
	}
	// host_stopped removes the host too.
	r.Step(st, hostEvent(t, events.HostStarted, "NB", events.HostStartedData{}), now, reads)
	r.Step(st, hostEvent(t, events.HostStopped, "NB", events.HostStoppedData{}), now, reads)
	if len(st.Hosts) != 0 {
		t.Fatalf("stopped host kept: %+v", st.Hosts)
	}
	if !strings.HasPrefix(EventTypeHostExpired, "com.wadm.") {
		t.Error("wadm's own event types live under com.wadm")
	}
}

// TestStepGoneHostReleasesScalers (#12.4): commands sent to a host that then vanished are never
// answered; once the host is reported gone its scalers place the work elsewhere at once instead
// of waiting out the expected-event timeout (20 s for a scale, a minute for a provider).
func TestStepGoneHostReleasesScalers(t *testing.T) {
	started := func(id string) func(t *testing.T, _ *WorkerState) events.Event {
		return func(t *testing.T, _ *WorkerState) events.Event {
			return hostEvent(t, events.HostStarted, id, events.HostStartedData{})
		}
	}
	reconciling := model.Reconciling("Scaling component on 1 host(s)")
	runSteps(t, []stepCase{
		{name: "old host", event: started("NA")},
		{name: "deploy", event: func(t *testing.T, _ *WorkerState) events.Event { return published(t, stepApp) },
			commands: []string{"NA=4/default"}, status: reconciling},
		{name: "a new host while waiting", at: time.Second, event: started("NB"), status: reconciling},
		{name: "the old host is gone", at: 2 * time.Second, event: func(t *testing.T, _ *WorkerState) events.Event {
			ev := CloudEvent{SpecVersion: "1.0", ID: "x", Type: EventTypeHostExpired, Source: EventSource}
			ev.Data, _ = json.Marshal(HostExpired{HostID: "NA", Gone: true})
			return wadmEvent(t, ev, nil)
		}, commands: []string{"NB=4/default"}, status: reconciling},
	})
}

// TestStepReturningHostOrphans: a host taken for gone comes back still running an app that was
// undeployed meanwhile; its instances are removed (no scaler owns them any more). Hosts found by
// wadm's own discovery are not swept.
func TestStepReturningHostOrphans(t *testing.T) {
	r := newReconciler(time.Minute, nil)
	st := NewWorkerState()
	now := time.Now()
	reads := &fakeReads{}
	inv := ctl.HostInventory{HostID: "NA", Components: []ctl.ComponentDescription{
		{ID: "gone-hello", ImageRef: "r", MaxInstances: 3, Annotations: WithManagedAnnotations(SpreadAnnotations("default", "s1"), "gone")},
		{ID: "byhand", ImageRef: "r", MaxInstances: 1},
	}}
	discovered := CloudEvent{SpecVersion: "1.0", ID: "x", Type: EventTypeHostInventory, Source: EventSource}
	discovered.Data, _ = json.Marshal(inv)
	if res := r.Step(st, wadmEvent(t, discovered, nil), now, reads); len(res.Orphans) != 0 {
		t.Fatalf("discovery swept %v", scaleSummary(res.Orphans))
	}
	delete(st.Hosts, "NA") // expired meanwhile
	res := r.Step(st, hostEvent(t, events.HostHeartbeat, "NA", inv), now, reads)
	if got := scaleSummary(res.Orphans); len(got) != 1 || got[0] != "NA=0/default" || res.Orphans[0].(ScaleComponent).ComponentID != "gone-hello" {
		t.Fatalf("orphans %v", got)
	}
	if res := r.Step(st, hostEvent(t, events.HostHeartbeat, "NA", inv), now, reads); len(res.Orphans) != 0 {
		t.Fatalf("a known host's heartbeat swept %v", scaleSummary(res.Orphans))
	}
}

// TestStepInventoryNeverForgetsAnEvent (CI TestClusterFailover): a wadm process that starts
// asks the hosts for their inventory and sends it to the event worker through wadm's own
// stream, so it can arrive after the host's component_scaled of a component started since.
// That older inventory must not make the worker forget the component (its scaler, its wait
// over, would scale it a second time); an inventory listing what the events have not told
// yet (they are late) adds it.
func TestStepInventoryNeverForgetsAnEvent(t *testing.T) {
	discovered := func(inv ctl.HostInventory) func(t *testing.T, _ *WorkerState) events.Event {
		return func(t *testing.T, _ *WorkerState) events.Event {
			ev := CloudEvent{SpecVersion: "1.0", ID: "x", Type: EventTypeHostInventory, Source: EventSource}
			ev.Data, _ = json.Marshal(inv)
			return wadmEvent(t, ev, nil)
		}
	}
	other := ctl.ComponentDescription{ID: "byhand", ImageRef: "r", MaxInstances: 1}
	runSteps(t, []stepCase{
		{name: "host", event: func(t *testing.T, _ *WorkerState) events.Event {
			return hostEvent(t, events.HostHeartbeat, "NA", ctl.HostInventory{HostID: "NA"})
		}},
		{name: "deploy", event: func(t *testing.T, _ *WorkerState) events.Event { return published(t, stepApp) },
			commands: []string{"NA=4/default"}, status: model.Reconciling("Scaling component on 1 host(s)")},
		{name: "the host answers", at: time.Second, event: func(t *testing.T, _ *WorkerState) events.Event {
			return scaled(t, "NA", "demo-hello", 4, mineAnn())
		}, status: model.Deployed("")},
		{name: "an inventory taken before the start", at: 2 * time.Second, event: discovered(ctl.HostInventory{HostID: "NA", Components: []ctl.ComponentDescription{other}}),
			status: model.Deployed(""), check: func(t *testing.T, st *WorkerState) {
				if st.Hosts["NA"].Components["demo-hello"] != 4 || st.Hosts["NA"].Components["byhand"] != 1 || len(st.Components["demo-hello"].Instances["NA"]) != 1 {
					t.Fatalf("after the old inventory: host %+v, components %+v", st.Hosts["NA"], st.Components)
				}
			}},
		{name: "undeploy, the host's answer is late", at: 3 * time.Second, event: func(t *testing.T, _ *WorkerState) events.Event {
			ev, err := NewManifestUnpublishedEvent("id", time.Unix(0, 0), "demo")
			return wadmEvent(t, ev, err)
		}, commands: []string{"NA=0/default"}, status: model.UndeployedStatus.Info},
		{name: "deploy again", at: 4 * time.Second, event: func(t *testing.T, _ *WorkerState) events.Event { return published(t, stepApp) },
			status: model.Deployed("")},
	})
	// An inventory listing a component the state does not know yet adds it.
	st := NewWorkerState()
	r := newReconciler(time.Minute, nil)
	now := time.Now()
	r.Step(st, hostEvent(t, events.HostHeartbeat, "NA", ctl.HostInventory{HostID: "NA"}), now, &fakeReads{})
	r.Step(st, wadmEvent(t, func() CloudEvent {
		ev := CloudEvent{SpecVersion: "1.0", ID: "y", Type: EventTypeHostInventory, Source: EventSource}
		ev.Data, _ = json.Marshal(ctl.HostInventory{HostID: "NA", Components: []ctl.ComponentDescription{other}})
		return ev
	}(), nil), now, &fakeReads{})
	if st.Hosts["NA"].Components["byhand"] != 1 || st.Components["byhand"].Instances["NA"][0].Count != 1 {
		t.Fatalf("a late component was not added: %+v %+v", st.Hosts["NA"], st.Components)
	}
}

// TestStepSameDeployTwice: a deploy applied from wadm_manifests (applyDrift) and its own event
// arriving later are the same manifest: the second plans nothing, whether the host answered
// meanwhile or not, so no component is scaled twice.
func TestStepSameDeployTwice(t *testing.T) {
	deploy := func(t *testing.T, _ *WorkerState) events.Event { return published(t, stepApp) }
	waiting := model.Reconciling("Scaling component on 1 host(s)")
	runSteps(t, []stepCase{
		{name: "host starts", event: func(t *testing.T, _ *WorkerState) events.Event {
			return hostEvent(t, events.HostStarted, "NA", events.HostStartedData{})
		}},
		{name: "deploy", at: time.Second, event: deploy, commands: []string{"NA=4/default"}, status: waiting},
		{name: "the same deploy while waiting", at: 2 * time.Second, event: deploy, status: waiting},
		{name: "the host answers", at: 3 * time.Second, event: func(t *testing.T, _ *WorkerState) events.Event {
			return scaled(t, "NA", "demo-hello", 4, mineAnn())
		}, status: model.Deployed("")},
		{name: "the same deploy once done", at: 4 * time.Second, event: deploy, status: model.Deployed("")},
	})
}
