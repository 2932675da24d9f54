package version

import (
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// `wash version` takes no arguments or flags of its own.
func TestVersionFlags(t *testing.T) {
	clitest.Check(t, newCmd, clitest.Args(), func(*Options) bool { return true })
	clitest.WantUsage(t, newCmd, clitest.Args("extra"), clitest.Args("--bogus"))
}
