package tui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/wasmlattice/wash/lattice/events"
)

// TestDashboardKeys checks how the shell routes keys: to itself (views, help, quit) or to the
// view while the view asks or is typed into. It needs a NATS connection to build the model but
// no lattice: the state comes from events handed to Update, and no command runs.
func TestDashboardKeys(t *testing.T) {
	_, nc := startNATS(t)
	newModel := func(t *testing.T, view View) *Model {
		m, err := New(Options{Conn: nc, View: view, Stable: true, Now: func() time.Time { return fixtureNow }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		m.Update(tea.WindowSizeMsg{Width: 100, Height: 20})
		for _, ev := range []struct {
			name string
			data any
		}{
			{events.HostStarted, events.HostStartedData{FriendlyName: "alpha"}},
			{events.ComponentScaled, events.ComponentScaledData{ComponentID: "c1", HostID: hostA, ImageRef: "img", MaxInstances: 2}},
		} {
			e, err := events.New(ev.name, hostA, ev.data)
			if err != nil {
				t.Fatal(err)
			}
			m.Update(eventMsg{ev: e})
		}
		return m
	}
	// quits runs the last key's command (none of the keys below starts a refresh).
	quits := func(cmd tea.Cmd) bool {
		for _, msg := range runCmd(cmd) {
			if _, ok := msg.(tea.QuitMsg); ok {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		name  string
		start View
		keys  []tea.KeyMsg
		view  View   // the view shown after the keys
		focus focus  // the view's focus after the keys
		shows string // on screen after the keys
		quit  bool   // the last key quits
	}{
		{name: "tab and shift+tab", start: ViewHosts, keys: []tea.KeyMsg{press("tab"), press("tab"), {Type: tea.KeyShiftTab}}, view: ViewComponents},
		{name: "number", start: ViewOverview, keys: []tea.KeyMsg{press("8")}, view: ViewEvents},
		{name: "switching closes the drill-down", start: ViewComponents, keys: []tea.KeyMsg{press("enter"), press("3")},
			view: ViewComponents, shows: "> c1"},
		{name: "tab leaves a drill-down too", start: ViewComponents, keys: []tea.KeyMsg{press("enter"), press("tab"), press("shift+tab")},
			view: ViewComponents, shows: "COMPONENT"},
		{name: "help", start: ViewHosts, keys: []tea.KeyMsg{press("?")}, view: ViewHosts, shows: "Keys"},
		{name: "any key closes help and does nothing else", start: ViewHosts, keys: []tea.KeyMsg{press("?"), press("tab")}, view: ViewHosts,
			shows: "HOST ID"},
		{name: "q in help quits", start: ViewHosts, keys: []tea.KeyMsg{press("?"), press("q")}, view: ViewHosts, quit: true},
		{name: "a prompt takes q, digits and tab", start: ViewComponents, keys: []tea.KeyMsg{press("s"), press("q"), press("8"), press("tab")},
			view: ViewComponents, focus: focusText, shows: "Scale c1 to how many instances (0 stops it)? > 2q8"},
		{name: "a question takes tab and numbers", start: ViewComponents, keys: []tea.KeyMsg{press("s"), press("enter"), press("tab"), press("5")},
			view: ViewComponents, focus: focusConfirm, shows: "Scale c1 on alpha to 2? [y/N]"},
		{name: "q answers no to a question", start: ViewComponents, keys: []tea.KeyMsg{press("s"), press("enter"), press("q")}, view: ViewComponents},
		{name: "ctrl+c quits even in a prompt", start: ViewComponents, keys: []tea.KeyMsg{press("s"), {Type: tea.KeyCtrlC}}, focus: focusText,
			view: ViewComponents, quit: true},
		{name: "fast typing splits outside text entry", start: ViewHosts, keys: []tea.KeyMsg{{Type: tea.KeyRunes, Runes: []rune("/al")}},
			view: ViewHosts, focus: focusText, shows: "/al"},
		{name: "inside the filter it is typed text", start: ViewHosts, keys: []tea.KeyMsg{press("/"), {Type: tea.KeyRunes, Runes: []rune("3q")}},
			view: ViewHosts, focus: focusText, shows: "/3q"},
		{name: "esc then a key arrives as alt+key", start: ViewHosts, keys: []tea.KeyMsg{press("enter"), {Type: tea.KeyRunes, Runes: []rune("3"), Alt: true}},
			view: ViewComponents},
		{name: "q quits", start: ViewOverview, keys: []tea.KeyMsg{press("q")}, view: ViewOverview, quit: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newModel(t, tc.start)
			var cmd tea.Cmd
			for _, k := range tc.keys {
				_, cmd = m.Update(k)
			}
			if m.view != tc.view {
				t.Errorf("view %s, want %s", m.view, tc.view)
			}
			if f := m.views[m.view].focus(); f != tc.focus {
				t.Errorf("focus %d, want %d", f, tc.focus)
			}
			if screen := m.View(); !strings.Contains(screen, tc.shows) {
				t.Errorf("screen lacks %q:\n%s", tc.shows, screen)
			}
			if got := quits(cmd); got != tc.quit {
				t.Errorf("quit = %v, want %v", got, tc.quit)
			}
		})
	}
}
