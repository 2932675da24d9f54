package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"
)

// View renders the screen: title, connection banner, tabs, the view's body (or the help) and
// the status line. It only reads state.
func (m *Model) View() string {
	sty := m.ctx.sty
	var b strings.Builder
	b.WriteString(m.titleBar())
	b.WriteString("\n")
	if !m.connected {
		msg := "NATS connection lost"
		if m.connErr != "" {
			msg += " (" + m.connErr + ")"
		}
		msg += " — reconnecting to " + m.ctx.mask(m.o.ServerURL) + "…"
		b.WriteString(sty.banner.Render(fitLine(" "+msg, m.width)))
		b.WriteString("\n")
	}
	b.WriteString(m.tabBar())
	b.WriteString("\n")
	body := m.views[m.view].View()
	if m.showHelp {
		body = m.helpView()
	}
	b.WriteString(fitHeight(body, m.bodyHeight(), m.width))
	b.WriteString("\n")
	b.WriteString(m.statusLine())
	return b.String()
}

func (m *Model) titleBar() string {
	sty := m.ctx.sty
	left := sty.title.Render("wash dashboard") + "  lattice " + sty.bold.Render(m.ctx.mask(m.o.Lattice)) + "  " + m.ctx.mask(m.o.ServerURL)
	var right string
	if m.connected {
		right = sty.ok.Render("● connected")
	} else {
		right = sty.bad.Render("○ disconnected")
	}
	gap := m.width - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		return fitLine(left, m.width)
	}
	return left + strings.Repeat(" ", gap) + right
}

func (m *Model) tabBar() string {
	// Wide terminals get roomy tabs; at 80 columns the compact form still shows every name.
	labels := make([]string, numViews)
	total := 0
	for i, n := range allViews {
		labels[i] = strconv.Itoa(i+1) + ":" + n.name
		total += len(labels[i]) + 1
	}
	sep, padc := " ", ""
	if total+2+int(numViews)*2 <= m.width {
		sep, padc = "  ", " "
	}
	parts := make([]string, numViews)
	for i, l := range labels {
		if View(i) == m.view {
			parts[i] = m.ctx.sty.activeTab.Render("[" + l + "]")
		} else {
			parts[i] = m.ctx.sty.tab.Render(padc + l + padc)
		}
	}
	return fitLine(strings.Join(parts, sep), m.width)
}

// statusLine is the view's prompt while it has the keys; otherwise a flash or the hints on the
// left and the refresh state on the right.
func (m *Model) statusLine() string {
	v, sty := m.views[m.view], m.ctx.sty
	if v.focus() != focusNone {
		return v.inputLine()
	}
	var right string
	switch {
	case !m.st.synced:
		right = "loading…"
	case m.o.Stable:
		right = "synced"
	case m.refreshing:
		right = "refreshing…"
	default:
		right = "updated " + m.lastRefresh.Format("15:04:05")
	}
	right = sty.dim.Render(right)
	var left string
	if m.flash != "" {
		st := sty.flashOK
		if m.flashErr {
			st = sty.flashErr
		}
		left = st.Render(m.flash)
	} else {
		filter, keys := v.hints()
		if filter != "" {
			left = sty.info.Render("/"+filter) + "  "
		}
		if m.showHelp {
			keys = []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("any key", "close help"))}
		} else {
			keys = append(keys, m.keys.Help, m.keys.Quit)
		}
		left += m.help.ShortHelpView(keys)
	}
	avail := m.width - ansi.StringWidth(right) - 1
	if ansi.StringWidth(left) > avail {
		left = ansi.Truncate(left, max(avail, 0), "…")
	}
	gap := max(m.width-ansi.StringWidth(left)-ansi.StringWidth(right), 1)
	return left + strings.Repeat(" ", gap) + right
}

// helpView lists every key.
func (m *Model) helpView() string {
	sty := m.ctx.sty
	var b strings.Builder
	b.WriteString(sty.bold.Render("Keys") + "\n\n")
	hm := m.help
	hm.Width = m.width
	b.WriteString(hm.FullHelpView(m.keys.fullHelp()))
	views := make([]string, numViews)
	for i, n := range allViews {
		views[i] = fmt.Sprintf("%d %s", i+1, strings.ToLower(n.name))
	}
	b.WriteString("\n\n" + sty.dim.Render("Views: "+strings.Join(views, ", ")+"."))
	b.WriteString("\n" + sty.dim.Render("Actions ask for confirmation first. q or Ctrl+C quits."))
	return b.String()
}
