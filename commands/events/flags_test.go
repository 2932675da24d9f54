package events

import (
	"slices"
	"testing"
	"time"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestEventsFlags(t *testing.T) {
	clitest.Check(t, newCmd, clitest.Args("--type", "component_scaled", "--type", "host_started", "--host", "quiet-river", "--since", "1m", "-x", "edge"), func(o *Options) bool {
		return slices.Equal(o.Types, []string{"component_scaled", "host_started"}) && slices.Equal(o.Hosts, []string{"quiet-river"}) &&
			o.Since == time.Minute && o.Conn.Lattice == "edge"
	})
	clitest.WantUsage(t, newCmd, clitest.Args("extra"), clitest.Args("--since", "soon"))
}
