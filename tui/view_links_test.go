package tui

import (
	"testing"

	"github.com/wasmlattice/wash/lattice/events"
)

func TestLinksView(t *testing.T) {
	const del = "delete link c1 wasi:http default"
	runViewCases(t, newLinksView, []viewCase{
		{name: "links", width: 80, height: 3, hint: "tab next view • enter open • / filter • x delete", screen: `
  SOURCE TARGET WIT                        NAME    SOURCE CONFIG TARGET CONFIG
> c1     http   wasi:http/outgoing-handler default -             greeting`},
		{name: "x asks", steps: []any{"x"}, input: "Delete link c1 → http (wasi:http, default)? [y/N]"},
		{name: "y deletes", steps: []any{"x", "y"}, out: []string{"flash: working…", "done: " + del}, requests: []string{del}},
		{name: "esc cancels", steps: []any{"x", "esc"}, out: []string{"flash: cancelled"}},
		{name: "delete from the drill-down", steps: []any{"enter", "x", "y"}, hint: "esc back • ↑/k up • ↓/j down • x delete link",
			out: []string{"flash: working…", "done: " + del}, requests: []string{del}},
		{name: "drill-down", width: 60, height: 12, steps: []any{"enter"}, screen: `
Link c1 → http

  Source:        c1
  Target:        http
  Name:          default
  WIT:           wasi:http
  Interfaces:    outgoing-handler
  Source config: -
  Target config: greeting`},
		{name: "deleted while open", width: 60, height: 4, steps: []any{"enter",
			applyEvent(t, events.LinkdefDeleted, hostA, events.LinkdefDeletedData{SourceID: "c1", Name: "default", WitNamespace: "wasi", WitPackage: "http"}),
			dataMsg{}, "x"}, screen: `
Link  →

  this item is gone from the lattice (esc to go back)`},
		{name: "none", lattice: func(*testing.T) *latticeState { s := newLatticeState(); s.synced = true; return s }, width: 80, height: 2,
			steps: []any{"x"}, screen: `
  SOURCE TARGET WIT NAME SOURCE CONFIG TARGET CONFIG
  none`},
	})
}
