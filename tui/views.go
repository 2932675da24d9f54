package tui

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"gopkg.in/yaml.v3"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// sortedHosts orders hosts by friendly name, then id, so rows do not jump around.
func (m *Model) sortedHosts() []*hostState {
	hs := make([]*hostState, 0, len(m.st.hosts))
	for _, h := range m.st.hosts {
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool {
		if hs[i].Name != hs[j].Name {
			return hs[i].Name < hs[j].Name
		}
		return hs[i].ID < hs[j].ID
	})
	return hs
}

func (m *Model) uptime(h *hostState) string {
	if m.o.Stable {
		return "-"
	}
	secs := h.Uptime
	if !h.UptimeAt.IsZero() {
		if d := m.now().Sub(h.UptimeAt); d > 0 {
			secs += uint64(d / time.Second)
		}
	}
	return humanDuration(secs)
}

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

func linkKey(l ctl.Link) string {
	return l.SourceID + "\x00" + l.WitNamespace + "\x00" + l.WitPackage + "\x00" + l.Name
}

func sortedLinks(links []ctl.Link) []ctl.Link {
	out := append([]ctl.Link(nil), links...)
	sort.Slice(out, func(i, j int) bool { return linkKey(out[i]) < linkKey(out[j]) })
	return out
}

// rebuild refreshes the rows of the current view's table from the state.
func (m *Model) rebuild() {
	t := m.tables[m.view]
	switch m.view {
	case ViewHosts:
		cols := []column{{Title: "NAME", Min: 8, Max: 30}, {Title: "HOST ID", Min: 8, Max: 56, Flex: true},
			{Title: "VERSION", Min: 5}, {Title: "UPTIME", Min: 5}, {Title: "COMP", Min: 4}, {Title: "PROV", Min: 4},
			{Title: "LABELS", Min: 6, Flex: true}}
		var rows []row
		for _, h := range m.sortedHosts() {
			rows = append(rows, row{Key: h.ID, Cells: []string{m.mask(orDash(h.Name)), m.mask(h.ID), orDash(h.Version), m.uptime(h),
				strconv.Itoa(len(h.Components)), strconv.Itoa(len(h.Providers)), m.mask(orDash(events.LabelString(h.Labels)))}})
		}
		t.setRows(cols, rows)
	case ViewComponents:
		cols := []column{{Title: "COMPONENT", Min: 8, Max: 40, Flex: true}, {Title: "IMAGE", Min: 8, Flex: true},
			{Title: "HOST", Min: 6, Max: 30, Flex: true}, {Title: "MAX", Min: 3}, {Title: "APP", Min: 3, Max: 30, Flex: true}}
		var rows []row
		for _, h := range m.sortedHosts() {
			for _, c := range h.Components {
				rows = append(rows, row{Key: h.ID + "/" + c.ID, Cells: []string{m.mask(c.ID), m.mask(c.ImageRef), m.hostName(h.ID),
					maxInstances(c.MaxInstances), m.mask(appOf(c.Annotations))}})
			}
		}
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].Cells[0] < rows[j].Cells[0] })
		t.setRows(cols, rows)
	case ViewProviders:
		cols := []column{{Title: "PROVIDER", Min: 8, Max: 40, Flex: true}, {Title: "NAME", Min: 4, Max: 24, Flex: true},
			{Title: "IMAGE", Min: 8, Flex: true}, {Title: "HOST", Min: 6, Max: 30, Flex: true}, {Title: "HEALTH", Min: 6},
			{Title: "APP", Min: 3, Max: 30, Flex: true}}
		var rows []row
		for _, h := range m.sortedHosts() {
			for _, p := range h.Providers {
				health := m.st.health[providerKey{h.ID, p.ID}]
				r := row{Key: h.ID + "/" + p.ID, Cells: []string{m.mask(p.ID), m.mask(orDash(p.Name)), m.mask(orDash(p.ImageRef)),
					m.hostName(h.ID), orDash(health), m.mask(appOf(p.Annotations))}}
				switch health {
				case "healthy":
					r.Styles = styleOf(4, m.sty.ok)
				case "unhealthy":
					r.Styles = styleOf(4, m.sty.bad)
				}
				rows = append(rows, r)
			}
		}
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].Cells[0] < rows[j].Cells[0] })
		t.setRows(cols, rows)
	case ViewApps:
		cols := []column{{Title: "NAME", Min: 6, Max: 30, Flex: true}, {Title: "DEPLOYED", Min: 8, Max: 28},
			{Title: "STATUS", Min: 8}, {Title: "MESSAGE", Min: 7, Flex: true}}
		var rows []row
		for _, a := range m.st.apps {
			dv := "N/A"
			if a.DeployedVersion != nil && *a.DeployedVersion != "" {
				dv = *a.DeployedVersion
			}
			s := appState(a)
			typ := orDash(string(s.Type))
			rows = append(rows, row{Key: a.Name, Cells: []string{m.mask(a.Name), m.mask(dv), typ, m.mask(s.Message)},
				Styles: styleOf(2, m.sty.statusStyle(string(s.Type)))})
		}
		t.setRows(cols, rows)
	case ViewLinks:
		cols := []column{{Title: "SOURCE", Min: 6, Max: 30, Flex: true}, {Title: "TARGET", Min: 6, Max: 30, Flex: true},
			{Title: "WIT", Min: 6, Max: 40, Flex: true}, {Title: "NAME", Min: 4, Max: 20}, {Title: "SOURCE CONFIG", Min: 6, Max: 30, Flex: true},
			{Title: "TARGET CONFIG", Min: 6, Max: 30, Flex: true}}
		var rows []row
		for _, l := range sortedLinks(m.st.links) {
			wit := l.WitNamespace + ":" + l.WitPackage + "/" + strings.Join(l.Interfaces, ",")
			rows = append(rows, row{Key: linkKey(l), Cells: []string{m.mask(l.SourceID), m.mask(l.Target), wit, m.mask(orDash(l.Name)),
				m.mask(orDash(strings.Join(l.SourceConfig, ","))), m.mask(orDash(strings.Join(l.TargetConfig, ",")))}})
		}
		t.setRows(cols, rows)
	case ViewConfig:
		cols := []column{{Title: "NAME", Min: 6, Max: 30, Flex: true}, {Title: "KEYS", Min: 4}, {Title: "VALUES", Min: 10, Flex: true}}
		var rows []row
		for _, n := range m.st.configNamesAll() {
			rows = append(rows, row{Key: n, Cells: []string{m.mask(n), m.configKeyCount(n), m.mask(m.configSummary(n))}})
		}
		t.setRows(cols, rows)
	case ViewEvents:
		cols := []column{{Title: "TIME", Min: 8}, {Title: "EVENT", Min: 10, Max: 22}, {Title: "SOURCE", Min: 6, Max: 24, Flex: true},
			{Title: "DETAILS", Min: 10, Flex: true}}
		follow := t.cursor >= len(t.rows)-1
		// Rows are built once per event; only new events are formatted.
		first := 0
		if n := len(m.st.events); n > 0 {
			first = m.st.events[0].Seq
		}
		keep := m.eventRows[:0]
		for _, r := range m.eventRows {
			if seq, _ := strconv.Atoi(r.Key); seq >= first {
				keep = append(keep, r)
			}
		}
		m.eventRows = keep
		last := 0
		if n := len(m.eventRows); n > 0 {
			last, _ = strconv.Atoi(m.eventRows[n-1].Key)
		}
		for _, e := range m.st.events {
			if e.Seq <= last {
				continue
			}
			r := row{Key: strconv.Itoa(e.Seq), Cells: []string{m.clock(e.At), e.Name, m.sourceName(e.Source), m.mask(e.Summary)}}
			switch {
			case strings.HasSuffix(e.Name, "_failed"):
				r.Styles = styleOf(1, m.sty.bad)
			case strings.HasPrefix(e.Name, "host_heartbeat"), strings.HasPrefix(e.Name, "health_check"):
				r.Styles = styleOf(1, m.sty.dim)
			}
			m.eventRows = append(m.eventRows, r)
		}
		rows := m.eventRows
		t.setRows(cols, rows)
		if follow && t.filter == "" {
			t.end()
		}
	}
}

func (m *Model) clock(t time.Time) string {
	if m.o.Stable {
		return "--:--:--"
	}
	return t.Local().Format("15:04:05")
}

func (m *Model) sourceName(id string) string {
	if h := m.st.hosts[id]; h != nil && h.Name != "" {
		return m.mask(h.Name)
	}
	return m.mask(shortID(id))
}

func (m *Model) configKeyCount(n string) string {
	if _, bad := m.st.configErr[n]; bad {
		return "?"
	}
	v, ok := m.st.configValues[n]
	if !ok {
		return "…"
	}
	return strconv.Itoa(len(v))
}

func (m *Model) configSummary(n string) string {
	if e, bad := m.st.configErr[n]; bad {
		return "error: " + e
	}
	v, ok := m.st.configValues[n]
	if !ok {
		return "loading…"
	}
	if v == nil {
		return "(not stored)"
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + v[k]
	}
	return strings.Join(parts, " ")
}

type counts struct {
	hosts, components, providers, apps, links, configs int
	// instances is the sum of max_instances over every placement; unbounded is set when any
	// placement has no limit.
	instances int
	unbounded bool
}

func (m *Model) counts() counts {
	c := counts{hosts: len(m.st.hosts), apps: len(m.st.apps), links: len(m.st.links), configs: len(m.st.configNamesAll())}
	comps, provs := map[string]bool{}, map[string]bool{}
	for _, h := range m.st.hosts {
		for _, x := range h.Components {
			comps[x.ID] = true
			if x.MaxInstances == ctl.Unbounded {
				c.unbounded = true
			} else {
				c.instances += int(x.MaxInstances)
			}
		}
		for _, p := range h.Providers {
			provs[p.ID] = true
		}
	}
	c.components, c.providers = len(comps), len(provs)
	return c
}

// overviewView shows count tiles, the wadm state and the latest events.
func (m *Model) overviewView(h int) string {
	c := m.counts()
	rate := fmt.Sprintf("%.1f", m.st.eventRate(m.now()))
	if m.o.Stable {
		rate = "n/s"
	}
	apps := strconv.Itoa(c.apps)
	if m.st.appsErr != nil {
		apps = "?"
	}
	tiles := []struct{ label, value string }{
		{"Hosts", strconv.Itoa(c.hosts)}, {"Components", strconv.Itoa(c.components)}, {"Providers", strconv.Itoa(c.providers)},
		{"Apps", apps}, {"Links", strconv.Itoa(c.links)}, {"Config", strconv.Itoa(c.configs)}, {"Events/s", rate},
	}
	var b strings.Builder
	b.WriteString(m.tiles(tiles))
	b.WriteString("\n")
	wadm := m.sty.ok.Render("answering")
	switch {
	case m.st.appsErr != nil:
		wadm = m.sty.warn.Render(m.st.appsErr.Error())
	case !m.synced:
		wadm = "…"
	}
	maxInst := strconv.Itoa(c.instances)
	if c.unbounded {
		maxInst = "unbounded"
	}
	b.WriteString(fmt.Sprintf(" wadm: %s   max component instances: %s\n", wadm, maxInst))
	used := strings.Count(b.String(), "\n")
	if left := h - used - 1; left > 0 {
		b.WriteString("\n" + m.sty.bold.Render(" Recent events") + "\n")
		n := left - 1
		start := max(len(m.st.events)-n, 0)
		if len(m.st.events) == 0 {
			b.WriteString(m.sty.dim.Render("  none yet") + "\n")
		}
		for i := len(m.st.events) - 1; i >= start; i-- {
			e := m.st.events[i]
			line := fmt.Sprintf("  %s  %-20s %s  %s", m.clock(e.At), e.Name, m.sourceName(e.Source), m.mask(e.Summary))
			b.WriteString(fitLine(line, m.width) + "\n")
		}
	}
	return b.String()
}

func (m *Model) findComponent(key string) (ctl.ComponentDescription, string, bool) {
	hostID, id, _ := strings.Cut(key, "/")
	if h := m.st.hosts[hostID]; h != nil {
		for _, c := range h.Components {
			if c.ID == id {
				return c, hostID, true
			}
		}
	}
	return ctl.ComponentDescription{}, "", false
}

func (m *Model) findProvider(key string) (ctl.ProviderDescription, string, bool) {
	hostID, id, _ := strings.Cut(key, "/")
	if h := m.st.hosts[hostID]; h != nil {
		for _, p := range h.Providers {
			if p.ID == id {
				return p, hostID, true
			}
		}
	}
	return ctl.ProviderDescription{}, "", false
}

func (m *Model) findLink(key string) (ctl.Link, bool) {
	for _, l := range m.st.links {
		if linkKey(l) == key {
			return l, true
		}
	}
	return ctl.Link{}, false
}

// detailView renders the drill-down with its title line and scrolling body.
func (m *Model) detailView(h int) string {
	lines := m.detailLines()
	title := m.sty.bold.Render(m.detailTitle())
	body := max(h-1, 1)
	scroll := max(min(m.detail.scroll, len(lines)-body), 0)
	end := min(scroll+body, len(lines))
	more := ""
	if len(lines) > body {
		more = m.sty.dim.Render(fmt.Sprintf("  (%d-%d of %d)", scroll+1, end, len(lines)))
	}
	out := []string{title + more}
	for _, l := range lines[scroll:end] {
		out = append(out, fitLine(l, m.width))
	}
	return strings.Join(out, "\n")
}

func (m *Model) detailTitle() string {
	d := m.detail
	switch d.view {
	case ViewHosts:
		return "Host " + m.hostName(d.key)
	case ViewComponents:
		_, id, _ := strings.Cut(d.key, "/")
		return "Component " + m.mask(id)
	case ViewProviders:
		_, id, _ := strings.Cut(d.key, "/")
		return "Provider " + m.mask(id)
	case ViewApps:
		return "App " + m.mask(d.key)
	case ViewLinks:
		l, _ := m.findLink(d.key)
		return "Link " + m.mask(l.SourceID) + " → " + m.mask(l.Target)
	case ViewConfig:
		return "Config " + m.mask(d.key)
	case ViewEvents:
		return "Event"
	}
	return ""
}

func kv(k, v string) string { return fmt.Sprintf("  %-14s %s", k+":", v) }

func (m *Model) labelLines(labels map[string]string) []string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, "    "+m.mask(k)+"="+m.mask(labels[k]))
	}
	if len(out) == 0 {
		out = append(out, "    none")
	}
	return out
}

// detailLines builds the drill-down body from the live state, so it updates as events arrive.
func (m *Model) detailLines() []string {
	d := m.detail
	var out []string
	gone := []string{"", m.sty.dim.Render("  this item is gone from the lattice (esc to go back)")}
	switch d.view {
	case ViewHosts:
		h := m.st.hosts[d.key]
		if h == nil {
			return gone
		}
		out = append(out, "", kv("ID", m.mask(h.ID)), kv("Name", m.mask(orDash(h.Name))), kv("Version", orDash(h.Version)),
			kv("Uptime", m.uptime(h)), "  Labels:")
		out = append(out, m.labelLines(h.Labels)...)
		out = append(out, "", m.sty.bold.Render(fmt.Sprintf("  Components (%d)", len(h.Components))))
		t := &table{}
		var rows []row
		for _, c := range h.Components {
			rows = append(rows, row{Key: c.ID, Cells: []string{m.mask(c.ID), m.mask(c.ImageRef), maxInstances(c.MaxInstances), m.mask(appOf(c.Annotations))}})
		}
		t.setRows([]column{{Title: "ID", Min: 6, Max: 40, Flex: true}, {Title: "IMAGE", Min: 8, Flex: true}, {Title: "MAX", Min: 3}, {Title: "APP", Min: 3, Max: 30, Flex: true}}, rows)
		t.cursor = -1
		out = append(out, strings.Split(t.view(m.width-2, len(rows)+1+boolInt(len(rows) == 0), m.sty, "none"), "\n")...)
		out = append(out, "", m.sty.bold.Render(fmt.Sprintf("  Providers (%d)", len(h.Providers))))
		t = &table{}
		rows = nil
		for _, p := range h.Providers {
			rows = append(rows, row{Key: p.ID, Cells: []string{m.mask(p.ID), m.mask(orDash(p.Name)), m.mask(orDash(p.ImageRef)),
				orDash(m.st.health[providerKey{h.ID, p.ID}]), m.mask(appOf(p.Annotations))}})
		}
		t.setRows([]column{{Title: "ID", Min: 6, Max: 40, Flex: true}, {Title: "NAME", Min: 4, Max: 20}, {Title: "IMAGE", Min: 8, Flex: true},
			{Title: "HEALTH", Min: 6}, {Title: "APP", Min: 3, Max: 30, Flex: true}}, rows)
		t.cursor = -1
		out = append(out, strings.Split(t.view(m.width-2, len(rows)+1+boolInt(len(rows) == 0), m.sty, "none"), "\n")...)
	case ViewComponents:
		c, hostID, ok := m.findComponent(d.key)
		if !ok {
			return gone
		}
		out = append(out, "", kv("ID", m.mask(c.ID)), kv("Name", m.mask(orDash(c.Name))), kv("Image", m.mask(c.ImageRef)),
			kv("Host", m.hostName(hostID)+"  "+m.mask(hostID)), kv("Max instances", maxInstances(c.MaxInstances)),
			kv("Revision", strconv.Itoa(int(c.Revision))), kv("App", m.mask(appOf(c.Annotations))), "  Annotations:")
		out = append(out, m.labelLines(c.Annotations)...)
		if len(c.Limits) > 0 {
			out = append(out, "  Limits:")
			out = append(out, m.labelLines(c.Limits)...)
		}
	case ViewProviders:
		p, hostID, ok := m.findProvider(d.key)
		if !ok {
			return gone
		}
		out = append(out, "", kv("ID", m.mask(p.ID)), kv("Name", m.mask(orDash(p.Name))), kv("Image", m.mask(orDash(p.ImageRef))),
			kv("Host", m.hostName(hostID)+"  "+m.mask(hostID)), kv("Health", orDash(m.st.health[providerKey{hostID, p.ID}])),
			kv("Revision", strconv.Itoa(int(p.Revision))), kv("App", m.mask(appOf(p.Annotations))), "  Annotations:")
		out = append(out, m.labelLines(p.Annotations)...)
	case ViewApps:
		return m.appDetailLines()
	case ViewLinks:
		l, ok := m.findLink(d.key)
		if !ok {
			return gone
		}
		out = append(out, "", kv("Source", m.mask(l.SourceID)), kv("Target", m.mask(l.Target)), kv("Name", m.mask(l.Name)),
			kv("WIT", l.WitNamespace+":"+l.WitPackage), kv("Interfaces", strings.Join(l.Interfaces, ", ")),
			kv("Source config", m.mask(orDash(strings.Join(l.SourceConfig, ", ")))),
			kv("Target config", m.mask(orDash(strings.Join(l.TargetConfig, ", ")))))
	case ViewConfig:
		out = append(out, "")
		if e, bad := m.st.configErr[d.key]; bad {
			out = append(out, "  error: "+e)
		}
		v, ok := m.st.configValues[d.key]
		switch {
		case !ok:
			out = append(out, "  loading…")
		case v == nil:
			out = append(out, "  not stored in the lattice (referenced by a link only)")
		default:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				out = append(out, "  "+m.mask(k)+" = "+m.mask(v[k]))
			}
		}
		var users []string
		for _, l := range sortedLinks(m.st.links) {
			for _, n := range append(append([]string(nil), l.SourceConfig...), l.TargetConfig...) {
				if n == d.key {
					users = append(users, "    "+m.mask(l.SourceID)+" → "+m.mask(l.Target)+" ("+l.WitNamespace+":"+l.WitPackage+")")
					break
				}
			}
		}
		if len(users) > 0 {
			out = append(out, "", "  Used by links:")
			out = append(out, users...)
		}
	case ViewEvents:
		var e *eventEntry
		for i := range m.st.events {
			if strconv.Itoa(m.st.events[i].Seq) == d.key {
				e = &m.st.events[i]
			}
		}
		if e == nil {
			return gone
		}
		out = append(out, "", kv("Time", m.clock(e.At)), kv("Event", e.Name), kv("Source", m.sourceName(e.Source)+"  "+m.mask(e.Source)), "  Data:")
		var pretty map[string]any
		if json.Unmarshal(e.Raw, &pretty) == nil {
			b, _ := json.MarshalIndent(pretty, "    ", "  ")
			for _, l := range strings.Split("    "+string(b), "\n") {
				out = append(out, m.mask(l))
			}
		} else {
			out = append(out, "    "+m.mask(string(e.Raw)))
		}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (m *Model) appDetailLines() []string {
	d := m.detail
	var sum *model.ModelSummary
	for i := range m.st.apps {
		if m.st.apps[i].Name == d.key {
			sum = &m.st.apps[i]
		}
	}
	out := []string{""}
	if sum != nil {
		dv := "N/A"
		if sum.DeployedVersion != nil && *sum.DeployedVersion != "" {
			dv = *sum.DeployedVersion
		}
		out = append(out, kv("Latest", m.mask(orDash(sum.Version))), kv("Deployed", m.mask(dv)))
		if sum.Description != nil && *sum.Description != "" {
			out = append(out, kv("Description", m.mask(*sum.Description)))
		}
	}
	if d.app == nil {
		return append(out, "  loading status and manifest…")
	}
	if d.app.err != nil && d.app.manifest == nil && d.app.status.Info.Type == "" {
		return append(out, m.sty.bad.Render("  "+d.app.err.Error()))
	}
	st := d.app.status
	out = append(out, kv("Status", m.sty.statusStyle(string(st.Info.Type)).Render(orDash(string(st.Info.Type)))))
	if st.Info.Message != "" {
		out = append(out, kv("Message", m.mask(st.Info.Message)))
	}
	out = append(out, "", m.sty.bold.Render(fmt.Sprintf("  Scalers (%d)", len(st.Scalers))))
	t := &table{}
	var rows []row
	for _, s := range st.Scalers {
		rows = append(rows, row{Key: s.ID, Cells: []string{m.mask(s.Name), s.Kind, orDash(string(s.Status.Type)), m.mask(s.Status.Message)},
			Styles: styleOf(2, m.sty.statusStyle(string(s.Status.Type)))})
	}
	t.setRows([]column{{Title: "NAME", Min: 8, Max: 50, Flex: true}, {Title: "KIND", Min: 4}, {Title: "STATUS", Min: 6}, {Title: "MESSAGE", Min: 7, Flex: true}}, rows)
	t.cursor = -1
	out = append(out, strings.Split(t.view(m.width-2, len(rows)+1+boolInt(len(rows) == 0), m.sty, "none"), "\n")...)
	out = append(out, "", m.sty.bold.Render("  Manifest"))
	switch {
	case d.app.err != nil:
		out = append(out, m.sty.bad.Render("    "+d.app.err.Error()))
	case d.app.manifest == nil:
		out = append(out, "    none")
	default:
		b, err := yaml.Marshal(d.app.manifest)
		if err != nil {
			out = append(out, "    "+err.Error())
		}
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			out = append(out, "    "+m.mask(l))
		}
	}
	return out
}

var _ = ansi.StringWidth

// tiles renders the count tiles; lipgloss boxes are costly, so the result is reused while the
// numbers and the width stay the same (most heartbeats change neither).
func (m *Model) tiles(tiles []struct{ label, value string }) string {
	key := fmt.Sprint(m.width, tiles)
	if key == m.tilesKey {
		return m.tilesOut
	}
	// As many tiles per row as fit at 13 cells, spread evenly over the rows needed.
	maxPerRow := max(min(len(tiles), m.width/13), 1)
	nrows := (len(tiles) + maxPerRow - 1) / maxPerRow
	perRow := (len(tiles) + nrows - 1) / nrows
	tileW := max(m.width/perRow-2, 8)
	box := lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Width(tileW).Align(lipgloss.Center)
	var rowsOut []string
	for i := 0; i < len(tiles); i += perRow {
		var boxes []string
		for _, t := range tiles[i:min(i+perRow, len(tiles))] {
			boxes = append(boxes, box.Render(m.sty.bold.Render(t.value)+"\n"+m.sty.dim.Render(t.label)))
		}
		rowsOut = append(rowsOut, lipgloss.JoinHorizontal(lipgloss.Top, boxes...))
	}
	out := strings.Join(rowsOut, "\n")
	m.tilesKey, m.tilesOut = key, out
	return out
}
