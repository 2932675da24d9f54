package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// list is what the table views share, as gh-dash's sections share their base model: a filterable
// table, the drill-down of one row, the view's action keys and their dialog. A view embeds it
// and supplies its rows, drill-down and actions (listOwner); the list is then the view's
// bubbletea model. A view with more to do defines Update and passes the rest to list.Update.
type list struct {
	ctx           *viewContext
	owner         listOwner
	actions       []actionKey
	table         table
	filter        textinput.Model
	filtering     bool       // the filter is being typed
	drill         *drillDown // the open drill-down, nil while the table shows
	dialog        dialog
	width, height int
}

// drillDown is the open drill-down: the row's key and how far it is scrolled.
type drillDown struct {
	key    string
	scroll int
}

// listOwner is the view embedding a list.
type listOwner interface {
	viewModel
	// rows are the table's columns and rows, from the lattice as it is now.
	rows() ([]column, []row)
	// detail is the drill-down of one row, built from the live state so it follows events.
	detail(key string) (title string, lines []string)
	// emptyText is what the table says when it has no rows.
	emptyText() string
}

// opener is a listOwner that fetches data when a drill-down opens.
type opener interface {
	opened(key string) tea.Cmd
}

func newList(ctx *viewContext, owner listOwner, actions ...actionKey) list {
	in := ctx.input(100)
	in.Prompt = "/"
	return list{ctx: ctx, owner: owner, actions: actions, filter: in, width: 80, height: 20}
}

func (l *list) Init() tea.Cmd { return nil }

// Update handles dataMsg, the body's size, leaveMsg and keys.
func (l *list) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case dataMsg:
		l.table.setRows(l.owner.rows())
	case tea.WindowSizeMsg:
		l.width, l.height = msg.Width, msg.Height
	case leaveMsg:
		l.drill = nil
	case tea.KeyMsg:
		return l.owner, l.key(msg)
	}
	return l.owner, nil
}

func (l *list) key(k tea.KeyMsg) tea.Cmd {
	switch {
	case l.dialog.open():
		return l.dialog.update(k)
	case l.filtering:
		return l.filterKey(k)
	}
	for _, a := range l.actions {
		if key.Matches(k, a.Binding) {
			if target, ok := l.target(); ok {
				return a.do(target)
			}
			return nil
		}
	}
	if l.drill != nil {
		l.detailKey(k)
		return nil
	}
	return l.tableKey(k)
}

// filterKey edits the filter; enter keeps it, esc drops it, ↑/↓ keep it and move.
func (l *list) filterKey(k tea.KeyMsg) tea.Cmd {
	switch k.Type {
	case tea.KeyEsc:
		l.filtering = false
		l.filter.SetValue("")
		l.filter.Blur()
		l.table.setFilter("")
		return nil
	case tea.KeyEnter:
		l.filtering = false
		l.filter.Blur()
		return nil
	case tea.KeyUp, tea.KeyDown:
		l.filtering = false
		l.filter.Blur()
		return l.tableKey(k)
	}
	var cmd tea.Cmd
	l.filter, cmd = l.filter.Update(k)
	l.table.setFilter(l.filter.Value())
	return cmd
}

// page is how far page up and down move.
func (l *list) page() int { return max(l.height-2, 1) }

func (l *list) tableKey(k tea.KeyMsg) tea.Cmd {
	keys, t := l.ctx.keys, &l.table
	switch {
	case key.Matches(k, keys.Up):
		t.move(-1)
	case key.Matches(k, keys.Down):
		t.move(1)
	case key.Matches(k, keys.PgUp):
		t.move(-l.page())
	case key.Matches(k, keys.PgDown):
		t.move(l.page())
	case key.Matches(k, keys.Top):
		t.home()
	case key.Matches(k, keys.End):
		t.end()
	case key.Matches(k, keys.Filter):
		l.filtering = true
		l.filter.SetValue(t.filter)
		l.filter.CursorEnd()
		return l.filter.Focus()
	case key.Matches(k, keys.Back):
		if t.filter != "" {
			t.setFilter("")
			l.filter.SetValue("")
		}
	case key.Matches(k, keys.Open):
		r, ok := t.current()
		if !ok {
			return nil
		}
		l.drill = &drillDown{key: r.Key}
		if op, ok := l.owner.(opener); ok {
			return op.opened(r.Key)
		}
	}
	return nil
}

// detailKey scrolls the drill-down or closes it.
func (l *list) detailKey(k tea.KeyMsg) {
	keys, d := l.ctx.keys, l.drill
	if key.Matches(k, keys.Back) {
		l.drill = nil
		return
	}
	_, lines := l.owner.detail(d.key)
	switch {
	case key.Matches(k, keys.Up):
		d.scroll--
	case key.Matches(k, keys.Down):
		d.scroll++
	case key.Matches(k, keys.PgUp):
		d.scroll -= l.page()
	case key.Matches(k, keys.PgDown):
		d.scroll += l.page()
	case key.Matches(k, keys.Top):
		d.scroll = 0
	case key.Matches(k, keys.End):
		d.scroll = len(lines)
	}
	d.scroll = max(min(d.scroll, len(lines)-1), 0)
}

// target is the key of the row an action applies to: the open drill-down's, else the selected
// row's.
func (l *list) target() (string, bool) {
	if l.drill != nil {
		return l.drill.key, true
	}
	r, ok := l.table.current()
	return r.Key, ok
}

func (l *list) focus() focus {
	if f := l.dialog.focus(); f != focusNone {
		return f
	}
	if l.filtering {
		return focusText
	}
	return focusNone
}

func (l *list) inputLine() string {
	if l.dialog.open() {
		return l.dialog.line(l.ctx.sty, l.width)
	}
	if l.filtering {
		return fitLine(l.filter.View(), l.width)
	}
	return ""
}

// hints are the filter, and the keys of the table or the drill-down followed by the view's
// actions.
func (l *list) hints() (string, []key.Binding) {
	k := l.ctx.keys
	if l.drill != nil {
		bs := []key.Binding{k.Back, k.Up, k.Down}
		for _, a := range l.actions {
			bs = append(bs, a.detailHelp)
		}
		return "", bs
	}
	bs := []key.Binding{k.Next, k.Open, k.Filter}
	for _, a := range l.actions {
		bs = append(bs, a.tableHelp)
	}
	return l.table.filter, bs
}

// emptyText is the usual text of an empty table; views with more to say define their own.
func (l *list) emptyText() string {
	switch {
	case !l.ctx.lattice().synced:
		return "loading…"
	case l.table.filter != "":
		return "nothing matches /" + l.table.filter
	}
	return "none"
}

// View renders the table, or the drill-down with its title and scrolling body.
func (l *list) View() string {
	if l.drill == nil {
		return l.table.view(l.width, l.height, l.ctx.sty, l.owner.emptyText())
	}
	sty := l.ctx.sty
	title, lines := l.owner.detail(l.drill.key)
	body := max(l.height-1, 1)
	scroll := max(min(l.drill.scroll, len(lines)-body), 0)
	end := min(scroll+body, len(lines))
	more := ""
	if len(lines) > body {
		more = sty.dim.Render(fmt.Sprintf("  (%d-%d of %d)", scroll+1, end, len(lines)))
	}
	out := []string{sty.bold.Render(title) + more}
	for _, line := range lines[scroll:end] {
		out = append(out, fitLine(line, l.width))
	}
	return strings.Join(out, "\n")
}

// gone is the drill-down of a row that has left the lattice.
func (l *list) gone() []string {
	return []string{"", l.ctx.sty.dim.Render("  this item is gone from the lattice (esc to go back)")}
}
