package ui

import (
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice: --port, its environment variable, -p staying the
// NATS port.
func TestUIFlags(t *testing.T) {
	t.Setenv("WASMCLOUD_WASH_UI_PORT", "")
	o, err := clitest.Parse(newCmd)
	if err != nil || o.Port != DefaultPort || o.Address != "127.0.0.1" {
		t.Fatalf("ui: %+v, %v", o, err)
	}
	if o, err = clitest.Parse(newCmd, "--port", "8000", "-p", "4333", "--address", "::1"); err != nil || o.Port != 8000 || o.Conn.CtlPort != 4333 || o.Address != "::1" {
		t.Fatalf("ui --port -p --address: %+v, %v", o, err)
	}
	t.Setenv("WASMCLOUD_WASH_UI_PORT", "9000")
	if o, err = clitest.Parse(newCmd); err != nil || o.Port != 9000 {
		t.Fatalf("ui with WASMCLOUD_WASH_UI_PORT: %+v, %v", o, err)
	}
	if o, err = clitest.Parse(newCmd, "--port", "8000"); err != nil || o.Port != 8000 {
		t.Fatalf("ui --port over the environment: %+v, %v", o, err)
	}
}
