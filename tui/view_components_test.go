package tui

import (
	"testing"

	"github.com/wasmlattice/wash/lattice/events"
)

func TestComponentsView(t *testing.T) {
	const scaled = "scale c1 on " + hostA + " to 1 ref=ghcr.io/x/c1:1 app=demo"
	runViewCases(t, newComponentsView, []viewCase{
		{name: "every placement", width: 60, height: 4, hint: "tab next view • enter open • / filter • s scale", screen: `
  COMPONENT IMAGE          HOST  MAX       APP
> c1        ghcr.io/x/c1:1 alpha 3         demo
  c2        ghcr.io/x/c2:1 beta  unbounded -`},
		{name: "scale asks for a count, prefilled", steps: []any{"s"},
			input: "Scale c1 to how many instances (0 stops it)? > 3"},
		{name: "then for confirmation, naming the app", steps: []any{"s", "backspace", "1", "enter"},
			input: "Scale c1 on alpha to 1? (managed by app demo; wadm may revert it) [y/N]"},
		{name: "y sends the scale, keeping the annotations", steps: []any{"s", "backspace", "1", "enter", "y"},
			out: []string{"flash: working…", "done: " + scaled}, requests: []string{scaled}},
		{name: "n cancels", steps: []any{"s", "backspace", "1", "enter", "n"}, out: []string{"flash: cancelled"}},
		{name: "esc in the prompt cancels", steps: []any{"s", "esc"}, out: []string{"flash: cancelled"}},
		{name: "keys in the question other than y/n wait", steps: []any{"s", "enter", "x", "tab"},
			input: "Scale c1 on alpha to 3? (managed by app demo; wadm may revert it) [y/N]"},
		{name: "a bad count", steps: []any{"s", "backspace", "x", "enter"},
			out: []string{`error: invalid count "x": enter a whole number (0 stops the component)`}},
		{name: "no app, no warning", steps: []any{"down", "s", "backspace", "backspace", "backspace", "backspace", "backspace",
			"backspace", "backspace", "backspace", "backspace", "backspace", "2", "enter"}, input: "Scale c2 on beta to 2? [y/N]"},
		{name: "scale from the drill-down", steps: []any{"enter", "s", "enter", "y"}, hint: "esc back • ↑/k up • ↓/j down • s scale component",
			out:      []string{"flash: working…", "done: scale c1 on " + hostA + " to 3 ref=ghcr.io/x/c1:1 app=demo"},
			requests: []string{"scale c1 on " + hostA + " to 3 ref=ghcr.io/x/c1:1 app=demo"}},
		{name: "nothing to scale", lattice: func(*testing.T) *latticeState { return newLatticeState() }, steps: []any{"s"}},
		{name: "drill-down", width: 60, height: 14, steps: []any{"enter"}, screen: `
Component c1

  ID:            c1
  Name:          -
  Image:         ghcr.io/x/c1:1
  Host:          alpha  NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA…
  Max instances: 3
  Revision:      2
  App:           demo
  Annotations:
    wasmcloud.dev/appspec=demo`},
		{name: "drill-down follows events", width: 60, height: 14, steps: []any{"enter",
			applyEvent(t, events.ComponentScaled, hostA, events.ComponentScaledData{ComponentID: "c1", HostID: hostA, ImageRef: "ghcr.io/x/c1:2", MaxInstances: 5})},
			contains: []string{"Image:         ghcr.io/x/c1:2", "Max instances: 5"}},
		{name: "scaled to zero: gone", width: 60, height: 4, steps: []any{"enter",
			applyEvent(t, events.ComponentScaled, hostA, events.ComponentScaledData{ComponentID: "c1", HostID: hostA, MaxInstances: 0}), "s"},
			contains: []string{"this item is gone"}},
	})
}
