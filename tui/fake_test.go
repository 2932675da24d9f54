package tui

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// fakeData is the views' dataSource in unit tests: a lattice built by hand and a log of the
// requests that ran. A request answers with an actionMsg naming it.
type fakeData struct {
	st       *latticeState
	requests []string
	// apps are wadm's answers to appDetail; an app without one gets no answer.
	apps map[string]appDetailMsg
}

func (f *fakeData) lattice() *latticeState { return f.st }

func (f *fakeData) request(format string, args ...any) tea.Cmd {
	text := fmt.Sprintf(format, args...)
	return func() tea.Msg {
		f.requests = append(f.requests, text)
		return actionMsg{text: text}
	}
}

func (f *fakeData) appDetail(name string) tea.Cmd {
	return func() tea.Msg {
		f.requests = append(f.requests, "app detail "+name)
		if d, ok := f.apps[name]; ok {
			return d
		}
		return nil
	}
}

func (f *fakeData) scaleComponent(c ctl.ScaleComponentCommand) tea.Cmd {
	return f.request("scale %s on %s to %d ref=%s app=%s", c.ComponentID, c.HostID, c.Count, c.ComponentRef, c.Annotations[AppSpecAnnotation])
}

func (f *fakeData) stopProvider(hostID, providerID string) tea.Cmd {
	return f.request("stop %s on %s", providerID, hostID)
}

func (f *fakeData) deleteLink(l ctl.Link) tea.Cmd {
	return f.request("delete link %s %s:%s %s", l.SourceID, l.WitNamespace, l.WitPackage, l.Name)
}

func (f *fakeData) deployApp(name, version string) tea.Cmd {
	return f.request("deploy %s %q", name, version)
}

func (f *fakeData) undeployApp(name string) tea.Cmd { return f.request("undeploy %s", name) }

// Fixture ids: host ids are long as real ones are.
const (
	hostA = "NAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	hostB = "NBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
)

var fixtureNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// fixtureLattice is two hosts as a refresh reports them: alpha runs component c1 (of app demo)
// and provider http; beta runs c2 with no limit. c1 links to http with config greeting; apps
// demo (v2 latest, v1 deployed) and broken (failed); then events: http healthy and a config_set.
func fixtureLattice(t *testing.T) *latticeState {
	t.Helper()
	st := newLatticeState()
	st.applySnapshot(snapshot{
		Started: fixtureNow.Add(-time.Second),
		Hosts: []ctl.Host{
			{ID: hostB, FriendlyName: "beta", Version: "1.9.2", Labels: map[string]string{"zone": "west"}, UptimeSeconds: 7200},
			{ID: hostA, FriendlyName: "alpha", Version: "1.9.2", Labels: map[string]string{"zone": "east"}, UptimeSeconds: 90},
		},
		Inventories: map[string]*ctl.HostInventory{
			hostA: {Components: []ctl.ComponentDescription{{ID: "c1", ImageRef: "ghcr.io/x/c1:1", MaxInstances: 3, Revision: 2,
				Annotations: map[string]string{AppSpecAnnotation: "demo"}}},
				Providers: []ctl.ProviderDescription{{ID: "http", Name: "HTTP server", ImageRef: "ghcr.io/x/http:1"}}},
			hostB: {Components: []ctl.ComponentDescription{{ID: "c2", ImageRef: "ghcr.io/x/c2:1", MaxInstances: ctl.Unbounded}}},
		},
		Links: []ctl.Link{{SourceID: "c1", Target: "http", Name: "default", WitNamespace: "wasi", WitPackage: "http",
			Interfaces: []string{"outgoing-handler"}, TargetConfig: []string{"greeting"}}},
		ConfigValues: map[string]map[string]string{"greeting": {"lang": "en", "text": "hi"}},
		Apps: []model.ModelSummary{
			{Name: "broken", Version: "v1", DetailedStatus: model.Status{Info: model.Failed("no host in zone nowhere")}},
			{Name: "demo", Version: "v2", DeployedVersion: ptr("v1"), Description: ptr("A demo"), DetailedStatus: model.Status{Info: model.Deployed("")}},
		},
	}, fixtureNow)
	for _, ev := range []struct {
		name string
		data any
	}{
		{events.HealthCheckPassed, events.HealthCheckData{HostID: hostA, ProviderID: "http"}},
		{events.ConfigSet, events.ConfigData{ConfigName: "later"}},
	} {
		e, err := events.New(ev.name, hostA, ev.data)
		if err != nil {
			t.Fatal(err)
		}
		st.applyEvent(e, fixtureNow)
	}
	return st
}

// testContext is the context views get in unit tests: no colour, stable values, a fixed clock.
func testContext(st *latticeState) (*viewContext, *fakeData) {
	data := &fakeData{st: st}
	return &viewContext{data: data, sty: newStyles(false, io.Discard), keys: newKeyMap(), stable: true,
		now: func() time.Time { return fixtureNow }}, data
}

// viewHarness drives one view as the dashboard would: it sends messages, runs the commands the
// view returns (in order, as bubbletea runs a sequence) and keeps what they produce.
type viewHarness struct {
	t    *testing.T
	v    viewModel
	data *fakeData
	// out are the messages the view's commands produced for the dashboard: flashes and request
	// results. appDetailMsg goes back to the view, as the dashboard forwards it.
	out []tea.Msg
}

// newHarness builds a view over the fixture lattice (or st) at width x height and gives it data.
func newHarness(t *testing.T, newView func(*viewContext) viewModel, st *latticeState, width, height int) *viewHarness {
	t.Helper()
	if st == nil {
		st = fixtureLattice(t)
	}
	ctx, data := testContext(st)
	h := &viewHarness{t: t, v: newView(ctx), data: data}
	h.send(tea.WindowSizeMsg{Width: width, Height: height}, dataMsg{})
	return h
}

func (h *viewHarness) send(msgs ...tea.Msg) {
	for _, msg := range msgs {
		next, cmd := h.v.Update(msg)
		h.v = next.(viewModel)
		for _, out := range runCmd(cmd) {
			if d, ok := out.(appDetailMsg); ok {
				h.send(d)
				continue
			}
			h.out = append(h.out, out)
		}
	}
}

// keys sends key presses, written as in the key map ("enter", "esc", "down", "backspace", or
// runes).
func (h *viewHarness) keys(keys ...string) {
	for _, k := range keys {
		h.send(press(k))
	}
}

func press(k string) tea.KeyMsg {
	for t, name := range map[tea.KeyType]string{tea.KeyEnter: "enter", tea.KeyEsc: "esc", tea.KeyUp: "up", tea.KeyDown: "down",
		tea.KeyBackspace: "backspace", tea.KeyTab: "tab", tea.KeyPgDown: "pgdown", tea.KeyEnd: "end", tea.KeyHome: "home"} {
		if k == name {
			return tea.KeyMsg{Type: t}
		}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// takeOut returns the produced messages as text (flash: "flash: …", "error: …"; results:
// "done: …") and forgets them.
func (h *viewHarness) takeOut() []string {
	var out []string
	for _, m := range h.out {
		switch m := m.(type) {
		case flashMsg:
			if m.isErr {
				out = append(out, "error: "+m.text)
			} else {
				out = append(out, "flash: "+m.text)
			}
		case actionMsg:
			out = append(out, "done: "+m.text)
		default:
			out = append(out, fmt.Sprintf("%T", m))
		}
	}
	h.out = nil
	return out
}

// screen is the view's body with trailing spaces cut.
func (h *viewHarness) screen() string {
	lines := strings.Split(h.v.View(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// hintText is the status line's hint as the dashboard shows it, without help and quit.
func (h *viewHarness) hintText() string {
	filter, keys := h.v.hints()
	parts := []string{}
	if filter != "" {
		parts = append(parts, "/"+filter)
	}
	for _, k := range keys {
		parts = append(parts, k.Help().Key+" "+k.Help().Desc)
	}
	return strings.Join(parts, " • ")
}

var cmdType = reflect.TypeOf(tea.Cmd(nil))

// runCmd runs a command and what it batches or sequences, in order.
func runCmd(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if rv := reflect.ValueOf(msg); rv.Kind() == reflect.Slice && rv.Type().Elem() == cmdType {
		var out []tea.Msg
		for i := range rv.Len() {
			out = append(out, runCmd(rv.Index(i).Interface().(tea.Cmd))...)
		}
		return out
	}
	if msg == nil {
		return nil
	}
	return []tea.Msg{msg}
}

// equalLines compares screens line by line and shows both in full when they differ.
func equalLines(t *testing.T, got, want string) {
	t.Helper()
	want = strings.TrimPrefix(want, "\n")
	if got != want {
		t.Errorf("screen differs\n--- got\n%s\n--- want\n%s", got, want)
	}
}

// viewCase is one table test of a view: what it is given and what it must show and do.
type viewCase struct {
	name          string
	lattice       func(t *testing.T) *latticeState // default: fixtureLattice
	width, height int                              // default: 80 x 8
	// setup adjusts the harness before the steps (the fake's answers).
	setup func(h *viewHarness)
	// steps are key presses (strings, see press), messages and changes to the lattice
	// (func(*latticeState)), in order.
	steps []any
	// screen is the whole body (trailing spaces cut); empty: not checked.
	screen string
	// contains are strings the body must show (for long drill-downs).
	contains []string
	// hint is the status line's hint (see hintText), not checked when empty; input is the status
	// line while the view has the keys (a dialog or the filter being typed), empty when it must not.
	hint, input string
	// out are the flashes and request results the steps produced, requests what the data
	// source was asked to do; nil: must be none.
	out, requests []string
}

func runViewCases(t *testing.T, newView func(*viewContext) viewModel, cases []viewCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var st *latticeState
			if tc.lattice != nil {
				st = tc.lattice(t)
			}
			w, ht := tc.width, tc.height
			if w == 0 {
				w, ht = 80, 8
			}
			h := newHarness(t, newView, st, w, ht)
			if tc.setup != nil {
				tc.setup(h)
			}
			for _, s := range tc.steps {
				switch s := s.(type) {
				case string:
					h.keys(s)
				case func(*latticeState):
					s(h.data.st)
				default:
					h.send(s)
				}
			}
			screen := h.screen()
			if tc.screen != "" {
				equalLines(t, screen, tc.screen)
			}
			for _, s := range tc.contains {
				if !strings.Contains(screen, s) {
					t.Errorf("screen lacks %q:\n%s", s, screen)
				}
			}
			if got := h.hintText(); tc.hint != "" && got != tc.hint {
				t.Errorf("hint = %q, want %q", got, tc.hint)
			}
			if got := strings.TrimRight(h.v.inputLine(), " "); got != tc.input {
				t.Errorf("input line = %q, want %q", got, tc.input)
			}
			if (tc.input == "") != (h.v.focus() == focusNone) {
				t.Errorf("focus = %d with input line %q", h.v.focus(), tc.input)
			}
			if got := h.takeOut(); !reflect.DeepEqual(got, tc.out) {
				t.Errorf("produced %q, want %q", got, tc.out)
			}
			if !reflect.DeepEqual(h.data.requests, tc.requests) {
				t.Errorf("requests %q, want %q", h.data.requests, tc.requests)
			}
		})
	}
}

// applyEvent is a step that applies a lattice event, as the dashboard does when one arrives.
func applyEvent(t *testing.T, name, source string, data any) func(*latticeState) {
	ev, err := events.New(name, source, data)
	if err != nil {
		t.Fatal(err)
	}
	return func(st *latticeState) { st.applyEvent(ev, fixtureNow) }
}
