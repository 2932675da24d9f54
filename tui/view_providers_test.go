package tui

import "testing"

func TestProvidersView(t *testing.T) {
	const stop = "stop http on " + hostA
	runViewCases(t, newProvidersView, []viewCase{
		{name: "with health", width: 70, height: 3, hint: "tab next view • enter open • / filter • x stop", screen: `
  PROVIDER NAME        IMAGE            HOST  HEALTH  APP
> http     HTTP server ghcr.io/x/http:1 alpha healthy -`},
		{name: "x asks", steps: []any{"x"}, input: "Stop provider http on alpha? [y/N]"},
		{name: "delete asks too", steps: []any{"delete"}, input: "Stop provider http on alpha? [y/N]"},
		{name: "y stops", steps: []any{"x", "y"}, out: []string{"flash: working…", "done: " + stop}, requests: []string{stop}},
		{name: "Y stops", steps: []any{"x", "Y"}, out: []string{"flash: working…", "done: " + stop}, requests: []string{stop}},
		{name: "q cancels", steps: []any{"x", "q"}, out: []string{"flash: cancelled"}},
		{name: "stop from the drill-down", steps: []any{"enter", "x", "y"}, hint: "esc back • ↑/k up • ↓/j down • x stop provider",
			out: []string{"flash: working…", "done: " + stop}, requests: []string{stop}},
		{name: "drill-down", width: 60, height: 12, steps: []any{"enter"}, screen: `
Provider http

  ID:            http
  Name:          HTTP server
  Image:         ghcr.io/x/http:1
  Host:          alpha  NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA…
  Health:        healthy
  Revision:      0
  App:           -
  Annotations:
    none`},
	})
}
