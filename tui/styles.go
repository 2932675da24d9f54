package tui

import "github.com/charmbracelet/lipgloss"

// styles are built once: with colour off every style is plain, and the layout keeps working
// because selection and the active tab also have text markers.
type styles struct {
	color                       bool
	title, tab, activeTab       lipgloss.Style
	header, selected, dim, bold lipgloss.Style
	ok, warn, bad, info         lipgloss.Style
	banner, flashOK, flashErr   lipgloss.Style
	key                         lipgloss.Style
	box                         lipgloss.Style // a count tile on the overview
}

func newStyles(color bool) styles {
	if !color {
		p := lipgloss.NewStyle()
		return styles{title: p, tab: p, activeTab: p, header: p, selected: p, dim: p, bold: p, ok: p, warn: p,
			bad: p, info: p, banner: p, flashOK: p, flashErr: p, key: p, box: tileBox(p)}
	}
	return styles{
		color:     true,
		title:     lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("6")),
		tab:       lipgloss.NewStyle().Faint(true),
		activeTab: lipgloss.NewStyle().Bold(true).Reverse(true),
		header:    lipgloss.NewStyle().Bold(true).Underline(true),
		selected:  lipgloss.NewStyle().Reverse(true),
		dim:       lipgloss.NewStyle().Faint(true),
		bold:      lipgloss.NewStyle().Bold(true),
		ok:        lipgloss.NewStyle().Foreground(lipgloss.Color("2")),
		warn:      lipgloss.NewStyle().Foreground(lipgloss.Color("3")),
		bad:       lipgloss.NewStyle().Foreground(lipgloss.Color("1")),
		info:      lipgloss.NewStyle().Foreground(lipgloss.Color("4")),
		banner:    lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("15")).Background(lipgloss.Color("1")),
		flashOK:   lipgloss.NewStyle().Foreground(lipgloss.Color("2")),
		flashErr:  lipgloss.NewStyle().Foreground(lipgloss.Color("1")),
		key:       lipgloss.NewStyle().Bold(true),
		box:       tileBox(lipgloss.NewStyle()),
	}
}

// statusStyle colours a wadm status type.
func (s styles) statusStyle(t string) lipgloss.Style {
	switch t {
	case "deployed", "ready":
		return s.ok
	case "reconciling", "compensating":
		return s.warn
	case "failed", "unhealthy":
		return s.bad
	default:
		return s.dim
	}
}

func tileBox(s lipgloss.Style) lipgloss.Style {
	return s.Border(lipgloss.RoundedBorder()).Align(lipgloss.Center)
}
