// Package tui is `wash dashboard`: a live terminal view of one lattice. Data arrives as
// messages — lattice events, wadm status and events, connection changes and periodic inventory
// refreshes — and every request runs in a tea.Cmd, so Update and View never block.
//
// The Model here is the shell: it folds what arrives into the lattice state, keeps the refresh
// going, routes keys and draws the title, tabs and status line. Each screen is its own model
// (view_*.go, see viewModel) that reads the state through a dataSource and asks for changes
// through it, so views are tested without a lattice.
package tui

import (
	"fmt"
	"io"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/ctl"
)

// Options configure a dashboard.
type Options struct {
	// Conn is a connected NATS client; connect it with nats.MaxReconnects(-1) so the dashboard
	// survives NATS restarts. The dashboard installs its own connection handlers.
	Conn        *nats.Conn
	Lattice     string
	TopicPrefix string // default wasmbus.ctl
	WadmPrefix  string // default wadm.api
	JSDomain    string
	Timeout     time.Duration
	// ServerURL is shown in the title bar.
	ServerURL string
	// Color enables colours; the caller turns it off for NO_COLOR, TERM=dumb or a non-terminal.
	Color bool
	// Output is the terminal the dashboard draws on (default os.Stdout). With Color on, the
	// colour depth comes from its environment (TERM, COLORTERM, NO_COLOR); the terminal is
	// never asked anything.
	Output io.Writer
	// RefreshInterval is the periodic inventory refresh (default 5 s).
	RefreshInterval time.Duration
	// View is the view shown first.
	View View
	// Stable hides values that change on their own (uptimes, clocks, rates), for golden tests.
	Stable bool
	// Mask, when set, rewrites every displayed value (tests replace random ids with placeholders).
	Mask func(string) string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Model is the dashboard's bubbletea model.
type Model struct {
	o    Options
	src  *source
	st   *latticeState
	ctx  *viewContext
	keys keyMap
	help help.Model

	width, height int
	view          View
	views         [numViews]viewModel
	showHelp      bool

	flash      string
	flashErr   bool
	flashUntil time.Time

	connected bool
	connErr   string

	refreshing       bool
	refreshQueued    bool
	refreshScheduled bool
	lastRefresh      time.Time
	kvListed         bool
	periodic         bool // the next refresh is the periodic one
}

// New builds the dashboard model and subscribes to the lattice.
func New(o Options) (*Model, error) {
	if o.Conn == nil {
		return nil, fmt.Errorf("dashboard needs a NATS connection")
	}
	if o.Lattice == "" {
		o.Lattice = ctl.DefaultLattice
	}
	if o.Timeout <= 0 {
		o.Timeout = ctl.DefaultTimeout
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ServerURL == "" {
		o.ServerURL = o.Conn.ConnectedUrlRedacted()
	}
	sty := newStyles(o.Color, o.Output)
	m := &Model{o: o, src: newSource(o), st: newLatticeState(), keys: newKeyMap(), help: newHelp(sty),
		width: 80, height: 24, view: o.View, connected: o.Conn.IsConnected()}
	m.ctx = &viewContext{data: feed{src: m.src, st: m.st}, sty: sty, keys: m.keys, stable: o.Stable, maskFn: o.Mask, now: o.Now}
	for i, v := range allViews {
		m.views[i] = v.model(m.ctx)
	}
	m.resize()
	if err := m.src.start(); err != nil {
		return nil, fmt.Errorf("subscribing to lattice %s events: %w", o.Lattice, err)
	}
	m.rebuild()
	return m, nil
}

// Close ends the subscriptions (the connection belongs to the caller).
func (m *Model) Close() { m.src.stop() }

type (
	tickMsg       time.Time
	refreshNowMsg struct{}
)

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Init starts listening, the first refresh and the clock.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.src.listen(), m.startRefresh(), tick())
}

func (m *Model) now() time.Time { return m.o.Now() }

// send hands a message to a view and keeps the model it returns.
func (m *Model) send(v View, msg tea.Msg) tea.Cmd {
	next, cmd := m.views[v].Update(msg)
	m.views[v] = next.(viewModel)
	return cmd
}

// rebuild has the current view read the lattice again. Views out of sight catch up when shown.
func (m *Model) rebuild() { m.send(m.view, dataMsg{}) }

// resize tells every view the size of the body.
func (m *Model) resize() {
	for v := range m.views {
		m.send(View(v), tea.WindowSizeMsg{Width: m.width, Height: m.bodyHeight()})
	}
}

// bodyHeight is the number of lines between the tab bar and the status line.
func (m *Model) bodyHeight() int {
	h := m.height - 3 // title, tabs, status
	if !m.connected {
		h--
	}
	return max(h, 1)
}

func (m *Model) startRefresh() tea.Cmd {
	if m.refreshing {
		m.refreshQueued = true
		return nil
	}
	m.refreshing = true
	// A periodic refresh skips host.get for hosts whose heartbeat brought a fresh inventory;
	// any other refresh (events, keys, reconnect) asks every host.
	skip := map[string]bool{}
	if m.periodic {
		for id, h := range m.st.hosts {
			if m.now().Sub(h.InvAt) < m.o.RefreshInterval {
				skip[id] = true
			}
		}
	}
	m.periodic = false
	return m.src.fetchSnapshot(m.configToFetch(), !m.kvListed, skip, m.o.Timeout)
}

// configToFetch names the config whose values a refresh should read: all of it while config is
// on screen, otherwise only names announced by config_set or never read.
func (m *Model) configToFetch() []string {
	all := m.st.configNamesAll()
	if m.view == ViewConfig {
		return all
	}
	var out []string
	for _, n := range all {
		_, known := m.st.configValues[n]
		if !known || m.st.configDirty[n] {
			out = append(out, n)
		}
	}
	return out
}

// scheduleRefresh coalesces bursts of events into one refresh shortly after the first.
func (m *Model) scheduleRefresh() tea.Cmd {
	if m.refreshScheduled {
		return nil
	}
	m.refreshScheduled = true
	return tea.Tick(150*time.Millisecond, func(time.Time) tea.Msg { return refreshNowMsg{} })
}

func (m *Model) setFlash(text string, isErr bool) {
	m.flash, m.flashErr, m.flashUntil = text, isErr, m.now().Add(6*time.Second)
}

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 20), max(msg.Height, 5)
		m.help.Width = m.width
		m.resize()
		return nil
	case tea.KeyMsg:
		return m.handleKey(msg)
	case batchMsg:
		cmds := []tea.Cmd{m.src.listen()}
		for _, inner := range msg {
			cmds = append(cmds, m.handleSource(inner))
		}
		m.rebuild()
		return tea.Batch(cmds...)
	case eventMsg, appStatusMsg, wadmEventMsg, connMsg:
		cmd := m.handleSource(msg)
		m.rebuild()
		return tea.Batch(m.src.listen(), cmd)
	case snapshot:
		m.st.applySnapshot(msg, m.now())
		m.refreshing, m.kvListed, m.lastRefresh = false, true, m.now()
		m.rebuild()
		if m.refreshQueued {
			m.refreshQueued = false
			return m.startRefresh()
		}
		return nil
	case refreshNowMsg:
		m.refreshScheduled = false
		return m.startRefresh()
	case tickMsg:
		var cmd tea.Cmd
		if !m.refreshing && m.now().Sub(m.lastRefresh) >= m.o.RefreshInterval {
			m.periodic = true
			cmd = m.startRefresh()
		}
		if m.flash != "" && m.now().After(m.flashUntil) {
			m.flash = ""
		}
		m.rebuild()
		return tea.Batch(cmd, tick())
	case flashMsg:
		m.setFlash(msg.text, msg.isErr)
		return nil
	case appDetailMsg:
		return m.send(m.view, msg)
	case actionMsg:
		if msg.err != nil {
			m.setFlash(msg.err.Error(), true)
		} else {
			m.setFlash(msg.text, false)
		}
		return m.scheduleRefresh()
	}
	return nil
}

// handleSource applies one message from the NATS side and returns any follow-up command.
func (m *Model) handleSource(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case eventMsg:
		m.st.applyEvent(msg.ev, m.now())
		if relevant(msg.ev.Name()) {
			return m.scheduleRefresh()
		}
	case appStatusMsg:
		var cmd tea.Cmd
		if !m.st.setAppStatus(msg.app, msg.status) {
			cmd = m.scheduleRefresh() // an app the list does not have yet
		}
		return tea.Batch(cmd, m.send(m.view, msg))
	case wadmEventMsg:
		return tea.Batch(m.scheduleRefresh(), m.send(m.view, msg))
	case connMsg:
		defer m.resize() // the banner takes a line while the connection is down
		if msg.up {
			m.connected, m.connErr, m.kvListed = true, "", false
			m.setFlash("reconnected to "+msg.url, false)
			return m.startRefresh()
		}
		m.connected = false
		if msg.err != nil {
			m.connErr = msg.err.Error()
		}
	}
	return nil
}

// handleKey gives a key to the dashboard or to the view: a view that is asking or being typed
// into takes every key; otherwise the keys that work everywhere come first.
func (m *Model) handleKey(k tea.KeyMsg) tea.Cmd {
	if k.Type == tea.KeyCtrlC {
		return tea.Quit
	}
	f := m.views[m.view].focus()
	// Esc quickly followed by a key reaches us as alt+key; outside text entry it means both.
	if k.Alt && k.Type == tea.KeyRunes && f == focusNone {
		c1 := m.handleKey(tea.KeyMsg{Type: tea.KeyEsc})
		k.Alt = false
		return tea.Batch(c1, m.handleKey(k))
	}
	// Fast typing can arrive as one message with several runes ("/zone"); outside text entry
	// each rune is its own key.
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste && f != focusText {
		var cmds []tea.Cmd
		for _, r := range k.Runes {
			cmds = append(cmds, m.handleKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt}))
		}
		return tea.Batch(cmds...)
	}
	if f != focusNone {
		return m.send(m.view, k)
	}
	if m.showHelp {
		m.showHelp = false
		if key.Matches(k, m.keys.Quit) && k.String() == "q" {
			return tea.Quit
		}
		return nil
	}
	keys := m.keys
	switch {
	case key.Matches(k, keys.Quit):
		return tea.Quit
	case key.Matches(k, keys.Help):
		m.showHelp = true
		return nil
	case key.Matches(k, keys.Refresh):
		return tea.Batch(m.startRefresh(), m.send(m.view, reloadMsg{}))
	case key.Matches(k, keys.Next):
		return m.switchView((m.view + 1) % numViews)
	case key.Matches(k, keys.Prev):
		return m.switchView((m.view + numViews - 1) % numViews)
	case key.Matches(k, keys.Jump):
		return m.switchView(View(k.Runes[0] - '1'))
	}
	return m.send(m.view, k)
}

// switchView shows another view; the one left closes its drill-down.
func (m *Model) switchView(v View) tea.Cmd {
	if v < 0 || v >= numViews {
		return nil
	}
	m.send(m.view, leaveMsg{})
	m.view = v
	m.rebuild()
	if v == ViewConfig && m.st.synced {
		return m.startRefresh() // config values are only kept fresh while they are shown
	}
	return nil
}

// FPS caps how often the screen is redrawn. 30 frames a second keeps an event's way to the
// screen well under 100 ms while halving the renderer's wake-ups compared with bubbletea's 60.
const FPS = 30

// ProgramOptions are the bubbletea options the dashboard is meant to run with.
func ProgramOptions() []tea.ProgramOption { return []tea.ProgramOption{tea.WithFPS(FPS)} }
