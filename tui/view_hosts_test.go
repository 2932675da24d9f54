package tui

import (
	"testing"

	"github.com/wasmlattice/wash/lattice/events"
)

func TestHostsView(t *testing.T) {
	runViewCases(t, newHostsView, []viewCase{
		{name: "sorted by name", width: 70, height: 4, hint: "tab next view • enter open • / filter", screen: `
  NAME  HOST ID                     VERSION UPTIME COMP PROV LABELS
> alpha NAAAAAAAAAAAAAAAAAAAAAAAAA… 1.9.2   -      1    1    zone=east
  beta  NBBBBBBBBBBBBBBBBBBBBBBBBB… 1.9.2   -      1    0    zone=west`},
		{name: "selection moves and stops at the ends", width: 70, height: 4, steps: []any{"down", "down", "j"}, screen: `
  NAME  HOST ID                     VERSION UPTIME COMP PROV LABELS
  alpha NAAAAAAAAAAAAAAAAAAAAAAAAA… 1.9.2   -      1    1    zone=east
> beta  NBBBBBBBBBBBBBBBBBBBBBBBBB… 1.9.2   -      1    0    zone=west`},
		{name: "filter while typing", width: 70, height: 4, steps: []any{"/", "w", "e", "s"}, input: "/wes", screen: `
  NAME  HOST ID                     VERSION UPTIME COMP PROV LABELS
> beta  NBBBBBBBBBBBBBBBBBBBBBBBBB… 1.9.2   -      1    0    zone=west`},
		{name: "filter kept after enter", width: 70, height: 4, steps: []any{"/", "w", "e", "s", "enter"},
			hint: "/wes • tab next view • enter open • / filter"},
		{name: "esc drops the filter being typed", width: 70, height: 4, steps: []any{"/", "w", "esc"}, hint: "tab next view • enter open • / filter",
			contains: []string{"alpha", "beta"}},
		{name: "down ends typing and moves", width: 70, height: 4, steps: []any{"/", "a", "down"}, hint: "/a • tab next view • enter open • / filter",
			contains: []string{"> beta"}},
		{name: "esc clears a kept filter", width: 70, height: 4, steps: []any{"/", "z", "z", "enter", "esc"}, contains: []string{"alpha", "beta"},
			hint: "tab next view • enter open • / filter"},
		// The columns keep the widths of all rows; the hosts view says the same with or without
		// a filter.
		{name: "nothing matches", width: 70, height: 4, steps: []any{"/", "z", "z", "enter"}, screen: `
  NAME  HOST ID                     VERSION UPTIME COMP PROV LABELS
  no hosts in this lattice: start one with ` + "`wash up`"},
		{name: "loading", width: 70, height: 3, lattice: func(*testing.T) *latticeState { return newLatticeState() }, screen: `
  NAME HOST ID VERSION UPTIME COMP PROV LABELS
  loading…`},
		{name: "drill-down", width: 70, height: 30, steps: []any{"down", "enter"}, hint: "esc back • ↑/k up • ↓/j down", screen: `
Host beta

  ID:            NBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB…
  Name:          beta
  Version:       1.9.2
  Uptime:        -
  Labels:
    zone=west

  Components (1)
  ID IMAGE          MAX       APP
  c2 ghcr.io/x/c2:1 unbounded -

  Providers (0)
  ID NAME IMAGE HEALTH APP
  none`},
		{name: "drill-down scrolls", width: 70, height: 5, steps: []any{"enter", "down", "down"}, screen: `
Host alpha  (3-6 of 15)
  Name:          alpha
  Version:       1.9.2
  Uptime:        -
  Labels:`},
		// After G the stored scroll is past what can show; up moves it back before the body moves.
		{name: "drill-down end", width: 70, height: 5, steps: []any{"enter", "G", "up"}, screen: `
Host alpha  (12-15 of 15)

  Providers (1)
  ID   NAME        IMAGE            HEALTH  APP
  http HTTP server ghcr.io/x/http:1 healthy -`},
		{name: "esc leaves the drill-down", width: 70, height: 4, steps: []any{"enter", "esc"}, contains: []string{"> alpha"}},
		{name: "leaving the view closes the drill-down", width: 70, height: 4, steps: []any{"enter", leaveMsg{}}, contains: []string{"> alpha"}},
		{name: "a host that stopped", width: 70, height: 4,
			steps: []any{"enter", applyEvent(t, events.HostStopped, hostA, events.HostStoppedData{}), dataMsg{}}, screen: `
Host NAAAAAAAAAAA…

  this item is gone from the lattice (esc to go back)`},
	})
}
