package tui

import (
	"io"
	"os"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// styles are built once, from a renderer of the dashboard's own. With colour off every style is
// plain, and the layout keeps working because selection and the active tab also have text
// markers. With colour on, the colour depth comes from the output's environment (TERM,
// COLORTERM, NO_COLOR). The renderer is told the background is dark, so drawing never asks the
// terminal anything: lipgloss's default renderer sends an OSC 11 query and waits up to 5 s for
// the answer the first time an adaptive colour (bubbles' help uses them) is drawn.
type styles struct {
	plain                       lipgloss.Style // no attributes, for text inputs
	title, tab, activeTab       lipgloss.Style
	header, selected, dim, bold lipgloss.Style
	ok, warn, bad, info         lipgloss.Style
	banner, flashOK, flashErr   lipgloss.Style
	box                         lipgloss.Style // a count tile on the overview
	help                        help.Styles
}

func newStyles(color bool, out io.Writer) styles {
	if out == nil {
		out = os.Stdout
	}
	r := lipgloss.NewRenderer(out)
	r.SetHasDarkBackground(true)
	p := r.NewStyle()
	box := p.Border(lipgloss.RoundedBorder()).Align(lipgloss.Center)
	if !color {
		r.SetColorProfile(termenv.Ascii)
		return styles{plain: p, title: p, tab: p, activeTab: p, header: p, selected: p, dim: p, bold: p, ok: p, warn: p,
			bad: p, info: p, banner: p, flashOK: p, flashErr: p, box: box,
			help: help.Styles{Ellipsis: p, ShortKey: p, ShortDesc: p, ShortSeparator: p, FullKey: p, FullDesc: p, FullSeparator: p}}
	}
	// bubbles' help colours for a dark background.
	helpKey, helpDesc, helpSep := p.Foreground(lipgloss.Color("#626262")), p.Foreground(lipgloss.Color("#4A4A4A")), p.Foreground(lipgloss.Color("#3C3C3C"))
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
		help: help.Styles{Ellipsis: helpSep, ShortKey: helpKey, ShortDesc: helpDesc, ShortSeparator: helpSep,
			FullKey: helpKey, FullDesc: helpDesc, FullSeparator: helpSep},
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
