package dashboard

import (
	"testing"
	"time"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice or a terminal.
func TestDashboardFlags(t *testing.T) {
	clitest.Check(t, newCmd, clitest.Args(), func(o *Options) bool { return o.View == "overview" && o.Refresh == 5*time.Second })
	clitest.Check(t, newCmd, clitest.Args("--view", "apps", "--refresh", "1s", "-x", "prod"), func(o *Options) bool {
		return o.View == "apps" && o.Refresh == time.Second && o.Conn.Lattice == "prod"
	})
}
