package tui

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// column describes one table column: Min is the width it never shrinks below, Max caps its
// natural width (0: no cap), Flex columns absorb shrinking first.
type column struct {
	Title string
	Min   int
	Max   int
	Flex  bool
}

// row is one table row: Key identifies it across refreshes (the selection follows the key),
// Cells are plain text and Styles optionally colour single cells.
type row struct {
	Key    string
	Cells  []string
	Styles map[int]lipgloss.Style
}

// table is a scrolling, filterable table that keeps its selection by row key. It renders
// plain-text markers for the selection so it stays usable without colour.
type table struct {
	cols     []column
	all      []row
	rows     []row // after filter
	filter   string
	natural  []int // natural column widths over all rows, computed when rows change
	cursor   int
	offset   int
	selected string
}

func (t *table) setRows(cols []column, rows []row) {
	t.cols = cols
	t.all = rows
	t.natural = make([]int, len(cols))
	for i, c := range cols {
		t.natural[i] = ansi.StringWidth(c.Title)
		for _, r := range rows {
			if i < len(r.Cells) {
				t.natural[i] = max(t.natural[i], cellWidth(r.Cells[i], c.Max))
			}
		}
	}
	t.applyFilter()
}

// cellWidth is the display width of s, at most limit (0: no limit); long ASCII strings are
// measured by length so huge cells cost nothing.
func cellWidth(s string, limit int) int {
	if limit > 0 && len(s) > 4*limit {
		return limit
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c < 0x20 {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

func (t *table) setFilter(f string) {
	t.filter = f
	t.applyFilter()
}

func (t *table) applyFilter() {
	t.rows = t.rows[:0]
	f := strings.ToLower(strings.TrimSpace(t.filter))
	for _, r := range t.all {
		if f == "" || strings.Contains(strings.ToLower(strings.Join(r.Cells, "\x00")), f) {
			t.rows = append(t.rows, r)
		}
	}
	// Keep the selection on the same row key when it is still there.
	t.cursor = min(t.cursor, max(len(t.rows)-1, 0))
	if t.selected != "" {
		for i, r := range t.rows {
			if r.Key == t.selected {
				t.cursor = i
				break
			}
		}
	}
	t.remember()
}

func (t *table) remember() {
	if t.cursor < len(t.rows) {
		t.selected = t.rows[t.cursor].Key
	}
}

func (t *table) move(d int) {
	t.cursor += d
	t.cursor = max(min(t.cursor, len(t.rows)-1), 0)
	t.remember()
}

func (t *table) home() { t.cursor = 0; t.remember() }
func (t *table) end()  { t.cursor = max(len(t.rows)-1, 0); t.remember() }

// current returns the selected row, if any.
func (t *table) current() (row, bool) {
	if t.cursor < len(t.rows) {
		return t.rows[t.cursor], true
	}
	return row{}, false
}

// widths fits the columns into width: natural widths first, then flexible columns shrink,
// then every column shrinks down to its minimum.
func (t *table) widths(width int) []int {
	n := len(t.cols)
	if n == 0 {
		return nil
	}
	avail := width - 2 - (n - 1) // selection marker, one space between columns
	w := make([]int, n)
	for i, c := range t.cols {
		w[i] = t.natural[i]
		if c.Max > 0 {
			w[i] = min(w[i], c.Max)
		}
		w[i] = max(w[i], min(c.Min, ansi.StringWidth(c.Title)), 1)
	}
	total := func() int {
		s := 0
		for _, x := range w {
			s += x
		}
		return s
	}
	shrink := func(flexOnly bool) {
		for total() > avail {
			// Take one cell from the widest shrinkable column.
			best := -1
			for i, c := range t.cols {
				if flexOnly && !c.Flex {
					continue
				}
				if w[i] <= max(c.Min, 1) {
					continue
				}
				if best < 0 || w[i] > w[best] {
					best = i
				}
			}
			if best < 0 {
				return
			}
			w[best]--
		}
	}
	shrink(true)
	shrink(false)
	// Give leftover space to the last flexible column so rows span the width.
	if extra := avail - total(); extra > 0 {
		for i := n - 1; i >= 0; i-- {
			if t.cols[i].Flex {
				w[i] += extra
				break
			}
		}
	}
	return w
}

// view renders the header and as many rows as fit in height lines.
func (t *table) view(width, height int, st styles, empty string) string {
	if height < 1 {
		return ""
	}
	w := t.widths(width)
	var b strings.Builder
	hdr := make([]string, len(t.cols))
	for i, c := range t.cols {
		hdr[i] = pad(c.Title, w[i])
	}
	b.WriteString(st.header.Render(fitLine("  "+strings.Join(hdr, " "), width)))
	body := height - 1
	if len(t.rows) == 0 {
		if body > 0 {
			b.WriteString("\n" + st.dim.Render(fitLine("  "+empty, width)))
			body--
		}
		for ; body > 0; body-- {
			b.WriteString("\n")
		}
		return b.String()
	}
	// Scroll so the cursor stays visible.
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if body > 0 && t.cursor >= t.offset+body {
		t.offset = t.cursor - body + 1
	}
	t.offset = max(min(t.offset, len(t.rows)-body), 0)
	for i := t.offset; i < len(t.rows) && i < t.offset+body; i++ {
		r := t.rows[i]
		cells := make([]string, len(t.cols))
		for j := range t.cols {
			c := ""
			if j < len(r.Cells) {
				c = r.Cells[j]
			}
			c = pad(c, w[j])
			if s, ok := r.Styles[j]; ok && i != t.cursor {
				c = s.Render(c)
			}
			cells[j] = c
		}
		line := strings.Join(cells, " ")
		b.WriteString("\n")
		if i == t.cursor {
			b.WriteString(st.selected.Render(fitLine("> "+line, width)))
		} else {
			b.WriteString("  " + line)
		}
	}
	for n := min(len(t.rows)-t.offset, body); n < body; n++ {
		b.WriteString("\n")
	}
	return b.String()
}

// pad truncates or pads s to exactly w cells.
func pad(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = strings.ReplaceAll(s, "\n", " ")
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	if n := w - ansi.StringWidth(s); n > 0 {
		s += strings.Repeat(" ", n)
	}
	return s
}

// fitLine truncates a line to width cells and pads it so background styles fill the row.
func fitLine(s string, width int) string { return pad(s, width) }
