package tui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"gopkg.in/yaml.v3"
)

// appsView lists wadm's apps with their status; d deploys a version of the selected app and u
// undeploys it. The drill-down fetches the app's scalers and manifest from wadm when it opens,
// and again when wadm announces a change.
type appsView struct {
	list
	// fetched is the open drill-down's status and manifest, once wadm answered.
	fetched *appDetailMsg
}

func newAppsView(ctx *viewContext) viewModel {
	v := &appsView{}
	v.list = newList(ctx, v, newActionKey(ctx.keys.Deploy, "deploy", "deploy app version", v.askDeploy),
		newActionKey(ctx.keys.Undeploy, "undeploy", "undeploy app", v.confirmUndeploy))
	return v
}

// Update follows wadm for the open drill-down; the list does the rest.
func (v *appsView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case appDetailMsg:
		if v.drill != nil && v.drill.key == msg.name {
			v.fetched = &msg
		}
		return v, nil
	case appStatusMsg:
		if v.drill != nil && v.drill.key == msg.app && v.fetched != nil {
			v.fetched.status = msg.status
		}
		return v, nil
	case wadmEventMsg, reloadMsg:
		if v.drill != nil {
			return v, v.ctx.data.appDetail(v.drill.key)
		}
		return v, nil
	}
	return v.list.Update(msg)
}

// opened fetches the drill-down's data.
func (v *appsView) opened(name string) tea.Cmd {
	v.fetched = nil
	return v.ctx.data.appDetail(name)
}

var appColumns = []column{{Title: "NAME", Min: 6, Max: 30, Flex: true}, {Title: "DEPLOYED", Min: 8, Max: 28},
	{Title: "STATUS", Min: 8}, {Title: "MESSAGE", Min: 7, Flex: true}}

func (v *appsView) rows() ([]column, []row) {
	c := v.ctx
	var rows []row
	for _, a := range c.lattice().apps {
		s := appState(a)
		rows = append(rows, row{Key: a.Name, Cells: []string{c.mask(a.Name), c.mask(deployedVersion(a.DeployedVersion)), orDash(string(s.Type)), c.mask(s.Message)},
			Styles: styleOf(2, c.sty.statusStyle(string(s.Type)))})
	}
	return appColumns, rows
}

// deployedVersion is the version wadm deployed, or N/A.
func deployedVersion(v *string) string {
	if v == nil || *v == "" {
		return "N/A"
	}
	return *v
}

func (v *appsView) emptyText() string {
	st := v.ctx.lattice()
	switch {
	case st.appsErr != nil:
		return st.appsErr.Error()
	case !st.synced:
		return "loading…"
	}
	return "no apps: deploy one with `wash app deploy`"
}

var scalerColumns = []column{{Title: "NAME", Min: 8, Max: 50, Flex: true}, {Title: "KIND", Min: 4}, {Title: "STATUS", Min: 6},
	{Title: "MESSAGE", Min: 7, Flex: true}}

func (v *appsView) detail(name string) (string, []string) {
	c := v.ctx
	title := "App " + c.mask(name)
	out := []string{""}
	if sum, ok := c.lattice().app(name); ok {
		out = append(out, kv("Latest", c.mask(orDash(sum.Version))), kv("Deployed", c.mask(deployedVersion(sum.DeployedVersion))))
		if sum.Description != nil && *sum.Description != "" {
			out = append(out, kv("Description", c.mask(*sum.Description)))
		}
	}
	d := v.fetched
	if d == nil {
		return title, append(out, "  loading status and manifest…")
	}
	if d.err != nil && d.manifest == nil && d.status.Info.Type == "" {
		return title, append(out, c.sty.bad.Render("  "+d.err.Error()))
	}
	st := d.status
	out = append(out, kv("Status", c.sty.statusStyle(string(st.Info.Type)).Render(orDash(string(st.Info.Type)))))
	if st.Info.Message != "" {
		out = append(out, kv("Message", c.mask(st.Info.Message)))
	}
	out = append(out, "", c.sty.bold.Render(fmt.Sprintf("  Scalers (%d)", len(st.Scalers))))
	var rows []row
	for _, s := range st.Scalers {
		rows = append(rows, row{Key: s.ID, Cells: []string{c.mask(s.Name), s.Kind, orDash(string(s.Status.Type)), c.mask(s.Status.Message)},
			Styles: styleOf(2, c.sty.statusStyle(string(s.Status.Type)))})
	}
	out = append(out, c.innerTable(v.width, scalerColumns, rows)...)
	out = append(out, "", c.sty.bold.Render("  Manifest"))
	switch {
	case d.err != nil:
		out = append(out, c.sty.bad.Render("    "+d.err.Error()))
	case d.manifest == nil:
		out = append(out, "    none")
	default:
		b, err := yaml.Marshal(d.manifest)
		if err != nil {
			out = append(out, "    "+err.Error())
		}
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			out = append(out, "    "+c.mask(l))
		}
	}
	return title, out
}

// askDeploy asks which version of an app to deploy (the latest by default), then for
// confirmation.
func (v *appsView) askDeploy(name string) tea.Cmd {
	in := v.ctx.input(200)
	if a, ok := v.ctx.lattice().app(name); ok {
		in.SetValue(a.Version)
	}
	in.CursorEnd()
	return v.dialog.ask(&prompt{label: "Deploy which version of " + name + "?", input: in,
		onDone: func(version string) (*confirm, error) {
			shown := version
			if shown == "" {
				shown = "latest"
			}
			return &confirm{question: fmt.Sprintf("Deploy %s version %s?", name, shown), run: v.ctx.data.deployApp(name, version)}, nil
		}})
}

// confirmUndeploy asks before undeploying an app.
func (v *appsView) confirmUndeploy(name string) tea.Cmd {
	v.dialog.confirmThen("Undeploy app "+name+"?", v.ctx.data.undeployApp(name))
	return nil
}
