package wadm

import (
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/testmanifest"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// healthApp is hello-http: a component served by the built-in http-server on address, given
// in the link's source config.
func healthApp(address string) string {
	return testmanifest.App{Name: "demo", Version: "v1", Components: []testmanifest.Component{
		testmanifest.Wasm("hello", "/hello.wasm", 1),
		testmanifest.HTTPServer("hello", "http-address", address),
	}}.YAML()
}

// healthLattice drives the pure step with the events one wash host publishes for the app's
// commands, in an order the test chooses, and records every status of the app.
type healthLattice struct {
	t        *testing.T
	r        *reconciler
	st       *WorkerState
	reads    fakeReads
	now      time.Time
	statuses []model.StatusInfo
	// what the deploy asked for
	scale   ScaleComponent
	start   StartProvider
	link    PutLink
	configs []PutConfig
	// linkHost stores the link and publishes linkdef_set ("NA" unless a test says otherwise)
	linkHost string
	from     int // the first status that must not be Deployed
}

func newHealthLattice(t *testing.T) *healthLattice {
	l := &healthLattice{t: t, r: newReconciler(time.Minute, nil), st: NewWorkerState(),
		reads: fakeReads{configs: map[string]map[string]string{}}, linkHost: "NA", now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l.step(hostEvent(t, events.HostStarted, "NA", events.HostStartedData{FriendlyName: "a"}))
	return l
}

func (l *healthLattice) step(ev events.Event) StepResult {
	l.t.Helper()
	l.now = l.now.Add(10 * time.Millisecond)
	res := l.r.Step(l.st, ev, l.now, &l.reads)
	if st, ok := res.Statuses["demo"]; ok {
		l.statuses = append(l.statuses, st.Info)
	}
	for _, c := range res.Commands {
		switch c := deref(c).(type) {
		case ScaleComponent:
			l.scale = c
		case StartProvider:
			l.start = c
		case PutLink:
			l.link = c
		case PutConfig:
			l.configs = append(l.configs, c)
		}
	}
	return res
}

// deploy publishes the manifest with the http-server on address.
func (l *healthLattice) deploy(address string) {
	l.t.Helper()
	l.configs = nil
	l.step(published(l.t, healthApp(address)))
}

// What the host does, one event each.
func (l *healthLattice) configSet() {
	for _, c := range l.configs {
		l.reads.configs[c.ConfigName] = c.Config
		l.step(hostEvent(l.t, events.ConfigSet, "NA", events.ConfigData{ConfigName: c.ConfigName}))
	}
}

func (l *healthLattice) componentScaled() {
	c := l.scale
	l.step(scaled(l.t, "NA", c.ComponentID, c.Count, c.Annotations))
}

func (l *healthLattice) providerStarted(reportsHealth bool) {
	c := l.start
	l.step(hostEvent(l.t, events.ProviderStarted, c.HostID, events.ProviderStartedData{HostID: c.HostID, ProviderID: c.ProviderID,
		ImageRef: "http-server", Annotations: c.Annotations, ReportsHealth: reportsHealth}))
}

// linkStored makes the link visible to link.get (the host stored it; its providers may not
// have it yet).
func (l *healthLattice) linkStored() {
	c := l.link
	l.reads.links = []Link{{SourceID: c.SourceID, Target: c.Target, Name: c.Name, WitNamespace: c.WitNamespace,
		WitPackage: c.WitPackage, Interfaces: c.Interfaces, SourceConfig: c.SourceConfig, TargetConfig: c.TargetConfig}}
}

// linkdefSet is published by the host that stored the link.
func (l *healthLattice) linkdefSet() {
	c := l.link
	l.step(hostEvent(l.t, events.LinkdefSet, l.linkHost, ctl.Link{SourceID: c.SourceID, Target: c.Target, Name: c.Name,
		WitNamespace: c.WitNamespace, WitPackage: c.WitPackage, Interfaces: c.Interfaces, SourceConfig: c.SourceConfig}))
}

// health is the provider's health report.
func (l *healthLattice) health(name, message string) {
	h := l.start.HostID
	l.step(hostEvent(l.t, name, h, events.HealthCheckData{HostID: h, ProviderID: l.start.ProviderID, Message: message}))
}

// heartbeat is an event from elsewhere: it makes the step read the lattice.
func (l *healthLattice) heartbeat() {
	l.step(hostEvent(l.t, events.HostStarted, "NZ", events.HostStartedData{FriendlyName: "z"}))
}

// neverDeployed checks that no status since index from said Deployed, and that the last one
// is want.
func (l *healthLattice) neverDeployed(from int, want model.StatusInfo) {
	l.t.Helper()
	for i, st := range l.statuses[from:] {
		if st.Type == model.StatusDeployed {
			l.t.Fatalf("status %d of %d is Deployed although the provider cannot apply the link: %+v", from+i+1, len(l.statuses), l.statuses)
		}
	}
	if got := l.statuses[len(l.statuses)-1]; got != want {
		l.t.Fatalf("last status %+v, want %+v (all: %+v)", got, want, l.statuses)
	}
}

const inUse = "http-server cannot listen on 127.0.0.1:8080: address already in use"

var unhealthy = model.Failed("Unhealthy provider on 1 host(s): " + inUse)

// TestNoDeployedBeforeLinkHealth (#13.3): an app whose http-server cannot listen never shows
// Deployed, in every order one wash host can publish the events of a deploy. Before, wadm
// called the app deployed as soon as the provider had started and the link was readable, and
// the health_check_failed that followed came too late for `wash app deploy`.
func TestNoDeployedBeforeLinkHealth(t *testing.T) {
	orders := map[string]func(l *healthLattice){
		// The provider runs before the link is put; the host hands the link to it and reports
		// its health before linkdef_set. Another event lands between the link's store and the
		// report, with the link readable.
		"link put to a running provider": func(l *healthLattice) {
			l.configSet()
			l.providerStarted(true)
			l.health(events.HealthCheckPassed, "") // started with no links
			l.linkStored()
			l.componentScaled()
			l.health(events.HealthCheckFailed, inUse)
			l.linkdefSet()
		},
		// The link is stored before the provider runs: the provider gets it at its start and
		// reports right after provider_started.
		"provider started after the link": func(l *healthLattice) {
			l.configSet()
			l.linkStored()
			l.linkdefSet()
			l.componentScaled()
			l.providerStarted(true)
			l.health(events.HealthCheckFailed, inUse)
		},
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			l := newHealthLattice(t)
			l.deploy("127.0.0.1:8080")
			order(l)
			l.neverDeployed(0, unhealthy)
		})
	}
}

// TestLinkHealthKnownThenDeployed: the same orders with a provider that applies the link end
// Deployed, once the report arrived; a provider that does not report link health (a real
// wasmCloud host) is Deployed as before, without waiting.
func TestLinkHealthKnownThenDeployed(t *testing.T) {
	l := newHealthLattice(t)
	l.deploy("127.0.0.1:8080")
	l.configSet()
	l.linkStored()
	l.linkdefSet()
	l.componentScaled()
	l.providerStarted(true)
	if st := l.statuses[len(l.statuses)-1]; st.Type != model.StatusReconciling || !strings.Contains(st.Message, "first health report on 1 host(s)") {
		t.Fatalf("after provider_started: %+v", st)
	}
	l.health(events.HealthCheckPassed, "")
	if st := l.statuses[len(l.statuses)-1]; st.Type != model.StatusDeployed {
		t.Fatalf("after the health report: %+v", l.statuses)
	}

	u := newHealthLattice(t)
	u.deploy("127.0.0.1:8080")
	u.configSet()
	u.linkStored()
	u.linkdefSet()
	u.componentScaled()
	u.providerStarted(false)
	if st := u.statuses[len(u.statuses)-1]; st.Type != model.StatusDeployed {
		t.Fatalf("a provider without link health reports: %+v", u.statuses)
	}
}
