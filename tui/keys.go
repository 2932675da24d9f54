package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

type keyMap struct {
	Next, Prev, Jump                 key.Binding
	Up, Down, PgUp, PgDown, Top, End key.Binding
	Open, Back, Filter, Help         key.Binding
	Refresh, Quit                    key.Binding
	Scale, Stop, Deploy, Undeploy    key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Next:     key.NewBinding(key.WithKeys("tab", "right", "l"), key.WithHelp("tab", "next view")),
		Prev:     key.NewBinding(key.WithKeys("shift+tab", "left", "h"), key.WithHelp("shift+tab", "previous view")),
		Jump:     key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8"), key.WithHelp("1-8", "go to view")),
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PgUp:     key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PgDown:   key.NewBinding(key.WithKeys("pgdown", "ctrl+f", " "), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first")),
		End:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:     key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Help:     key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Refresh:  key.NewBinding(key.WithKeys("r", "ctrl+r"), key.WithHelp("r", "refresh")),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Scale:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "scale component")),
		Stop:     key.NewBinding(key.WithKeys("x", "delete"), key.WithHelp("x", "stop provider / delete link")),
		Deploy:   key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "deploy app version")),
		Undeploy: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undeploy app")),
	}
}

func (k keyMap) fullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Next, k.Prev, k.Jump, k.Up, k.Down, k.PgUp, k.PgDown, k.Top, k.End},
		{k.Open, k.Back, k.Filter, k.Refresh, k.Help, k.Quit},
		{k.Scale, k.Stop, k.Deploy, k.Undeploy},
	}
}

func newHelp(st styles) help.Model {
	h := help.New()
	h.Styles = st.help
	return h
}

// actionKey is a view's key for an action on a row: the binding it matches, its short help
// under the table and under a drill-down, and what it does to the row with the given key.
type actionKey struct {
	key.Binding
	tableHelp, detailHelp key.Binding
	do                    func(row string) tea.Cmd
}

func newActionKey(b key.Binding, tableHelp, detailHelp string, do func(row string) tea.Cmd) actionKey {
	k := b.Help().Key
	return actionKey{Binding: b, do: do,
		tableHelp:  key.NewBinding(key.WithKeys(k), key.WithHelp(k, tableHelp)),
		detailHelp: key.NewBinding(key.WithKeys(k), key.WithHelp(k, detailHelp))}
}
