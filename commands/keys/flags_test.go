package keys

import (
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without touching a keys directory.
func TestKeysFlags(t *testing.T) {
	clitest.Check(t, newGenCmd, clitest.Args("curve"), func(o *GenOptions) bool { return o.Type == "curve" })
	clitest.Check(t, newGetCmd, clitest.Args("hello_module", "-d", "/tmp/k"), func(o *GetOptions) bool {
		return o.Name == "hello_module" && o.Dir == "/tmp/k"
	})
	clitest.Check(t, newListCmd, clitest.Args("--directory", "/tmp/k"), func(o *ListOptions) bool { return o.Dir == "/tmp/k" })
	// WASH_KEYS stands in for --directory; the flag wins over it.
	t.Setenv("WASH_KEYS", "/env/keys")
	clitest.Check(t, newListCmd, clitest.Args(), func(o *ListOptions) bool { return o.Dir == "/env/keys" })
	clitest.Check(t, newGetCmd, clitest.Args("a", "-d", "/flag"), func(o *GetOptions) bool { return o.Dir == "/flag" })

	clitest.WantUsage(t, newGenCmd, clitest.Args(), clitest.Args("account", "user"))
	clitest.WantUsage(t, newGetCmd, clitest.Args())
	clitest.WantUsage(t, newListCmd, clitest.Args("extra"))
}
