package stop

import (
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestStopFlags(t *testing.T) {
	clitest.Check(t, newComponentCmd, clitest.Args("hello", "--host-id", "quiet-river", "--skip-wait"), func(o *Options) bool {
		return o.ID == "hello" && o.Place.HostID == "quiet-river" && o.Place.SkipWait
	})
	clitest.Check(t, newProviderCmd, clitest.Args("http", "--wait-timeout-ms", "300"), func(o *Options) bool {
		return o.ID == "http" && o.Place.WaitTimeoutMs == 300 && o.Place.HostID == ""
	})
	clitest.Check(t, newHostCmd, clitest.Args("NBXY"), func(o *HostOptions) bool { return o.HostID == "NBXY" && o.HostTimeout == 10000 })
	clitest.Check(t, newHostCmd, clitest.Args("NBXY", "--host-timeout", "30000", "-x", "edge"), func(o *HostOptions) bool {
		return o.HostTimeout == 30000 && o.Conn.Lattice == "edge"
	})
	// stop has no --constraint
	clitest.WantUsage(t, newComponentCmd, clitest.Args(), clitest.Args("a", "--constraint", "k=v"))
	clitest.WantUsage(t, newProviderCmd, clitest.Args("a", "b"))
	clitest.WantUsage(t, newHostCmd, clitest.Args("NB", "--host-timeout", "soon"))
}
