package tui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// linksView lists the lattice's links; x deletes the selected one.
type linksView struct{ list }

func newLinksView(ctx *viewContext) viewModel {
	v := &linksView{}
	v.list = newList(ctx, v, newActionKey(ctx.keys.Stop, "delete", "delete link", v.confirmDelete))
	return v
}

var linkColumns = []column{{Title: "SOURCE", Min: 6, Max: 30, Flex: true}, {Title: "TARGET", Min: 6, Max: 30, Flex: true},
	{Title: "WIT", Min: 6, Max: 40, Flex: true}, {Title: "NAME", Min: 4, Max: 20}, {Title: "SOURCE CONFIG", Min: 6, Max: 30, Flex: true},
	{Title: "TARGET CONFIG", Min: 6, Max: 30, Flex: true}}

func (v *linksView) rows() ([]column, []row) {
	c := v.ctx
	var rows []row
	for _, l := range c.lattice().sortedLinks() {
		wit := l.WitNamespace + ":" + l.WitPackage + "/" + strings.Join(l.Interfaces, ",")
		rows = append(rows, row{Key: linkKey(l), Cells: []string{c.mask(l.SourceID), c.mask(l.Target), wit, c.mask(orDash(l.Name)),
			c.mask(orDash(strings.Join(l.SourceConfig, ","))), c.mask(orDash(strings.Join(l.TargetConfig, ",")))}})
	}
	return linkColumns, rows
}

func (v *linksView) detail(key string) (string, []string) {
	c := v.ctx
	l, ok := c.lattice().link(key)
	title := "Link " + c.mask(l.SourceID) + " → " + c.mask(l.Target)
	if !ok {
		return title, v.gone()
	}
	return title, []string{"", kv("Source", c.mask(l.SourceID)), kv("Target", c.mask(l.Target)), kv("Name", c.mask(l.Name)),
		kv("WIT", l.WitNamespace+":"+l.WitPackage), kv("Interfaces", strings.Join(l.Interfaces, ", ")),
		kv("Source config", c.mask(orDash(strings.Join(l.SourceConfig, ", ")))),
		kv("Target config", c.mask(orDash(strings.Join(l.TargetConfig, ", "))))}
}

// confirmDelete asks before deleting a link.
func (v *linksView) confirmDelete(key string) tea.Cmd {
	if l, ok := v.ctx.lattice().link(key); ok {
		v.dialog.confirmThen(fmt.Sprintf("Delete link %s → %s (%s:%s, %s)?", l.SourceID, l.Target, l.WitNamespace, l.WitPackage, l.Name),
			v.ctx.data.deleteLink(l))
	}
	return nil
}
