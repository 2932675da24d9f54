package tui

import (
	"testing"
	"time"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
)

func mustEvent(t *testing.T, name, source string, data any) events.Event {
	t.Helper()
	ev, err := events.New(name, source, data)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestApplyEvents(t *testing.T) {
	s := newLatticeState()
	now := time.Unix(1000, 0)
	h := "NHOST1"
	s.applyEvent(mustEvent(t, events.HostStarted, h, events.HostStartedData{FriendlyName: "one", Labels: map[string]string{"zone": "a"}, Version: "1.9.2"}), now)
	if hs := s.hosts[h]; hs == nil || hs.Name != "one" || hs.Labels["zone"] != "a" {
		t.Fatalf("host_started not applied: %+v", s.hosts[h])
	}
	s.applyEvent(mustEvent(t, events.ComponentScaled, h, events.ComponentScaledData{ComponentID: "c1", HostID: h, ImageRef: "img", MaxInstances: 2,
		Annotations: map[string]string{AppSpecAnnotation: "app"}}), now)
	if c := s.hosts[h].Components; len(c) != 1 || c[0].MaxInstances != 2 || c[0].Annotations[AppSpecAnnotation] != "app" {
		t.Fatalf("component_scaled: %+v", c)
	}
	s.applyEvent(mustEvent(t, events.ProviderStarted, h, events.ProviderStartedData{HostID: h, ProviderID: "p1", ImageRef: "pimg",
		Claims: &events.ProviderClaims{Name: "Prov"}}), now)
	s.applyEvent(mustEvent(t, events.HealthCheckFailed, h, events.HealthCheckData{HostID: h, ProviderID: "p1"}), now)
	if p := s.hosts[h].Providers; len(p) != 1 || p[0].Name != "Prov" || s.health[providerKey{h, "p1"}] != "unhealthy" {
		t.Fatalf("provider_started/health: %+v %v", p, s.health)
	}
	s.applyEvent(mustEvent(t, events.LinkdefSet, h, ctl.Link{SourceID: "c1", Target: "p1", WitNamespace: "wasi", WitPackage: "http", Interfaces: []string{"x"}, SourceConfig: []string{"cfg"}}), now)
	s.applyEvent(mustEvent(t, events.ConfigSet, h, events.ConfigData{ConfigName: "other"}), now)
	if got := s.configNamesAll(); len(got) != 2 || got[0] != "cfg" || got[1] != "other" {
		t.Fatalf("config names = %v", got)
	}
	s.applyEvent(mustEvent(t, events.LinkdefDeleted, h, events.LinkdefDeletedData{SourceID: "c1", Name: "default", WitNamespace: "wasi", WitPackage: "http"}), now)
	if len(s.links) != 0 {
		t.Fatalf("link not deleted: %+v", s.links)
	}
	s.applyEvent(mustEvent(t, events.ProviderStopped, h, events.ProviderStoppedData{HostID: h, ProviderID: "p1"}), now)
	s.applyEvent(mustEvent(t, events.ComponentScaled, h, events.ComponentScaledData{ComponentID: "c1", HostID: h, MaxInstances: 0}), now)
	if hs := s.hosts[h]; len(hs.Components) != 0 || len(hs.Providers) != 0 {
		t.Fatalf("scale to 0 / provider_stopped not applied: %+v", hs)
	}
	s.applyEvent(mustEvent(t, events.LabelsChanged, h, events.LabelsChangedData{HostID: h, Labels: map[string]string{"zone": "b"}}), now)
	if s.hosts[h].Labels["zone"] != "b" {
		t.Fatal("labels_changed not applied")
	}
	// A refresh that started before host_stopped must not bring the host back.
	started := now
	s.applyEvent(mustEvent(t, events.HostStopped, h, events.HostStoppedData{}), now.Add(time.Second))
	s.applySnapshot(snapshot{Started: started, Hosts: []ctl.Host{{ID: h, FriendlyName: "one"}}}, now.Add(2*time.Second))
	if _, ok := s.hosts[h]; ok {
		t.Fatal("stale refresh resurrected a stopped host")
	}
	// A host announced after a refresh started survives that refresh even if it did not answer.
	s.applyEvent(mustEvent(t, events.HostStarted, "NHOST2", events.HostStartedData{FriendlyName: "two"}), now.Add(3*time.Second))
	s.applySnapshot(snapshot{Started: now.Add(2500 * time.Millisecond)}, now.Add(4*time.Second))
	if _, ok := s.hosts["NHOST2"]; !ok {
		t.Fatal("refresh dropped a host announced after it started")
	}
	// A later refresh without it drops it.
	s.applySnapshot(snapshot{Started: now.Add(5 * time.Second)}, now.Add(6*time.Second))
	if _, ok := s.hosts["NHOST2"]; ok {
		t.Fatal("host that no longer answers was kept")
	}
	if n := len(s.events); n != 12 {
		t.Fatalf("event log has %d entries, want 12", n)
	}
}

func TestEventRate(t *testing.T) {
	s := newLatticeState()
	base := time.Unix(2000, 0)
	for i := range 50 {
		s.recordEvent(eventEntry{Name: "x"}, base.Add(time.Duration(i)*100*time.Millisecond))
	}
	if r := s.eventRate(base.Add(5 * time.Second)); r != 10 {
		t.Fatalf("rate = %v, want 10", r)
	}
	if r := s.eventRate(base.Add(time.Minute)); r != 0 {
		t.Fatalf("rate after a quiet minute = %v", r)
	}
}

func TestParseView(t *testing.T) {
	for in, want := range map[string]View{"apps": ViewApps, "3": ViewComponents, "Ev": ViewEvents, "hosts": ViewHosts} {
		if v, err := ParseView(in); err != nil || v != want {
			t.Errorf("ParseView(%q) = %v, %v", in, v, err)
		}
	}
	for _, in := range []string{"", "9", "c", "nope"} {
		if _, err := ParseView(in); err == nil {
			t.Errorf("ParseView(%q) accepted", in)
		}
	}
}

func TestTableWidths(t *testing.T) {
	tb := &table{}
	tb.setRows([]column{{Title: "A", Min: 3}, {Title: "B", Min: 4, Flex: true}, {Title: "C", Min: 3}},
		[]row{{Key: "1", Cells: []string{"aaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "cc"}}})
	for _, w := range []int{20, 40, 80} {
		ws := tb.widths(w)
		total := 2 + len(ws) - 1
		for _, x := range ws {
			total += x
		}
		if total > w && w >= 20 {
			t.Errorf("width %d: columns %v take %d", w, ws, total)
		}
	}
}
