package ctx

import (
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a state directory.
func TestCtxFlags(t *testing.T) {
	clitest.Check(t, newDefaultCmd, clitest.Args(), func(o *Options) bool { return o.Name == "" })
	clitest.Check(t, newDefaultCmd, clitest.Args("prod"), func(o *Options) bool { return o.Name == "prod" })
	clitest.Check(t, newEditCmd, clitest.Args("prod", "-e", "nano"), func(o *Options) bool { return o.Name == "prod" && o.Editor == "nano" })
	clitest.Check(t, newDelCmd, clitest.Args("prod"), func(o *Options) bool { return o.Name == "prod" })
	clitest.WantUsage(t, newDelCmd, clitest.Args())
}
