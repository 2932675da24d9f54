package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/textinput"
)

// View names one screen of the dashboard.
type View int

// The views, in tab order; the number keys 1-8 select them.
const (
	ViewOverview View = iota
	ViewHosts
	ViewComponents
	ViewProviders
	ViewApps
	ViewLinks
	ViewConfig
	ViewEvents
	numViews
)

var viewNames = [numViews]string{"Overview", "Hosts", "Components", "Providers", "Apps", "Links", "Config", "Events"}

func (v View) String() string {
	if v >= 0 && v < numViews {
		return viewNames[v]
	}
	return "View(" + strconv.Itoa(int(v)) + ")"
}

// ParseView accepts a view name (any case, or a unique prefix) or its number 1-8.
func ParseView(s string) (View, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= int(numViews) {
		return View(n - 1), nil
	}
	match := View(-1)
	for i, n := range viewNames {
		if strings.HasPrefix(strings.ToLower(n), s) && s != "" {
			if match >= 0 {
				return 0, fmt.Errorf("view %q is ambiguous", s)
			}
			match = View(i)
		}
	}
	if match < 0 {
		names := make([]string, len(viewNames))
		for i, n := range viewNames {
			names[i] = strings.ToLower(n)
		}
		return 0, fmt.Errorf("unknown view %q: use one of %s", s, strings.Join(names, ", "))
	}
	return match, nil
}

// viewContext is what every view shares: the data source, the styles and keys, and the display
// settings from Options. Views read it; only the dashboard changes it.
type viewContext struct {
	data   dataSource
	sty    styles
	keys   keyMap
	stable bool                // hide values that change on their own (golden tests)
	maskFn func(string) string // test hook, see Options.Mask
	now    func() time.Time
}

// lattice is the state the views render.
func (c *viewContext) lattice() *latticeState { return c.data.lattice() }

// mask applies the test hook to a displayed value.
func (c *viewContext) mask(s string) string {
	if c.maskFn != nil {
		return c.maskFn(s)
	}
	return s
}

// hostName is a host's friendly name, or its shortened id while the name is unknown.
func (c *viewContext) hostName(id string) string {
	if h := c.lattice().hosts[id]; h != nil && h.Name != "" {
		return c.mask(h.Name)
	}
	return c.mask(shortID(id))
}

// clock is a time of day as the views show it.
func (c *viewContext) clock(t time.Time) string {
	if c.stable {
		return "--:--:--"
	}
	return t.Local().Format("15:04:05")
}

// uptime is a host's uptime, counted on from when it was reported.
func (c *viewContext) uptime(h *hostState) string {
	if c.stable {
		return "-"
	}
	secs := h.Uptime
	if !h.UptimeAt.IsZero() {
		if d := c.now().Sub(h.UptimeAt); d > 0 {
			secs += uint64(d / time.Second)
		}
	}
	return humanDuration(secs)
}

// labelLines lists labels or annotations as indented key=value lines, sorted.
func (c *viewContext) labelLines(labels map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(labels) {
		out = append(out, "    "+c.mask(k)+"="+c.mask(labels[k]))
	}
	if len(out) == 0 {
		out = append(out, "    none")
	}
	return out
}

// innerTable renders a table inside a drill-down: every row, no selection, two cells narrower
// than the screen.
func (c *viewContext) innerTable(width int, cols []column, rows []row) []string {
	t := &table{}
	t.setRows(cols, rows)
	t.cursor = -1
	h := len(rows) + 1
	if len(rows) == 0 {
		h++ // the "none" line
	}
	return strings.Split(t.view(width-2, h, c.sty, "none"), "\n")
}

// input is a one-line text input drawn with the dashboard's styles.
func (c *viewContext) input(limit int) textinput.Model {
	in := textinput.New()
	in.CharLimit = limit
	return in
}
