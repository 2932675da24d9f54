package tui

import (
	"errors"
	"testing"
)

func TestOverviewView(t *testing.T) {
	runViewCases(t, newOverviewView, []viewCase{
		{name: "counts and recent events", width: 60, height: 14, hint: "tab next view", screen: `
╭─────────────╮╭─────────────╮╭─────────────╮╭─────────────╮
│      2      ││      2      ││      1      ││      2      │
│    Hosts    ││ Components  ││  Providers  ││    Apps     │
╰─────────────╯╰─────────────╯╰─────────────╯╰─────────────╯
╭─────────────╮╭─────────────╮╭─────────────╮
│      1      ││      2      ││     n/s     │
│    Links    ││   Config    ││  Events/s   │
╰─────────────╯╰─────────────╯╰─────────────╯
 wadm: answering   max component instances: unbounded

 Recent events
  --:--:--  config_set           alpha  later
  --:--:--  health_check_passed  alpha  http`},
		{name: "before the first refresh, without wadm", width: 100, height: 9,
			lattice: func(*testing.T) *latticeState {
				st := newLatticeState()
				st.appsErr = errors.New("no wadm is answering on this lattice")
				return st
			},
			// Keys do nothing here: there is no table.
			steps: []any{"down", "enter", "/", "s"},
			screen: `
╭────────────╮╭────────────╮╭────────────╮╭────────────╮╭────────────╮╭────────────╮╭────────────╮
│     0      ││     0      ││     0      ││     ?      ││     0      ││     0      ││    n/s     │
│   Hosts    ││ Components ││ Providers  ││    Apps    ││   Links    ││   Config   ││  Events/s  │
╰────────────╯╰────────────╯╰────────────╯╰────────────╯╰────────────╯╰────────────╯╰────────────╯
 wadm: no wadm is answering on this lattice   max component instances: 0

 Recent events
  none yet`},
		{name: "no room for events", width: 60, height: 9, contains: []string{"wadm: answering"}},
	})
}
