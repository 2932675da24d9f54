package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
)

// styles are built once: with colour off every style is plain, and the layout keeps working
// because selection and the active tab also have text markers.
type styles struct {
	plain                       lipgloss.Style // no attributes, for text inputs
	title, tab, activeTab       lipgloss.Style
	header, selected, dim, bold lipgloss.Style
	ok, warn, bad, info         lipgloss.Style
	banner, flashOK, flashErr   lipgloss.Style
	box                         lipgloss.Style // a count tile on the overview
	help                        help.Styles
}

func newStyles(color bool) styles {
	p := lipgloss.NewStyle()
	box := p.Border(lipgloss.RoundedBorder()).Align(lipgloss.Center)
	if !color {
		return styles{plain: p, title: p, tab: p, activeTab: p, header: p, selected: p, dim: p, bold: p, ok: p, warn: p,
			bad: p, info: p, banner: p, flashOK: p, flashErr: p, box: box,
			help: help.Styles{Ellipsis: p, ShortKey: p, ShortDesc: p, ShortSeparator: p, FullKey: p, FullDesc: p, FullSeparator: p}}
	}
	return styles{
		plain:     p,
		title:     p.Bold(true).Foreground(lipgloss.Color("6")),
		tab:       p.Faint(true),
		activeTab: p.Bold(true).Reverse(true),
		header:    p.Bold(true).Underline(true),
		selected:  p.Reverse(true),
		dim:       p.Faint(true),
		bold:      p.Bold(true),
		ok:        p.Foreground(lipgloss.Color("2")),
		warn:      p.Foreground(lipgloss.Color("3")),
		bad:       p.Foreground(lipgloss.Color("1")),
		info:      p.Foreground(lipgloss.Color("4")),
		banner:    p.Bold(true).Foreground(lipgloss.Color("15")).Background(lipgloss.Color("1")),
		flashOK:   p.Foreground(lipgloss.Color("2")),
		flashErr:  p.Foreground(lipgloss.Color("1")),
		box:       box,
		help:      help.New().Styles,
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
