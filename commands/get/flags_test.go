package get

import (
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestGetFlags(t *testing.T) {
	clitest.Check(t, newHostsCmd, clitest.Args("-w", "-x", "edge"), func(o *Options) bool { return o.Watch && o.Conn.Lattice == "edge" })
	clitest.Check(t, newInventoryCmd, clitest.Args("quiet-river"), func(o *Options) bool { return o.HostID == "quiet-river" && !o.Watch })
	clitest.Check(t, newInventoryCmd, clitest.Args(), func(o *Options) bool { return o.HostID == "" })
	clitest.Check(t, newLinksCmd, clitest.Args("--watch", "-p", "4333"), func(o *Options) bool { return o.Watch && o.Conn.CtlPort == 4333 })
	clitest.Check(t, newClaimsCmd, clitest.Args(), func(*Options) bool { return true })
	clitest.WantUsage(t, newHostsCmd, clitest.Args("x"))
	clitest.WantUsage(t, newInventoryCmd, clitest.Args("a", "b"))
	clitest.WantUsage(t, newClaimsCmd, clitest.Args("--watch")) // claims has no --watch
}
