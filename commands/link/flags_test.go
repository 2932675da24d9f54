package link

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestLinkFlags(t *testing.T) {
	clitest.Check(t, newPutCmd, clitest.Args("http-server", "hello", "wasi", "http", "--interface", "incoming-handler", "--source-config", "addr", "-l", "web"), func(o *PutOptions) bool {
		l := o.Link
		return l.SourceID == "http-server" && l.Target == "hello" && l.WitNamespace == "wasi" && l.WitPackage == "http" && l.Name == "web" &&
			slices.Equal(l.Interfaces, []string{"incoming-handler"}) && slices.Equal(o.SourceConfig, []string{"addr"}) && o.TargetConfig == nil
	})
	// upstream's --interfaces spelling; the default link name
	clitest.Check(t, newPutCmd, clitest.Args("a", "b", "wasi", "keyvalue", "--interfaces", "store", "--interfaces", "atomics"), func(o *PutOptions) bool {
		return slices.Equal(o.Link.Interfaces, []string{"store", "atomics"}) && o.Link.Name == "default"
	})
	// Without --link-name, del looks for the one link on the package (Name empty).
	clitest.Check(t, newDelCmd, clitest.Args("hello", "wasi", "keyvalue"), func(o *DelOptions) bool {
		return o.SourceID == "hello" && o.NS == "wasi" && o.Pkg == "keyvalue" && o.Name == "" && !o.All
	})
	clitest.Check(t, newDelCmd, clitest.Args("hello", "wasi", "keyvalue", "--link-name", "cache"), func(o *DelOptions) bool { return o.Name == "cache" })
	clitest.Check(t, newDelCmd, clitest.Args("--all", "--force"), func(o *DelOptions) bool { return o.All && o.Force })
	clitest.Check(t, newQueryCmd, clitest.Args("-x", "edge", "-p", "4333"), func(o *QueryOptions) bool { return o.Conn.Lattice == "edge" && o.Conn.CtlPort == 4333 })
	clitest.WantUsage(t, newQueryCmd, clitest.Args("hello"))
	clitest.WantUsage(t, newPutCmd, clitest.Args("a", "b", "wasi"))
	clitest.WantUsage(t, newDelCmd, clitest.Args("--all", "hello"), clitest.Args("hello", "wasi"))
}
