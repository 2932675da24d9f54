package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/wasmlattice/wash/lattice/ctl"
)

// overviewView shows count tiles, the wadm state and the latest events. It has no keys of its own.
type overviewView struct {
	ctx           *viewContext
	width, height int
	// The rendered tiles and what they showed: lipgloss boxes are costly and most heartbeats
	// change neither the numbers nor the width.
	tilesKey, tilesOut string
}

func newOverviewView(ctx *viewContext) viewModel {
	return &overviewView{ctx: ctx, width: 80, height: 20}
}

func (v *overviewView) Init() tea.Cmd { return nil }

func (v *overviewView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if msg, ok := msg.(tea.WindowSizeMsg); ok {
		v.width, v.height = msg.Width, msg.Height
	}
	return v, nil
}

func (v *overviewView) focus() focus      { return focusNone }
func (v *overviewView) inputLine() string { return "" }

func (v *overviewView) hints() (string, []key.Binding) {
	return "", []key.Binding{v.ctx.keys.Next}
}

// counts are the overview's numbers.
type counts struct {
	hosts, components, providers, apps, links, configs int
	// instances is the sum of max_instances over every placement; unbounded is set when any
	// placement has no limit.
	instances int
	unbounded bool
}

func countLattice(st *latticeState) counts {
	c := counts{hosts: len(st.hosts), apps: len(st.apps), links: len(st.links), configs: len(st.configNamesAll())}
	comps, provs := map[string]bool{}, map[string]bool{}
	for _, h := range st.hosts {
		for _, x := range h.Components {
			comps[x.ID] = true
			if x.MaxInstances == ctl.Unbounded {
				c.unbounded = true
			} else {
				c.instances += int(x.MaxInstances)
			}
		}
		for _, p := range h.Providers {
			provs[p.ID] = true
		}
	}
	c.components, c.providers = len(comps), len(provs)
	return c
}

func (v *overviewView) View() string {
	st, sty := v.ctx.lattice(), v.ctx.sty
	c := countLattice(st)
	rate := fmt.Sprintf("%.1f", st.eventRate(v.ctx.now()))
	if v.ctx.stable {
		rate = "n/s"
	}
	apps := strconv.Itoa(c.apps)
	if st.appsErr != nil {
		apps = "?"
	}
	tiles := []tile{
		{"Hosts", strconv.Itoa(c.hosts)}, {"Components", strconv.Itoa(c.components)}, {"Providers", strconv.Itoa(c.providers)},
		{"Apps", apps}, {"Links", strconv.Itoa(c.links)}, {"Config", strconv.Itoa(c.configs)}, {"Events/s", rate},
	}
	var b strings.Builder
	b.WriteString(v.tiles(tiles))
	b.WriteString("\n")
	wadm := sty.ok.Render("answering")
	switch {
	case st.appsErr != nil:
		wadm = sty.warn.Render(st.appsErr.Error())
	case !st.synced:
		wadm = "…"
	}
	maxInst := strconv.Itoa(c.instances)
	if c.unbounded {
		maxInst = "unbounded"
	}
	b.WriteString(fmt.Sprintf(" wadm: %s   max component instances: %s\n", wadm, maxInst))
	used := strings.Count(b.String(), "\n")
	if left := v.height - used - 1; left > 0 {
		b.WriteString("\n" + sty.bold.Render(" Recent events") + "\n")
		n := left - 1
		start := max(len(st.events)-n, 0)
		if len(st.events) == 0 {
			b.WriteString(sty.dim.Render("  none yet") + "\n")
		}
		for i := len(st.events) - 1; i >= start; i-- {
			e := st.events[i]
			line := fmt.Sprintf("  %s  %-20s %s  %s", v.ctx.clock(e.At), e.Name, v.ctx.hostName(e.Source), v.ctx.mask(e.Summary))
			b.WriteString(fitLine(line, v.width) + "\n")
		}
	}
	return b.String()
}

type tile struct{ label, value string }

// tiles renders the count tiles, reusing the last rendering while nothing in it changed.
func (v *overviewView) tiles(tiles []tile) string {
	key := fmt.Sprint(v.width, tiles)
	if key == v.tilesKey {
		return v.tilesOut
	}
	sty := v.ctx.sty
	// As many tiles per row as fit at 13 cells, spread evenly over the rows needed.
	maxPerRow := max(min(len(tiles), v.width/13), 1)
	nrows := (len(tiles) + maxPerRow - 1) / maxPerRow
	perRow := (len(tiles) + nrows - 1) / nrows
	tileW := max(v.width/perRow-2, 8)
	box := sty.box.Width(tileW)
	var rowsOut []string
	for i := 0; i < len(tiles); i += perRow {
		var boxes []string
		for _, t := range tiles[i:min(i+perRow, len(tiles))] {
			boxes = append(boxes, box.Render(sty.bold.Render(t.value)+"\n"+sty.dim.Render(t.label)))
		}
		rowsOut = append(rowsOut, lipgloss.JoinHorizontal(lipgloss.Top, boxes...))
	}
	v.tilesKey, v.tilesOut = key, strings.Join(rowsOut, "\n")
	return v.tilesOut
}
