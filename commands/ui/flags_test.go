package ui

import (
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice: --port, its environment variable, -p staying the
// NATS port.
func TestUIFlags(t *testing.T) {
	t.Setenv("WASMCLOUD_WASH_UI_PORT", "")
	clitest.Check(t, newCmd, clitest.Args(), func(o *Options) bool { return o.Port == DefaultPort && o.Address == "127.0.0.1" })
	clitest.Check(t, newCmd, clitest.Args("--port", "8000", "-p", "4333", "--address", "::1"), func(o *Options) bool {
		return o.Port == 8000 && o.Conn.CtlPort == 4333 && o.Address == "::1"
	})
	t.Setenv("WASMCLOUD_WASH_UI_PORT", "9000")
	clitest.Check(t, newCmd, clitest.Args(), func(o *Options) bool { return o.Port == 9000 })
	clitest.Check(t, newCmd, clitest.Args("--port", "8000"), func(o *Options) bool { return o.Port == 8000 }) // the flag wins
}
