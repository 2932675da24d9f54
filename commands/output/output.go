// Package output is the I/O abstraction every command prints through: it knows whether stdout
// is a terminal, which format the user asked for, and how to render tables, JSON and errors.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"golang.org/x/term"
)

// Format is the -o/--output value.
type Format string

const (
	Text Format = "text"
	JSON Format = "json"
)

// ParseFormat validates an -o value.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "", "text":
		return Text, nil
	case "json":
		return JSON, nil
	}
	return "", fmt.Errorf("invalid output format %q: use text or json", s)
}

// IO carries the streams of one invocation.
type IO struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Format Format
	// Terminal is true when Out is a terminal: tables get headers and colour; otherwise output is
	// stable tab-separated text for scripts.
	Terminal bool
	// Color is false under NO_COLOR, with TERM=dumb or when Out is not a terminal; without it
	// the status marks are plain words too ("ok" for ✓).
	Color bool
}

// System returns the process's streams.
func System() *IO {
	tty := term.IsTerminal(int(os.Stdout.Fd()))
	return &IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Format: Text, Terminal: tty, Color: tty && !Plain()}
}

// Plain reports whether the user asked for plain output: NO_COLOR set (any value, see
// no-color.org) or a dumb terminal.
func Plain() bool {
	_, noColor := os.LookupEnv("NO_COLOR")
	return noColor || os.Getenv("TERM") == "dumb"
}

// Buffered returns an IO writing into the given writers, as a pipe (for tests).
func Buffered(out, errw io.Writer) *IO {
	return &IO{In: strings.NewReader(""), Out: out, Err: errw, Format: Text}
}

// JSON reports whether JSON output was requested.
func (o *IO) JSON() bool { return o.Format == JSON }

// PrintJSON writes v as indented JSON followed by a newline.
func (o *IO) PrintJSON(v any) error {
	enc := json.NewEncoder(o.Out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Printf writes text output.
func (o *IO) Printf(format string, args ...any) { fmt.Fprintf(o.Out, format, args...) }

// Println writes a text line.
func (o *IO) Println(args ...any) { fmt.Fprintln(o.Out, args...) }

// Progress writes a status line to stderr, for people only (never in JSON mode).
func (o *IO) Progress(format string, args ...any) {
	if o.JSON() {
		return
	}
	fmt.Fprintf(o.Err, format+"\n", args...)
}

var (
	headerStyle = lipgloss.NewStyle().Bold(true)
	okStyle     = lipgloss.NewStyle().Foreground(lipgloss.Color("2"))
	warnStyle   = lipgloss.NewStyle().Foreground(lipgloss.Color("3"))
	errStyle    = lipgloss.NewStyle().Foreground(lipgloss.Color("1"))
	dimStyle    = lipgloss.NewStyle().Faint(true)
)

// Bold, OK, Warn, Bad and Dim colour text when colour is on.
func (o *IO) Bold(s string) string { return o.style(headerStyle, s) }
func (o *IO) OK(s string) string   { return o.style(okStyle, s) }
func (o *IO) Warn(s string) string { return o.style(warnStyle, s) }
func (o *IO) Bad(s string) string  { return o.style(errStyle, s) }
func (o *IO) Dim(s string) string  { return o.style(dimStyle, s) }

func (o *IO) style(st lipgloss.Style, s string) string {
	if !o.Color {
		if w, ok := plainMarks[s]; ok {
			return w
		}
		return s
	}
	return st.Render(s)
}

// plainMarks are the words that stand for status symbols when colour is off.
var plainMarks = map[string]string{"✓": "ok", "✗": "failed", "⚠": "warning", "●": "*"}

// Table renders rows: aligned columns with a header on a terminal, tab-separated values without
// a header when piped (stable for cut/awk).
type Table struct {
	io     *IO
	header []string
	rows   [][]string
}

// NewTable starts a table with the given column names.
func (o *IO) NewTable(header ...string) *Table { return &Table{io: o, header: header} }

// Row adds a row.
func (t *Table) Row(cells ...string) { t.rows = append(t.rows, cells) }

// Len is the number of rows.
func (t *Table) Len() int { return len(t.rows) }

// Render writes the table.
func (t *Table) Render() error {
	if !t.io.Terminal {
		for _, r := range t.rows {
			if _, err := fmt.Fprintln(t.io.Out, strings.Join(r, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	// Widths are measured on the plain text (lipgloss.Width ignores ANSI styling), and styling is
	// applied after padding, so coloured headers stay aligned.
	widths := make([]int, len(t.header))
	measure := func(cells []string) {
		for i, c := range cells {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], lipgloss.Width(c))
		}
	}
	measure(t.header)
	for _, r := range t.rows {
		measure(r)
	}
	line := func(cells []string, style func(string) string) string {
		var b strings.Builder
		for i, c := range cells {
			if i == len(cells)-1 {
				b.WriteString(style(c))
				break
			}
			b.WriteString(style(c + strings.Repeat(" ", widths[i]-lipgloss.Width(c))))
			b.WriteString("  ")
		}
		return strings.TrimRight(b.String(), " ")
	}
	if _, err := fmt.Fprintln(t.io.Out, line(t.header, t.io.Bold)); err != nil {
		return err
	}
	for _, r := range t.rows {
		if _, err := fmt.Fprintln(t.io.Out, line(r, func(s string) string { return s })); err != nil {
			return err
		}
	}
	return nil
}

// Result is what a command returns in JSON mode: a map that gets "success": true added.
type Result map[string]any

// PrintResult writes a JSON result with success=true.
func (o *IO) PrintResult(r Result) error {
	if r == nil {
		r = Result{}
	}
	r["success"] = true
	return o.PrintJSON(r)
}

// PrintOutcome reports what a command did: text for people; in JSON mode r with text added
// under key (upstream names it "result" or "message", depending on the command).
func (o *IO) PrintOutcome(key, text string, r Result) error {
	if o.JSON() {
		r[key] = text
		return o.PrintResult(r)
	}
	o.Println(text)
	return nil
}

// PrintError reports a failed command: one line on stderr, or {"success":false,"error":…} in
// JSON mode.
func (o *IO) PrintError(err error) {
	msg := strings.TrimSpace(err.Error())
	msg = strings.ReplaceAll(msg, "\n", " ")
	if o.JSON() {
		b, _ := json.Marshal(map[string]any{"success": false, "error": msg})
		fmt.Fprintln(o.Err, string(b))
		return
	}
	if o.Color {
		fmt.Fprintln(o.Err, o.Bad("error:")+" "+msg)
		return
	}
	fmt.Fprintln(o.Err, "error: "+msg)
}
