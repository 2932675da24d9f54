package scale

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
	"github.com/wasmlattice/wash/lattice/ctl"
)

// Flag parsing → options, without a lattice: upstream's HOST_ID REF COMPONENT_ID order, -c as
// --max-instances, the unbounded default.
func TestScaleFlags(t *testing.T) {
	clitest.Check(t, newComponentCmd, clitest.Args("./hello.wasm", "hello"), func(o *Options) bool {
		return o.Ref == "./hello.wasm" && o.ID == "hello" && o.MaxInstances == ctl.Unbounded && o.Place.HostID == ""
	})
	clitest.Check(t, newComponentCmd, clitest.Args("NBXY", "ref", "hello", "-c", "5"), func(o *Options) bool {
		return o.Place.HostID == "NBXY" && o.Ref == "ref" && o.ID == "hello" && o.MaxInstances == 5
	})
	clitest.Check(t, newComponentCmd, clitest.Args("ref", "hello", "--host-id", "NBXY", "--max-instances", "0"), func(o *Options) bool {
		return o.Place.HostID == "NBXY" && o.MaxInstances == 0
	})
	clitest.Check(t, newComponentCmd, clitest.Args("NBXY", "ref", "hello", "--host-id", "NBXY"), func(o *Options) bool { return o.Place.HostID == "NBXY" })
	clitest.Check(t, newComponentCmd, clitest.Args("ref", "hello", "--count", "7", "--constraint", "zone=eu", "--allow-update"), func(o *Options) bool {
		return o.MaxInstances == 7 && slices.Equal(o.Place.Constraints, []string{"zone=eu"}) && o.AllowUpdate
	})
	clitest.WantUsage(t, newComponentCmd, clitest.Args("ref"), clitest.Args("NBXY", "ref", "hello", "--host-id", "NOTHER"), clitest.Args("a", "b", "c", "d"), clitest.Args("ref", "hello", "-c", "-1"))
}
