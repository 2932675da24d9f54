package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/wasmlattice/wash/lattice/ctl"
)

// humanDuration is a compact uptime: 45s, 12m, 3h4m, 2d5h.
func humanDuration(secs uint64) string {
	switch {
	case secs < 60:
		return fmt.Sprintf("%ds", secs)
	case secs < 3600:
		return fmt.Sprintf("%dm", secs/60)
	case secs < 86400:
		return fmt.Sprintf("%dh%dm", secs/3600, secs%3600/60)
	default:
		return fmt.Sprintf("%dd%dh", secs/86400, secs%86400/3600)
	}
}

func maxInstances(n uint32) string {
	if n == ctl.Unbounded {
		return "unbounded"
	}
	return strconv.FormatUint(uint64(n), 10)
}

// appOf names the app that owns a component or provider, from wadm's annotation.
func appOf(ann map[string]string) string {
	if a := ann[AppSpecAnnotation]; a != "" {
		return a
	}
	return "-"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}

// styleOf returns a one-cell style map.
func styleOf(i int, s lipgloss.Style) map[int]lipgloss.Style { return map[int]lipgloss.Style{i: s} }

// kv is one "  Key:           value" line of a drill-down.
func kv(k, v string) string { return fmt.Sprintf("  %-14s %s", k+":", v) }

// fitHeight pads or cuts s to exactly h lines, each at most width cells.
func fitHeight(s string, h, width int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > width {
			lines[i] = ansi.Truncate(l, width, "")
		}
	}
	return strings.Join(lines, "\n")
}
