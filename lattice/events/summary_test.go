package events_test

import (
	"testing"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
)

func TestSummary(t *testing.T) {
	mk := func(name string, data any) events.Event {
		e, err := events.New(name, "NHOST", data)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	cases := []struct {
		ev   events.Event
		want string
	}{
		{mk(events.HostStarted, events.HostStartedData{FriendlyName: "one", Version: "1.9.2", Labels: map[string]string{"hostcore.os": "linux", "zone": "a", "b": "c"}}), "one version 1.9.2 labels [b=c,zone=a]"},
		{mk(events.HostHeartbeat, ctl.HostInventory{FriendlyName: "one", UptimeHuman: "5s", Components: []ctl.ComponentDescription{{ID: "x"}}}), "one: 1 component(s), 0 provider(s), up 5s"},
		{mk(events.ComponentScaled, events.ComponentScaledData{ComponentID: "c", MaxInstances: ctl.Unbounded, ImageRef: "r"}), "c max_instances=unbounded ref=r"},
		{mk(events.ComponentScaleFailed, events.ComponentScaleFailedData{ComponentID: "c", ImageRef: "r", Error: "bad\n  thing"}), "c ref=r error: bad thing"},
		{mk(events.ProviderStopped, events.ProviderStoppedData{ProviderID: "p", Reason: "stop"}), "p reason=stop"},
		{mk(events.LinkdefSet, ctl.Link{SourceID: "s", Target: "t", WitNamespace: "wasi", WitPackage: "http", Interfaces: []string{"a", "b"}, Name: "default"}), "s -> t wasi:http/a,b (default)"},
		{mk(events.LinkdefSetFailed, events.LinkdefSetFailedData{Link: ctl.Link{SourceID: "s", Target: "t", WitNamespace: "w", WitPackage: "p", Interfaces: []string{"i"}}, Error: "no"}), "s -> t w:p/i (default) error: no"},
		{mk(events.LabelsChanged, events.LabelsChangedData{Labels: map[string]string{"tier": "gold", "zone": "test"}}), "tier=gold,zone=test"},
		{mk(events.ConfigSet, events.ConfigData{ConfigName: "later"}), "later"},
		{events.Event{Type: events.WadmTypePrefix + events.ManifestPublished, Data: []byte(`{"metadata":{"name":"app","annotations":{"version":"v1"}}}`)}, "app version v1"},
		{events.Event{Type: events.TypePrefix + "something_new", Data: []byte(`{"a": 1}`)}, `{"a":1}`},
		{events.Event{Type: events.TypePrefix + events.ComponentScaled, Data: []byte(`not json`)}, `not json`},
	}
	for _, c := range cases {
		if got := events.Summary(c.ev); got != c.want {
			t.Errorf("Summary(%s) = %q, want %q", c.ev.ShortName(), got, c.want)
		}
	}
}
