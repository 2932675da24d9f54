// Package termquery keeps wash from blocking on terminal queries.
//
// Bubble Tea v1 asks the terminal for its background colour in its package init (tea_init.go,
// a workaround its authors drop in v2). termenv sends OSC 11 and a cursor-position request and
// waits up to 5 s for the answer, so in a pty that never answers (some CI runners, editors'
// shells, `script`) every wash command, even `wash version`, stalled 5 s before main ran.
//
// Importing this package (cmd/wash does) sets CI=1 while the other packages initialise, when it
// is empty or unset: termenv then treats stdout as no terminal and asks nothing. Package init
// order is by import path among ready packages, and Bubble Tea imports os/signal, which sorts
// after this package and needs os, as this package does; so this init runs before Bubble Tea's
// (TestNoTerminalQuery in e2e checks it through the binary). main calls Restore first thing, so
// colour detection afterwards sees the real environment. Nothing in wash depends on the
// terminal's background colour (no adaptive colours), so the answer is not missed.
package termquery

import "os"

const variable = "CI"

var (
	set        bool // init set the variable
	wasPresent bool // it was present, empty, before
)

func init() {
	if v, ok := os.LookupEnv(variable); v == "" {
		wasPresent = ok
		set = os.Setenv(variable, "1") == nil
	}
}

// Restore undoes what init did; call it before anything renders or starts a child process.
func Restore() {
	if !set {
		return
	}
	if wasPresent {
		_ = os.Setenv(variable, "")
	} else {
		_ = os.Unsetenv(variable)
	}
	set = false
}
