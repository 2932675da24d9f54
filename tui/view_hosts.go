package tui

import (
	"fmt"
	"strconv"

	"github.com/wasmlattice/wash/lattice/events"
)

// hostsView lists the hosts; a drill-down shows one host's labels, components and providers.
type hostsView struct{ list }

func newHostsView(ctx *viewContext) viewModel {
	v := &hostsView{}
	v.list = newList(ctx, v)
	return v
}

var hostColumns = []column{{Title: "NAME", Min: 8, Max: 30}, {Title: "HOST ID", Min: 8, Max: 56, Flex: true},
	{Title: "VERSION", Min: 5}, {Title: "UPTIME", Min: 5}, {Title: "COMP", Min: 4}, {Title: "PROV", Min: 4},
	{Title: "LABELS", Min: 6, Flex: true}}

func (v *hostsView) rows() ([]column, []row) {
	c := v.ctx
	var rows []row
	for _, h := range c.lattice().sortedHosts() {
		rows = append(rows, row{Key: h.ID, Cells: []string{c.mask(orDash(h.Name)), c.mask(h.ID), orDash(h.Version), c.uptime(h),
			strconv.Itoa(len(h.Components)), strconv.Itoa(len(h.Providers)), c.mask(orDash(events.LabelString(h.Labels)))}})
	}
	return hostColumns, rows
}

func (v *hostsView) emptyText() string {
	if !v.ctx.lattice().synced {
		return "loading…"
	}
	return "no hosts in this lattice: start one with `wash up`"
}

var (
	hostComponentColumns = []column{{Title: "ID", Min: 6, Max: 40, Flex: true}, {Title: "IMAGE", Min: 8, Flex: true},
		{Title: "MAX", Min: 3}, {Title: "APP", Min: 3, Max: 30, Flex: true}}
	hostProviderColumns = []column{{Title: "ID", Min: 6, Max: 40, Flex: true}, {Title: "NAME", Min: 4, Max: 20},
		{Title: "IMAGE", Min: 8, Flex: true}, {Title: "HEALTH", Min: 6}, {Title: "APP", Min: 3, Max: 30, Flex: true}}
)

func (v *hostsView) detail(id string) (string, []string) {
	c, st := v.ctx, v.ctx.lattice()
	title := "Host " + c.hostName(id)
	h := st.hosts[id]
	if h == nil {
		return title, v.gone()
	}
	out := []string{"", kv("ID", c.mask(h.ID)), kv("Name", c.mask(orDash(h.Name))), kv("Version", orDash(h.Version)),
		kv("Uptime", c.uptime(h)), "  Labels:"}
	out = append(out, c.labelLines(h.Labels)...)
	out = append(out, "", c.sty.bold.Render(fmt.Sprintf("  Components (%d)", len(h.Components))))
	var rows []row
	for _, x := range h.Components {
		rows = append(rows, row{Key: x.ID, Cells: []string{c.mask(x.ID), c.mask(x.ImageRef), maxInstances(x.MaxInstances), c.mask(appOf(x.Annotations))}})
	}
	out = append(out, c.innerTable(v.width, hostComponentColumns, rows)...)
	out = append(out, "", c.sty.bold.Render(fmt.Sprintf("  Providers (%d)", len(h.Providers))))
	rows = nil
	for _, p := range h.Providers {
		rows = append(rows, row{Key: p.ID, Cells: []string{c.mask(p.ID), c.mask(orDash(p.Name)), c.mask(orDash(p.ImageRef)),
			orDash(st.health[providerKey{h.ID, p.ID}]), c.mask(appOf(p.Annotations))}})
	}
	out = append(out, c.innerTable(v.width, hostProviderColumns, rows)...)
	return title, out
}
