// Package tui is `wash dashboard`: a live terminal view of one lattice. Data arrives as
// messages — lattice events, wadm status and events, connection changes and periodic inventory
// refreshes — and every request runs in a tea.Cmd, so Update and View never block.
package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/ctl"
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
		return 0, fmt.Errorf("unknown view %q: use one of overview, hosts, components, providers, apps, links, config, events", s)
	}
	return match, nil
}

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
	// Color enables colours (off under NO_COLOR).
	Color bool
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
	sty  styles
	keys keyMap
	help help.Model

	width, height int
	view          View
	tables        [numViews]*table

	filtering   bool
	filterInput textinput.Model
	showHelp    bool
	detail      *detail
	prompt      *prompt
	confirm     *confirm

	flash      string
	flashErr   bool
	flashUntil time.Time

	connected bool
	connErr   string

	synced           bool
	refreshing       bool
	refreshQueued    bool
	refreshScheduled bool
	lastRefresh      time.Time
	kvListed         bool
	eventRows        []row // formatted event log rows, appended as events arrive
	periodic         bool  // the next refresh is the periodic one
	tilesKey         string
	tilesOut         string
}

// detail is the drill-down of one row.
type detail struct {
	view   View
	key    string
	scroll int
	app    *appDetailMsg
}

// prompt asks for one value before an action.
type prompt struct {
	label  string
	input  textinput.Model
	onDone func(value string) (*confirm, error)
}

// confirm asks y/n before an action runs.
type confirm struct {
	question string
	run      tea.Cmd
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
	m := &Model{o: o, src: newSource(o), st: newLatticeState(), sty: newStyles(o.Color), keys: newKeyMap(),
		width: 80, height: 24, view: o.View, connected: o.Conn.IsConnected()}
	m.help = newHelp(m.sty)
	for i := range m.tables {
		m.tables[i] = &table{}
	}
	m.filterInput = textinput.New()
	m.filterInput.Prompt = "/"
	m.filterInput.CharLimit = 100
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
	if m.view == ViewConfig || m.detail != nil && m.detail.view == ViewConfig {
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
		m.refreshing, m.synced, m.kvListed, m.lastRefresh = false, true, true, m.now()
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
	case appDetailMsg:
		if m.detail != nil && m.detail.view == ViewApps && m.detail.key == msg.name {
			m.detail.app = &msg
		}
		return nil
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
		found := false
		for i := range m.st.apps {
			if m.st.apps[i].Name == msg.app {
				m.st.apps[i].DetailedStatus = msg.status
				found = true
			}
		}
		var cmd tea.Cmd
		if !found {
			cmd = m.scheduleRefresh()
		}
		if m.detail != nil && m.detail.view == ViewApps && m.detail.key == msg.app && m.detail.app != nil {
			m.detail.app.status = msg.status
		}
		return cmd
	case wadmEventMsg:
		cmds := []tea.Cmd{m.scheduleRefresh()}
		if m.detail != nil && m.detail.view == ViewApps {
			cmds = append(cmds, m.src.fetchAppDetail(m.detail.key))
		}
		return tea.Batch(cmds...)
	case connMsg:
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

func (m *Model) handleKey(k tea.KeyMsg) tea.Cmd {
	if k.Type == tea.KeyCtrlC {
		return tea.Quit
	}
	// Esc quickly followed by a key reaches us as alt+key; outside text entry it means both.
	if k.Alt && k.Type == tea.KeyRunes && !m.filtering && m.prompt == nil && m.confirm == nil {
		c1 := m.handleKey(tea.KeyMsg{Type: tea.KeyEsc})
		k.Alt = false
		return tea.Batch(c1, m.handleKey(k))
	}
	// Fast typing can arrive as one message with several runes ("/zone"); outside text entry
	// each rune is its own key.
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste && !m.filtering && m.prompt == nil {
		var cmds []tea.Cmd
		for _, r := range k.Runes {
			cmds = append(cmds, m.handleKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt}))
		}
		return tea.Batch(cmds...)
	}
	switch {
	case m.confirm != nil:
		switch strings.ToLower(k.String()) {
		case "y":
			c := m.confirm
			m.confirm = nil
			m.setFlash("working…", false)
			return c.run
		case "n", "esc", "q":
			m.confirm = nil
			m.setFlash("cancelled", false)
		}
		return nil
	case m.prompt != nil:
		switch k.Type {
		case tea.KeyEsc:
			m.prompt = nil
			m.setFlash("cancelled", false)
			return nil
		case tea.KeyEnter:
			p := m.prompt
			m.prompt = nil
			c, err := p.onDone(strings.TrimSpace(p.input.Value()))
			if err != nil {
				m.setFlash(err.Error(), true)
				return nil
			}
			m.confirm = c
			return nil
		}
		var cmd tea.Cmd
		m.prompt.input, cmd = m.prompt.input.Update(k)
		return cmd
	case m.filtering:
		switch k.Type {
		case tea.KeyEsc:
			m.filtering = false
			m.filterInput.SetValue("")
			m.filterInput.Blur()
			m.tables[m.view].setFilter("")
			return nil
		case tea.KeyEnter:
			m.filtering = false
			m.filterInput.Blur()
			return nil
		case tea.KeyUp, tea.KeyDown:
			m.filtering = false
			m.filterInput.Blur()
			return m.handleKey(k)
		}
		var cmd tea.Cmd
		m.filterInput, cmd = m.filterInput.Update(k)
		m.tables[m.view].setFilter(m.filterInput.Value())
		return cmd
	case m.showHelp:
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
		if m.detail != nil && m.detail.view == ViewApps {
			return tea.Batch(m.startRefresh(), m.src.fetchAppDetail(m.detail.key))
		}
		return m.startRefresh()
	}
	if m.detail != nil {
		lines := len(m.detailLines())
		page := max(m.bodyHeight()-2, 1)
		switch {
		case key.Matches(k, keys.Back):
			m.detail = nil
		case key.Matches(k, keys.Up):
			m.detail.scroll--
		case key.Matches(k, keys.Down):
			m.detail.scroll++
		case key.Matches(k, keys.PgUp):
			m.detail.scroll -= page
		case key.Matches(k, keys.PgDown):
			m.detail.scroll += page
		case key.Matches(k, keys.Top):
			m.detail.scroll = 0
		case key.Matches(k, keys.End):
			m.detail.scroll = lines
		case key.Matches(k, keys.Next), key.Matches(k, keys.Prev), key.Matches(k, keys.Jump):
			m.detail = nil
			return m.handleKey(k)
		case key.Matches(k, keys.Scale), key.Matches(k, keys.Stop), key.Matches(k, keys.Deploy), key.Matches(k, keys.Undeploy):
			return m.startAction(k)
		}
		if m.detail != nil {
			m.detail.scroll = max(min(m.detail.scroll, lines-1), 0)
		}
		return nil
	}
	t := m.tables[m.view]
	page := max(m.bodyHeight()-2, 1)
	switch {
	case key.Matches(k, keys.Next):
		return m.switchView((m.view + 1) % numViews)
	case key.Matches(k, keys.Prev):
		return m.switchView((m.view + numViews - 1) % numViews)
	case key.Matches(k, keys.Jump):
		return m.switchView(View(k.Runes[0] - '1'))
	case key.Matches(k, keys.Up):
		t.move(-1)
	case key.Matches(k, keys.Down):
		t.move(1)
	case key.Matches(k, keys.PgUp):
		t.move(-page)
	case key.Matches(k, keys.PgDown):
		t.move(page)
	case key.Matches(k, keys.Top):
		t.home()
	case key.Matches(k, keys.End):
		t.end()
	case key.Matches(k, keys.Filter):
		if m.view != ViewOverview {
			m.filtering = true
			m.filterInput.SetValue(t.filter)
			m.filterInput.CursorEnd()
			return m.filterInput.Focus()
		}
	case key.Matches(k, keys.Back):
		if t.filter != "" {
			t.setFilter("")
			m.filterInput.SetValue("")
		}
	case key.Matches(k, keys.Open):
		return m.open()
	case key.Matches(k, keys.Scale), key.Matches(k, keys.Stop), key.Matches(k, keys.Deploy), key.Matches(k, keys.Undeploy):
		return m.startAction(k)
	}
	return nil
}

func (m *Model) switchView(v View) tea.Cmd {
	if v < 0 || v >= numViews {
		return nil
	}
	m.view = v
	m.filterInput.SetValue(m.tables[v].filter)
	m.rebuild()
	if v == ViewConfig && m.synced {
		return m.startRefresh() // config values are only kept fresh while they are shown
	}
	return nil
}

// open drills into the selected row.
func (m *Model) open() tea.Cmd {
	if m.view == ViewOverview {
		return nil
	}
	r, ok := m.tables[m.view].current()
	if !ok {
		return nil
	}
	m.detail = &detail{view: m.view, key: r.Key}
	if m.view == ViewApps {
		return m.src.fetchAppDetail(r.Key)
	}
	return nil
}

// bodyHeight is the number of lines between the tab bar and the status line.
func (m *Model) bodyHeight() int {
	h := m.height - 3 // title, tabs, status
	if !m.connected {
		h--
	}
	return max(h, 1)
}

// mask applies the test hook.
func (m *Model) mask(s string) string {
	if m.o.Mask != nil {
		return m.o.Mask(s)
	}
	return s
}

// View renders the screen; it only reads state.
func (m *Model) View() string {
	var b strings.Builder
	b.WriteString(m.titleBar())
	b.WriteString("\n")
	if !m.connected {
		msg := "NATS connection lost"
		if m.connErr != "" {
			msg += " (" + m.connErr + ")"
		}
		msg += " — reconnecting to " + m.mask(m.o.ServerURL) + "…"
		b.WriteString(m.sty.banner.Render(fitLine(" "+msg, m.width)))
		b.WriteString("\n")
	}
	b.WriteString(m.tabBar())
	b.WriteString("\n")
	h := m.bodyHeight()
	var body string
	switch {
	case m.showHelp:
		body = m.helpView(h)
	case m.detail != nil:
		body = m.detailView(h)
	case m.view == ViewOverview:
		body = m.overviewView(h)
	default:
		body = m.tables[m.view].view(m.width, h, m.sty, m.emptyText())
	}
	b.WriteString(fitHeight(body, h, m.width))
	b.WriteString("\n")
	b.WriteString(m.statusLine())
	return b.String()
}

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

func (m *Model) titleBar() string {
	left := m.sty.title.Render("wash dashboard") + "  lattice " + m.sty.bold.Render(m.mask(m.o.Lattice)) + "  " + m.mask(m.o.ServerURL)
	var right string
	if m.connected {
		right = m.sty.ok.Render("● connected")
	} else {
		right = m.sty.bad.Render("○ disconnected")
	}
	gap := m.width - ansi.StringWidth(left) - ansi.StringWidth(right)
	if gap < 1 {
		return fitLine(left, m.width)
	}
	return left + strings.Repeat(" ", gap) + right
}

func (m *Model) tabBar() string {
	// Wide terminals get roomy tabs; at 80 columns the compact form still shows every name.
	labels := make([]string, numViews)
	total := 0
	for i, n := range viewNames {
		labels[i] = strconv.Itoa(i+1) + ":" + n
		total += len(labels[i]) + 1
	}
	sep, padc := " ", ""
	if total+2+int(numViews)*2 <= m.width {
		sep, padc = "  ", " "
	}
	parts := make([]string, numViews)
	for i, l := range labels {
		if View(i) == m.view {
			parts[i] = m.sty.activeTab.Render("[" + l + "]")
		} else {
			parts[i] = m.sty.tab.Render(padc + l + padc)
		}
	}
	return fitLine(strings.Join(parts, sep), m.width)
}

func (m *Model) statusLine() string {
	switch {
	case m.confirm != nil:
		return fitLine(m.sty.warn.Render(m.confirm.question+" [y/N]"), m.width)
	case m.prompt != nil:
		return fitLine(m.prompt.label+" "+m.prompt.input.View(), m.width)
	case m.filtering:
		return fitLine(m.filterInput.View(), m.width)
	}
	var right string
	switch {
	case !m.synced:
		right = "loading…"
	case m.o.Stable:
		right = "synced"
	case m.refreshing:
		right = "refreshing…"
	default:
		right = "updated " + m.lastRefresh.Format("15:04:05")
	}
	right = m.sty.dim.Render(right)
	var left string
	if m.flash != "" {
		st := m.sty.flashOK
		if m.flashErr {
			st = m.sty.flashErr
		}
		left = st.Render(m.flash)
	} else {
		if f := m.tables[m.view].filter; f != "" && m.detail == nil {
			left = m.sty.info.Render("/"+f) + "  "
		}
		left += m.help.ShortHelpView(m.shortHelp())
	}
	avail := m.width - ansi.StringWidth(right) - 1
	if ansi.StringWidth(left) > avail {
		left = ansi.Truncate(left, max(avail, 0), "…")
	}
	gap := max(m.width-ansi.StringWidth(left)-ansi.StringWidth(right), 1)
	return left + strings.Repeat(" ", gap) + right
}

func (m *Model) shortHelp() []key.Binding {
	k := m.keys
	if m.showHelp {
		return []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("any key", "close help"))}
	}
	if m.detail != nil {
		bs := []key.Binding{k.Back, k.Up, k.Down}
		switch m.detail.view {
		case ViewApps:
			bs = append(bs, k.Deploy, k.Undeploy)
		case ViewComponents:
			bs = append(bs, k.Scale)
		case ViewProviders:
			bs = append(bs, key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "stop provider")))
		case ViewLinks:
			bs = append(bs, key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "delete link")))
		}
		return append(bs, k.Help, k.Quit)
	}
	bs := []key.Binding{k.Next}
	if m.view != ViewOverview {
		bs = append(bs, k.Open, k.Filter)
	}
	switch m.view {
	case ViewComponents:
		bs = append(bs, key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "scale")))
	case ViewProviders:
		bs = append(bs, key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "stop")))
	case ViewApps:
		bs = append(bs, key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "deploy")), key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undeploy")))
	case ViewLinks:
		bs = append(bs, key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "delete")))
	}
	return append(bs, k.Help, k.Quit)
}

func (m *Model) helpView(h int) string {
	var b strings.Builder
	b.WriteString(m.sty.bold.Render("Keys") + "\n\n")
	hm := m.help
	hm.Width = m.width
	b.WriteString(hm.FullHelpView(m.keys.fullHelp()))
	b.WriteString("\n\n" + m.sty.dim.Render("Views: 1 overview, 2 hosts, 3 components, 4 providers, 5 apps, 6 links, 7 config, 8 events."))
	b.WriteString("\n" + m.sty.dim.Render("Actions ask for confirmation first. q or Ctrl+C quits."))
	_ = h
	return b.String()
}

func (m *Model) emptyText() string {
	switch m.view {
	case ViewHosts:
		if !m.synced {
			return "loading…"
		}
		return "no hosts in this lattice: start one with `wash up`"
	case ViewApps:
		if m.st.appsErr != nil {
			return m.st.appsErr.Error()
		}
		if !m.synced {
			return "loading…"
		}
		return "no apps: deploy one with `wash app deploy`"
	}
	if !m.synced {
		return "loading…"
	}
	if f := m.tables[m.view].filter; f != "" {
		return "nothing matches /" + f
	}
	return "none"
}

// startAction begins the confirmation flow for the key's action on the selected row.
func (m *Model) startAction(k tea.KeyMsg) tea.Cmd {
	view := m.view
	var r row
	if m.detail != nil {
		view = m.detail.view
		r = row{Key: m.detail.key}
	} else {
		var ok bool
		if r, ok = m.tables[m.view].current(); !ok {
			return nil
		}
	}
	keys := m.keys
	switch {
	case view == ViewComponents && key.Matches(k, keys.Scale):
		c, hostID, ok := m.findComponent(r.Key)
		if !ok {
			return nil
		}
		in := textinput.New()
		in.SetValue(strconv.FormatUint(uint64(c.MaxInstances), 10))
		in.CharLimit = 10
		in.CursorEnd()
		m.prompt = &prompt{label: "Scale " + c.ID + " to how many instances (0 stops it)?", input: in,
			onDone: func(v string) (*confirm, error) {
				n, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					return nil, fmt.Errorf("invalid count %q: enter a whole number (0 stops the component)", v)
				}
				q := fmt.Sprintf("Scale %s on %s to %d?", c.ID, m.hostName(hostID), n)
				if app := c.Annotations[AppSpecAnnotation]; app != "" {
					q += " (managed by app " + app + "; wadm may revert it)"
				}
				cmd := ctl.ScaleComponentCommand{ComponentRef: c.ImageRef, ComponentID: c.ID, HostID: hostID,
					Count: uint32(n), Annotations: c.Annotations}
				return &confirm{question: q, run: m.src.action(fmt.Sprintf("scale of %s to %d requested", c.ID, n),
					func(ctx context.Context) (string, error) {
						_, err := m.src.ctl.ScaleComponent(ctx, cmd)
						return "", err
					})}, nil
			}}
		return m.prompt.input.Focus()
	case view == ViewProviders && key.Matches(k, keys.Stop):
		p, hostID, ok := m.findProvider(r.Key)
		if !ok {
			return nil
		}
		m.confirm = &confirm{question: fmt.Sprintf("Stop provider %s on %s?", p.ID, m.hostName(hostID)),
			run: m.src.action("stop of "+p.ID+" requested", func(ctx context.Context) (string, error) {
				_, err := m.src.ctl.StopProvider(ctx, ctl.StopProviderCommand{HostID: hostID, ProviderID: p.ID})
				return "", err
			})}
	case view == ViewLinks && key.Matches(k, keys.Stop):
		l, ok := m.findLink(r.Key)
		if !ok {
			return nil
		}
		m.confirm = &confirm{question: fmt.Sprintf("Delete link %s → %s (%s:%s, %s)?", l.SourceID, l.Target, l.WitNamespace, l.WitPackage, l.Name),
			run: m.src.action("link deleted", func(ctx context.Context) (string, error) {
				_, err := m.src.ctl.DeleteLink(ctx, ctl.DeleteLinkRequest{SourceID: l.SourceID, Name: l.Name, WitNamespace: l.WitNamespace, WitPackage: l.WitPackage})
				return "", err
			})}
	case view == ViewApps && key.Matches(k, keys.Undeploy):
		name := r.Key
		m.confirm = &confirm{question: "Undeploy app " + name + "?",
			run: m.src.action("undeploy of "+name+" requested", func(ctx context.Context) (string, error) {
				r, err := m.src.wadm.Undeploy(ctx, name)
				return r.Message, err
			})}
	case view == ViewApps && key.Matches(k, keys.Deploy):
		name := r.Key
		in := textinput.New()
		in.CharLimit = 200
		for _, a := range m.st.apps {
			if a.Name == name {
				in.SetValue(a.Version)
			}
		}
		in.CursorEnd()
		m.prompt = &prompt{label: "Deploy which version of " + name + "?", input: in,
			onDone: func(v string) (*confirm, error) {
				shown := v
				if shown == "" {
					shown = "latest"
				}
				return &confirm{question: fmt.Sprintf("Deploy %s version %s?", name, shown),
					run: m.src.action("deploy of "+name+" requested", func(ctx context.Context) (string, error) {
						r, err := m.src.wadm.Deploy(ctx, name, v)
						return r.Message, err
					})}, nil
			}}
		return m.prompt.input.Focus()
	}
	return nil
}

func (m *Model) hostName(id string) string {
	if h := m.st.hosts[id]; h != nil && h.Name != "" {
		return m.mask(h.Name)
	}
	return m.mask(shortID(id))
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}

// styleOf returns a one-cell style map.
func styleOf(i int, s lipgloss.Style) map[int]lipgloss.Style { return map[int]lipgloss.Style{i: s} }

// FPS caps how often the screen is redrawn. 30 frames a second keeps an event's way to the
// screen well under 100 ms while halving the renderer's wake-ups compared with bubbletea's 60.
const FPS = 30

// ProgramOptions are the bubbletea options the dashboard is meant to run with.
func ProgramOptions() []tea.ProgramOption { return []tea.ProgramOption{tea.WithFPS(FPS)} }
