package events

import (
	"slices"
	"testing"
	"time"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestEventsFlags(t *testing.T) {
	o, err := clitest.Parse(newCmd, "--type", "component_scaled", "--type", "host_started", "--host", "quiet-river", "--since", "1m", "-x", "edge")
	if err != nil || !slices.Equal(o.Types, []string{"component_scaled", "host_started"}) || !slices.Equal(o.Hosts, []string{"quiet-river"}) ||
		o.Since != time.Minute || o.Conn.Lattice != "edge" {
		t.Fatalf("events: %+v, %v", o, err)
	}
	if _, err := clitest.Parse(newCmd, "extra"); !cli.IsUsage(err) {
		t.Fatalf("events with an argument: want a usage error, got %v", err)
	}
	if _, err := clitest.Parse(newCmd, "--since", "soon"); !cli.IsUsage(err) {
		t.Fatalf("events --since soon: want a usage error, got %v", err)
	}
}
