package tui

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// dataSource feeds the views: the lattice as the dashboard last saw it, and the requests a view
// may make. A request is a tea.Cmd that answers with an actionMsg (or an appDetailMsg), so
// nothing blocks in Update or View. The dashboard's source is feed (NATS); view tests use a fake.
type dataSource interface {
	// lattice is the merged state; views read it only from Update and View.
	lattice() *latticeState
	appDetail(name string) tea.Cmd
	scaleComponent(cmd ctl.ScaleComponentCommand) tea.Cmd
	stopProvider(hostID, providerID string) tea.Cmd
	deleteLink(l ctl.Link) tea.Cmd
	deployApp(name, version string) tea.Cmd
	undeployApp(name string) tea.Cmd
}

// appDetailMsg is the drill-down data of one app.
type appDetailMsg struct {
	name     string
	status   model.Status
	manifest map[string]any
	err      error
}

// actionMsg reports the outcome of a request.
type actionMsg struct {
	text string
	err  error
}
