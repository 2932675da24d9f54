package tui

import (
	"errors"
	"testing"

	"github.com/wasmlattice/wash/lattice/wadm/model"
)

func TestAppsView(t *testing.T) {
	demo := appDetailMsg{name: "demo", status: model.Status{Info: model.Deployed(""), Scalers: []model.ScalerStatus{
		{ID: "s1", Kind: "SpreadScaler", Name: "hello", Status: model.Deployed("")}}},
		manifest: map[string]any{"metadata": map[string]any{"name": "demo"}}}
	withWadm := func(h *viewHarness) { h.data.apps = map[string]appDetailMsg{"demo": demo} }
	lattice := func(edit func(*latticeState)) func(*testing.T) *latticeState {
		return func(t *testing.T) *latticeState {
			st := fixtureLattice(t)
			edit(st)
			return st
		}
	}
	runViewCases(t, newAppsView, []viewCase{
		{name: "apps", width: 60, height: 3, hint: "tab next view • enter open • / filter • d deploy • u undeploy", screen: `
  NAME   DEPLOYED STATUS   MESSAGE
> broken N/A      failed   no host in zone nowhere
  demo   v1       deployed`},
		{name: "drill-down asks wadm", width: 60, height: 20, setup: withWadm, steps: []any{"down", "enter"},
			hint: "esc back • ↑/k up • ↓/j down • d deploy app version • u undeploy app", requests: []string{"app detail demo"}, screen: `
App demo

  Latest:        v2
  Deployed:      v1
  Description:   A demo
  Status:        deployed

  Scalers (1)
  NAME  KIND         STATUS   MESSAGE
  hello SpreadScaler deployed

  Manifest
    metadata:
        name: demo`},
		{name: "until wadm answers", width: 60, height: 8, steps: []any{"enter"}, requests: []string{"app detail broken"}, screen: `
App broken

  Latest:        v1
  Deployed:      N/A
  loading status and manifest…`},
		{name: "wadm fails", width: 60, height: 8, steps: []any{"enter", appDetailMsg{name: "broken", err: errors.New("wadm did not answer")}},
			requests: []string{"app detail broken"}, contains: []string{"  wadm did not answer"}},
		{name: "an answer for another app is dropped", width: 60, height: 8,
			steps: []any{"enter", appDetailMsg{name: "demo", err: errors.New("not this one")}}, requests: []string{"app detail broken"},
			contains: []string{"loading status and manifest…"}},
		{name: "status from wadm applies at once", width: 60, height: 8, setup: withWadm,
			steps:    []any{"down", "enter", appStatusMsg{app: "demo", status: model.Status{Info: model.Reconciling("scaling")}}},
			requests: []string{"app detail demo"}, contains: []string{"Status:        reconciling", "Message:       scaling"}},
		{name: "wadm events and r fetch again", setup: withWadm, steps: []any{"down", "enter", wadmEventMsg{name: "manifest_published"}, reloadMsg{}},
			requests: []string{"app detail demo", "app detail demo", "app detail demo"}},
		{name: "nothing to fetch without a drill-down", steps: []any{wadmEventMsg{name: "x"}, reloadMsg{}}},
		{name: "deploy asks for the version, latest first", steps: []any{"down", "d"}, input: "Deploy which version of demo? > v2"},
		{name: "deploy", steps: []any{"down", "d", "enter", "y"}, out: []string{"flash: working…", `done: deploy demo "v2"`},
			requests: []string{`deploy demo "v2"`}},
		{name: "an empty version is the latest", steps: []any{"down", "d", "backspace", "backspace", "enter"}, input: "Deploy demo version latest? [y/N]"},
		{name: "undeploy", steps: []any{"down", "u"}, input: "Undeploy app demo? [y/N]"},
		{name: "undeploy from the drill-down", setup: withWadm, steps: []any{"down", "enter", "u", "y"},
			out: []string{"flash: working…", "done: undeploy demo"}, requests: []string{"app detail demo", "undeploy demo"}},
		{name: "without wadm", width: 60, height: 2, lattice: lattice(func(st *latticeState) {
			st.apps, st.appsErr = nil, errors.New("no wadm is answering on this lattice")
		}), steps: []any{"d", "u"}, screen: `
  NAME DEPLOYED STATUS MESSAGE
  no wadm is answering on this lattice`},
		{name: "no apps", width: 60, height: 2, lattice: lattice(func(st *latticeState) { st.apps = nil }), screen: `
  NAME DEPLOYED STATUS MESSAGE
  no apps: deploy one with ` + "`wash app deploy`"},
		{name: "an older wadm's flat status", width: 60, height: 2, lattice: lattice(func(st *latticeState) {
			st.apps = []model.ModelSummary{{Name: "old", Status: model.StatusReconciling, StatusMessage: "working on it"}}
		}), screen: `
  NAME DEPLOYED STATUS      MESSAGE
> old  N/A      reconciling working on it`},
	})
}
