package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// list is what the table views share, as gh-dash's sections share their base model: a filterable
// table, the drill-down of one row and the dialog of an action. A view embeds it, fills the
// table on dataMsg, handles its own action keys and passes every other message to update.
type list struct {
	ctx           *viewContext
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

// listOwner is what the view embedding a list supplies.
type listOwner interface {
	// detail is the drill-down of one row, built from the live state so it follows events.
	detail(key string) (title string, lines []string)
	// emptyText is what the table says when it has no rows.
	emptyText() string
}

// opener is a listOwner that fetches data when a drill-down opens.
type opener interface {
	opened(key string) tea.Cmd
}

func newList(ctx *viewContext) list {
	in := ctx.input(100)
	in.Prompt = "/"
	return list{ctx: ctx, filter: in, width: 80, height: 20}
}

// update handles the body's size, leaveMsg and the keys the view passed on.
func (l *list) update(msg tea.Msg, o listOwner) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		l.width, l.height = msg.Width, msg.Height
	case leaveMsg:
		l.drill = nil
	case tea.KeyMsg:
		switch {
		case l.dialog.open():
			return l.dialog.update(msg)
		case l.filtering:
			return l.filterKey(msg, o)
		case l.drill != nil:
			l.detailKey(msg, o)
			return nil
		}
		return l.tableKey(msg, o)
	}
	return nil
}

// filterKey edits the filter; enter keeps it, esc drops it, ↑/↓ keep it and move.
func (l *list) filterKey(k tea.KeyMsg, o listOwner) tea.Cmd {
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
		return l.tableKey(k, o)
	}
	var cmd tea.Cmd
	l.filter, cmd = l.filter.Update(k)
	l.table.setFilter(l.filter.Value())
	return cmd
}

// page is how far page up and down move.
func (l *list) page() int { return max(l.height-2, 1) }

func (l *list) tableKey(k tea.KeyMsg, o listOwner) tea.Cmd {
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
		if op, ok := o.(opener); ok {
			return op.opened(r.Key)
		}
	}
	return nil
}

// detailKey scrolls the drill-down or closes it.
func (l *list) detailKey(k tea.KeyMsg, o listOwner) {
	keys, d := l.ctx.keys, l.drill
	if key.Matches(k, keys.Back) {
		l.drill = nil
		return
	}
	_, lines := o.detail(d.key)
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

// idle reports whether the view's own keys apply: nothing is being typed or asked.
func (l *list) idle() bool { return l.focus() == focusNone }

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

// hintsWith is the status line's hint: the filter, and the keys of the table or the drill-down
// followed by the view's actions.
func (l *list) hintsWith(actions ...actionKey) (string, []key.Binding) {
	k := l.ctx.keys
	if l.drill != nil {
		bs := []key.Binding{k.Back, k.Up, k.Down}
		for _, a := range actions {
			bs = append(bs, a.detailHelp)
		}
		return "", bs
	}
	bs := []key.Binding{k.Next, k.Open, k.Filter}
	for _, a := range actions {
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

// view renders the table, or the drill-down with its title and scrolling body.
func (l *list) view(o listOwner) string {
	if l.drill == nil {
		return l.table.view(l.width, l.height, l.ctx.sty, o.emptyText())
	}
	sty := l.ctx.sty
	title, lines := o.detail(l.drill.key)
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
