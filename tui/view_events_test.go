package tui

import (
	"fmt"
	"testing"

	"github.com/wasmlattice/wash/lattice/events"
)

func TestEventsView(t *testing.T) {
	labels := func(t *testing.T) func(*latticeState) {
		return applyEvent(t, events.LabelsChanged, hostB, events.LabelsChangedData{HostID: hostB, Labels: map[string]string{"tier": "gold"}})
	}
	// raw is an event whose data is not JSON.
	raw := func(st *latticeState) {
		st.recordEvent(eventEntry{Name: "odd", Source: "somewhere", Raw: []byte("not json"), Summary: "?"}, fixtureNow)
	}
	runViewCases(t, newEventsView, []viewCase{
		{name: "the log, newest last and selected", width: 70, height: 4, hint: "tab next view • enter open • / filter", screen: `
  TIME     EVENT               SOURCE DETAILS
  --:--:-- health_check_passed alpha  http
> --:--:-- config_set          alpha  later`},
		{name: "follows new events", width: 70, height: 5, steps: []any{labels(t), dataMsg{}}, screen: `
  TIME     EVENT               SOURCE DETAILS
  --:--:-- health_check_passed alpha  http
  --:--:-- config_set          alpha  later
> --:--:-- labels_changed      beta   tier=gold`},
		{name: "stays put when moved up", width: 70, height: 5, steps: []any{"up", labels(t), dataMsg{}}, contains: []string{"> --:--:-- health_check_passed"}},
		{name: "stays put while filtered", width: 70, height: 5, steps: []any{"/", "c", "o", "n", "enter", labels(t), dataMsg{}},
			contains: []string{"> --:--:-- config_set"}},
		{name: "old events leave with the log", width: 70, height: 3, steps: []any{func(st *latticeState) {
			for i := range maxEvents {
				st.recordEvent(eventEntry{Name: fmt.Sprintf("e%04d", i), Source: hostA}, fixtureNow)
			}
		}, dataMsg{}, "g"}, screen: `
  TIME     EVENT SOURCE DETAILS
> --:--:-- e0000 alpha
  --:--:-- e0001 alpha`},
		{name: "drill-down", width: 70, height: 12, steps: []any{"enter"}, hint: "esc back • ↑/k up • ↓/j down", screen: `
Event

  Time:          --:--:--
  Event:         config_set
  Source:        alpha  NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA…
  Data:
    {
      "config_name": "later"
    }`},
		{name: "data that is not JSON", width: 70, height: 12, steps: []any{raw, dataMsg{}, "enter"}, screen: `
Event

  Time:          --:--:--
  Event:         odd
  Source:        somewhere  somewhere
  Data:
    not json`},
		{name: "an event gone from the log", width: 70, height: 4, steps: []any{"enter", func(st *latticeState) { st.events = nil }}, screen: `
Event

  this item is gone from the lattice (esc to go back)`},
	})
}
