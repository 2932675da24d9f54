package down

import (
	"testing"
	"time"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice: upstream's --purge-jetstream VALUE spelling, a
// bare --purge-jetstream meaning all, and none meaning nothing.
func TestDownFlags(t *testing.T) {
	purge := func(want string) func(*Options) bool { return func(o *Options) bool { return o.Purge == want } }
	clitest.Check(t, newCmd, clitest.Args(), purge(""))
	clitest.Check(t, newCmd, clitest.Args("--purge-jetstream"), purge("all"))
	clitest.Check(t, newCmd, clitest.Args("--purge-jetstream", "wadm"), purge("wadm"))
	clitest.Check(t, newCmd, clitest.Args("--purge-jetstream=wasmcloud"), purge("wasmcloud"))
	clitest.Check(t, newCmd, clitest.Args("--flush-jetstream"), purge("all"))
	clitest.Check(t, newCmd, clitest.Args("--purge-jetstream=none"), purge(""))
	clitest.Check(t, newCmd, clitest.Args("--all", "--host-id", "NB", "--stop-timeout", "3s"), func(o *Options) bool {
		return o.All && o.HostID == "NB" && o.StopTTL == 3*time.Second
	})
	clitest.WantUsage(t, newCmd, clitest.Args("wadm"), clitest.Args("--purge-jetstream=everything"), clitest.Args("--purge-jetstream", "everything"))
}
