package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// dialog is an action's conversation on the status line: optionally a prompt for one value,
// then a y/n question. The request runs only after y.
type dialog struct {
	prompt  *prompt
	confirm *confirm
}

// prompt asks for one value; onDone turns it into the question, or says why it is wrong.
type prompt struct {
	label  string
	input  textinput.Model
	onDone func(value string) (*confirm, error)
}

// confirm asks y/n before run.
type confirm struct {
	question string
	run      tea.Cmd
}

func (d *dialog) open() bool { return d.prompt != nil || d.confirm != nil }

func (d *dialog) focus() focus {
	switch {
	case d.confirm != nil:
		return focusConfirm
	case d.prompt != nil:
		return focusText
	}
	return focusNone
}

// ask opens a prompt.
func (d *dialog) ask(p *prompt) tea.Cmd {
	d.prompt = p
	return d.prompt.input.Focus()
}

// confirm opens a y/n question for run.
func (d *dialog) confirmThen(question string, run tea.Cmd) {
	d.confirm = &confirm{question: question, run: run}
}

// update takes a key while the dialog is open.
func (d *dialog) update(k tea.KeyMsg) tea.Cmd {
	if c := d.confirm; c != nil {
		switch strings.ToLower(k.String()) {
		case "y":
			d.confirm = nil
			return tea.Sequence(flash("working…", false), c.run)
		case "n", "esc", "q":
			d.confirm = nil
			return flash("cancelled", false)
		}
		return nil
	}
	switch k.Type {
	case tea.KeyEsc:
		d.prompt = nil
		return flash("cancelled", false)
	case tea.KeyEnter:
		p := d.prompt
		d.prompt = nil
		c, err := p.onDone(strings.TrimSpace(p.input.Value()))
		if err != nil {
			return flash(err.Error(), true)
		}
		d.confirm = c
		return nil
	}
	var cmd tea.Cmd
	d.prompt.input, cmd = d.prompt.input.Update(k)
	return cmd
}

// line is the status line while the dialog is open.
func (d *dialog) line(sty styles, width int) string {
	if d.confirm != nil {
		return fitLine(sty.warn.Render(d.confirm.question+" [y/N]"), width)
	}
	return fitLine(d.prompt.label+" "+d.prompt.input.View(), width)
}
