package tui

import (
	"encoding/json"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// eventsView is the event log, newest last; it follows new events while the last row is
// selected. A drill-down shows an event's data.
type eventsView struct {
	list
	// logRows are the formatted log rows, kept across updates: only new events are formatted.
	logRows []row
}

func newEventsView(ctx *viewContext) viewModel {
	v := &eventsView{}
	v.list = newList(ctx, v)
	return v
}

// Update keeps the newest event selected as events arrive, while it was and no filter is set.
func (v *eventsView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	t := &v.table
	follow := t.cursor >= len(t.rows)-1
	m, cmd := v.list.Update(msg)
	if _, ok := msg.(dataMsg); ok && follow && t.filter == "" {
		t.end()
	}
	return m, cmd
}

var eventColumns = []column{{Title: "TIME", Min: 8}, {Title: "EVENT", Min: 10, Max: 22}, {Title: "SOURCE", Min: 6, Max: 24, Flex: true},
	{Title: "DETAILS", Min: 10, Flex: true}}

// rows drops the rows of events that left the log and formats rows for new ones only.
func (v *eventsView) rows() ([]column, []row) {
	c, st := v.ctx, v.ctx.lattice()
	first := 0
	if len(st.events) > 0 {
		first = st.events[0].Seq
	}
	keep := v.logRows[:0]
	for _, r := range v.logRows {
		if seq, _ := strconv.Atoi(r.Key); seq >= first {
			keep = append(keep, r)
		}
	}
	v.logRows = keep
	last := 0
	if n := len(v.logRows); n > 0 {
		last, _ = strconv.Atoi(v.logRows[n-1].Key)
	}
	for _, e := range st.events {
		if e.Seq <= last {
			continue
		}
		r := row{Key: strconv.Itoa(e.Seq), Cells: []string{c.clock(e.At), e.Name, c.hostName(e.Source), c.mask(e.Summary)}}
		switch {
		case strings.HasSuffix(e.Name, "_failed"):
			r.Styles = styleOf(1, c.sty.bad)
		case strings.HasPrefix(e.Name, "host_heartbeat"), strings.HasPrefix(e.Name, "health_check"):
			r.Styles = styleOf(1, c.sty.dim)
		}
		v.logRows = append(v.logRows, r)
	}
	return eventColumns, v.logRows
}

func (v *eventsView) detail(seq string) (string, []string) {
	c, st := v.ctx, v.ctx.lattice()
	var e *eventEntry
	for i := range st.events {
		if strconv.Itoa(st.events[i].Seq) == seq {
			e = &st.events[i]
		}
	}
	if e == nil {
		return "Event", v.gone()
	}
	out := []string{"", kv("Time", c.clock(e.At)), kv("Event", e.Name), kv("Source", c.hostName(e.Source)+"  "+c.mask(e.Source)), "  Data:"}
	var pretty map[string]any
	if json.Unmarshal(e.Raw, &pretty) == nil {
		b, _ := json.MarshalIndent(pretty, "    ", "  ")
		for _, l := range strings.Split("    "+string(b), "\n") {
			out = append(out, c.mask(l))
		}
	} else {
		out = append(out, "    "+c.mask(string(e.Raw)))
	}
	return "Event", out
}
