package update

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestUpdateFlags(t *testing.T) {
	clitest.Check(t, newComponentCmd, clitest.Args("hello", "ghcr.io/acme/hello:0.2.0", "--host-id", "quiet-river", "-a", "v=2", "--skip-wait"), func(o *Options) bool {
		return o.ID == "hello" && o.NewRef == "ghcr.io/acme/hello:0.2.0" && o.Place.HostID == "quiet-river" && slices.Equal(o.Place.Annotations, []string{"v=2"}) && o.Place.SkipWait
	})
	clitest.WantUsage(t, newComponentCmd, clitest.Args("hello"), clitest.Args("hello", "ref", "--max-instances", "2"))
}
