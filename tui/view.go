package tui

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
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

// allViews are the views in tab order: the name on the tab and the model's constructor. A new
// view is a file with its model, a View constant above and a line here.
var allViews = [numViews]struct {
	name  string
	model func(*viewContext) viewModel
}{
	{"Overview", newOverviewView}, {"Hosts", newHostsView}, {"Components", newComponentsView},
	{"Providers", newProvidersView}, {"Apps", newAppsView}, {"Links", newLinksView},
	{"Config", newConfigView}, {"Events", newEventsView},
}

func (v View) String() string {
	if v >= 0 && v < numViews {
		return allViews[v].name
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
	for i, n := range allViews {
		if strings.HasPrefix(strings.ToLower(n.name), s) && s != "" {
			if match >= 0 {
				return 0, fmt.Errorf("view %q is ambiguous", s)
			}
			match = View(i)
		}
	}
	if match < 0 {
		names := make([]string, len(allViews))
		for i, n := range allViews {
			names[i] = strings.ToLower(n.name)
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
	for _, k := range slices.Sorted(maps.Keys(labels)) {
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

// input is a one-line text input. Its cursor does not blink: a blink is a timer and a redraw
// twice a second for nothing, and it never blinked here anyway (the dashboard dropped the
// blink messages).
func (c *viewContext) input(limit int) textinput.Model {
	in := textinput.New()
	in.CharLimit = limit
	in.Cursor.SetMode(cursor.CursorStatic)
	in.PromptStyle, in.TextStyle, in.PlaceholderStyle, in.CompletionStyle = c.sty.plain, c.sty.plain, c.sty.plain, c.sty.plain
	in.Cursor.Style, in.Cursor.TextStyle = c.sty.plain, c.sty.plain
	return in
}

// viewModel is one screen of the dashboard: a bubbletea model with its own Update, View and
// keys. The dashboard owns the title, the tab bar, the status line and the keys that work
// everywhere (q, ?, r, tab, 1-8); it hands a view the keys it does not use, the body's size as a
// tea.WindowSizeMsg, and dataMsg whenever the lattice changed. A view reads the lattice through
// its viewContext and asks for changes through the dataSource, as tea.Cmds.
type viewModel interface {
	tea.Model
	// focus says whether the view takes every key for now (a question, prompt or filter).
	focus() focus
	// inputLine is the status line while focus is not focusNone.
	inputLine() string
	// hints are the active filter (if any) and the keys that apply now, for the status line; the
	// dashboard adds help and quit.
	hints() (filter string, keys []key.Binding)
}

// focus is who gets the keys.
type focus int

const (
	focusNone    focus = iota // the dashboard's keys work; the rest go to the view
	focusConfirm              // a y/n question: every key goes to the view
	focusText                 // a prompt or filter: every key goes to the view, typed text whole
)

// Messages from the dashboard to its views, and from views back.
type (
	// dataMsg: the lattice changed (or time passed): read it again.
	dataMsg struct{}
	// leaveMsg: the user switched to another view; close any drill-down.
	leaveMsg struct{}
	// reloadMsg: the user asked for fresh data (r).
	reloadMsg struct{}
	// flashMsg is a short note for the status line.
	flashMsg struct {
		text  string
		isErr bool
	}
)

func flash(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return flashMsg{text: text, isErr: isErr} }
}
