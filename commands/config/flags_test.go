package config

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestConfigFlags(t *testing.T) {
	clitest.Check(t, newPutCmd, clitest.Args("greeting", "message=hello world", "lang=en", "-x", "edge"), func(o *Options) bool {
		return o.Name == "greeting" && slices.Equal(o.Values, []string{"message=hello world", "lang=en"}) && o.Conn.Lattice == "edge"
	})
	clitest.Check(t, newGetCmd, clitest.Args("greeting"), func(o *Options) bool { return o.Name == "greeting" })
	clitest.Check(t, newDelCmd, clitest.Args("greeting"), func(o *Options) bool { return o.Name == "greeting" })
	clitest.WantUsage(t, newPutCmd, clitest.Args("greeting"))
	clitest.WantUsage(t, newGetCmd, clitest.Args())
}
