package drain

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Arguments → the caches to drain, without touching WASH_HOME.
func TestDrainFlags(t *testing.T) {
	clitest.Check(t, newCmd, clitest.Args("oci"), func(o *Options) bool { return slices.Equal(o.Caches, []string{"oci"}) })
	clitest.Check(t, newCmd, clitest.Args("downloads"), func(o *Options) bool { return slices.Equal(o.Caches, []string{"downloads"}) })
	clitest.Check(t, newCmd, clitest.Args("all"), func(o *Options) bool {
		return slices.Equal(o.Caches, []string{"oci", "lib", "dev", "downloads"})
	})
	clitest.WantUsage(t, newCmd, clitest.Args(), clitest.Args("oci", "extra"), clitest.Args("all", "--bogus"))
}
