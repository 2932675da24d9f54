package tui

import (
	"testing"

	"github.com/wasmlattice/wash/lattice/ctl"
)

func TestConfigView(t *testing.T) {
	// db has no values stored (a link names it), broken could not be read.
	more := func(t *testing.T) *latticeState {
		st := fixtureLattice(t)
		st.links = append(st.links, ctl.Link{SourceID: "c2", Target: "pg", WitNamespace: "wasmcloud", WitPackage: "postgres",
			SourceConfig: []string{"db"}, TargetConfig: []string{"greeting"}})
		st.configValues["db"] = nil
		st.configNames["broken"] = true
		st.configErr["broken"] = "timeout"
		return st
	}
	runViewCases(t, newConfigView, []viewCase{
		{name: "names, key counts and values", width: 60, height: 6, lattice: more, hint: "tab next view • enter open • / filter", screen: `
  NAME     KEYS VALUES
> broken   ?    error: timeout
  db       0    (not stored)
  greeting 2    lang=en text=hi
  later    …    loading…`},
		{name: "drill-down with the links that use it", width: 60, height: 12, lattice: more, steps: []any{"/", "gr", "enter", "enter"},
			hint: "esc back • ↑/k up • ↓/j down", screen: `
Config greeting

  lang = en
  text = hi

  Used by links:
    c1 → http (wasi:http)
    c2 → pg (wasmcloud:postgres)`},
		{name: "not stored", width: 60, height: 12, lattice: more, steps: []any{"down", "enter"}, screen: `
Config db

  not stored in the lattice (referenced by a link only)

  Used by links:
    c2 → pg (wasmcloud:postgres)`},
		{name: "not read yet", width: 60, height: 12, steps: []any{"down", "enter"}, screen: `
Config later

  loading…`},
		{name: "unreadable", width: 60, height: 12, lattice: more, steps: []any{"enter"}, screen: `
Config broken

  error: timeout
  loading…`},
		{name: "filter matches values too", width: 60, height: 6, lattice: more, steps: []any{"/", "t", "=", "h", "enter"},
			hint: "/t=h • tab next view • enter open • / filter", screen: `
  NAME     KEYS VALUES
> greeting 2    lang=en text=hi`},
		{name: "nothing matches", width: 60, height: 3, steps: []any{"/", "z", "z", "z", "enter"}, screen: `
  NAME     KEYS VALUES
  nothing matches /zzz`},
	})
}
