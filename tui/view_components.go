package tui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/wasmlattice/wash/lattice/ctl"
)

// componentsView lists every component on every host; s scales the selected one.
type componentsView struct{ list }

func newComponentsView(ctx *viewContext) viewModel {
	v := &componentsView{}
	v.list = newList(ctx, v, newActionKey(ctx.keys.Scale, "scale", "scale component", v.askScale))
	return v
}

var componentColumns = []column{{Title: "COMPONENT", Min: 8, Max: 40, Flex: true}, {Title: "IMAGE", Min: 8, Flex: true},
	{Title: "HOST", Min: 6, Max: 30, Flex: true}, {Title: "MAX", Min: 3}, {Title: "APP", Min: 3, Max: 30, Flex: true}}

func (v *componentsView) rows() ([]column, []row) {
	c := v.ctx
	var rows []row
	for _, h := range c.lattice().sortedHosts() {
		for _, x := range h.Components {
			rows = append(rows, row{Key: placementKey(h.ID, x.ID), Cells: []string{c.mask(x.ID), c.mask(x.ImageRef), c.hostName(h.ID),
				maxInstances(x.MaxInstances), c.mask(appOf(x.Annotations))}})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Cells[0] < rows[j].Cells[0] })
	return componentColumns, rows
}

func (v *componentsView) detail(key string) (string, []string) {
	c := v.ctx
	_, id, _ := strings.Cut(key, "/")
	title := "Component " + c.mask(id)
	x, hostID, ok := c.lattice().component(key)
	if !ok {
		return title, v.gone()
	}
	out := []string{"", kv("ID", c.mask(x.ID)), kv("Name", c.mask(orDash(x.Name))), kv("Image", c.mask(x.ImageRef)),
		kv("Host", c.hostName(hostID)+"  "+c.mask(hostID)), kv("Max instances", maxInstances(x.MaxInstances)),
		kv("Revision", strconv.Itoa(int(x.Revision))), kv("App", c.mask(appOf(x.Annotations))), "  Annotations:"}
	out = append(out, c.labelLines(x.Annotations)...)
	if len(x.Limits) > 0 {
		out = append(out, "  Limits:")
		out = append(out, c.labelLines(x.Limits)...)
	}
	return title, out
}

// askScale asks for the new instance count of a component, then for confirmation.
func (v *componentsView) askScale(placement string) tea.Cmd {
	x, hostID, ok := v.ctx.lattice().component(placement)
	if !ok {
		return nil
	}
	in := v.ctx.input(10)
	in.SetValue(strconv.FormatUint(uint64(x.MaxInstances), 10))
	in.CursorEnd()
	return v.dialog.ask(&prompt{label: "Scale " + x.ID + " to how many instances (0 stops it)?", input: in,
		onDone: func(value string) (*confirm, error) {
			n, err := strconv.ParseUint(value, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("invalid count %q: enter a whole number (0 stops the component)", value)
			}
			q := fmt.Sprintf("Scale %s on %s to %d?", x.ID, v.ctx.hostName(hostID), n)
			if app := x.Annotations[AppSpecAnnotation]; app != "" {
				q += " (managed by app " + app + "; wadm may revert it)"
			}
			cmd := ctl.ScaleComponentCommand{ComponentRef: x.ImageRef, ComponentID: x.ID, HostID: hostID,
				Count: uint32(n), Annotations: x.Annotations}
			return &confirm{question: q, run: v.ctx.data.scaleComponent(cmd)}, nil
		}})
}
