package tui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// providersView lists every provider on every host with its health; x stops the selected one.
type providersView struct{ list }

func newProvidersView(ctx *viewContext) viewModel {
	v := &providersView{}
	v.list = newList(ctx, v, newActionKey(ctx.keys.Stop, "stop", "stop provider", v.confirmStop))
	return v
}

var providerColumns = []column{{Title: "PROVIDER", Min: 8, Max: 40, Flex: true}, {Title: "NAME", Min: 4, Max: 24, Flex: true},
	{Title: "IMAGE", Min: 8, Flex: true}, {Title: "HOST", Min: 6, Max: 30, Flex: true}, {Title: "HEALTH", Min: 6},
	{Title: "APP", Min: 3, Max: 30, Flex: true}}

func (v *providersView) rows() ([]column, []row) {
	c, st := v.ctx, v.ctx.lattice()
	var rows []row
	for _, h := range st.sortedHosts() {
		for _, p := range h.Providers {
			health := st.health[providerKey{h.ID, p.ID}]
			r := row{Key: placementKey(h.ID, p.ID), Cells: []string{c.mask(p.ID), c.mask(orDash(p.Name)), c.mask(orDash(p.ImageRef)),
				c.hostName(h.ID), orDash(health), c.mask(appOf(p.Annotations))}}
			switch health {
			case "healthy":
				r.Styles = styleOf(4, c.sty.ok)
			case "unhealthy":
				r.Styles = styleOf(4, c.sty.bad)
			}
			rows = append(rows, r)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Cells[0] < rows[j].Cells[0] })
	return providerColumns, rows
}

func (v *providersView) detail(key string) (string, []string) {
	c, st := v.ctx, v.ctx.lattice()
	_, id, _ := strings.Cut(key, "/")
	title := "Provider " + c.mask(id)
	p, hostID, ok := st.provider(key)
	if !ok {
		return title, v.gone()
	}
	out := []string{"", kv("ID", c.mask(p.ID)), kv("Name", c.mask(orDash(p.Name))), kv("Image", c.mask(orDash(p.ImageRef))),
		kv("Host", c.hostName(hostID)+"  "+c.mask(hostID)), kv("Health", orDash(st.health[providerKey{hostID, p.ID}])),
		kv("Revision", strconv.Itoa(int(p.Revision))), kv("App", c.mask(appOf(p.Annotations))), "  Annotations:"}
	return title, append(out, c.labelLines(p.Annotations)...)
}

// confirmStop asks before stopping a provider.
func (v *providersView) confirmStop(placement string) tea.Cmd {
	if p, hostID, ok := v.ctx.lattice().provider(placement); ok {
		v.dialog.confirmThen(fmt.Sprintf("Stop provider %s on %s?", p.ID, v.ctx.hostName(hostID)),
			v.ctx.data.stopProvider(hostID, p.ID))
	}
	return nil
}
