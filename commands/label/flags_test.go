package label

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestLabelFlags(t *testing.T) {
	clitest.Check(t, newCmd, clitest.Args("quiet-river", "zone=eu", "tier=1"), func(o *Options) bool {
		return o.Host == "quiet-river" && slices.Equal(o.Labels, []string{"zone=eu", "tier=1"}) && !o.Delete
	})
	clitest.Check(t, newCmd, clitest.Args("NBXY", "zone", "--delete"), func(o *Options) bool { return o.Delete && slices.Equal(o.Labels, []string{"zone"}) })
	clitest.WantUsage(t, newCmd, clitest.Args("NBXY"))
}
