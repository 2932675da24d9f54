package start

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestComponentFlags(t *testing.T) {
	clitest.Check(t, newComponentCmd, clitest.Args("./hello.wasm", "hello"), func(o *ComponentOptions) bool {
		return o.Ref == "./hello.wasm" && o.ID == "hello" && o.MaxInstances == 1 && !o.AllowUpdate && !o.Place.SkipWait && o.Place.HostID == ""
	})
	clitest.Check(t, newComponentCmd, clitest.Args("ref", "id", "--max-instances", "10", "--allow-update"), func(o *ComponentOptions) bool { return o.MaxInstances == 10 && o.AllowUpdate })
	// upstream's aliases of --max-instances
	clitest.Check(t, newComponentCmd, clitest.Args("ref", "id", "--count", "3"), func(o *ComponentOptions) bool { return o.MaxInstances == 3 })
	clitest.Check(t, newComponentCmd, clitest.Args("ref", "id", "--max-concurrent", "4"), func(o *ComponentOptions) bool { return o.MaxInstances == 4 })
	clitest.Check(t, newComponentCmd, clitest.Args("ref", "id", "-c", "zone=eu", "--constraint", "tier=1", "--auction-timeout-ms", "700"), func(o *ComponentOptions) bool {
		return slices.Equal(o.Place.Constraints, []string{"zone=eu", "tier=1"}) && o.Place.AuctionTimeoutMs == 700
	})
	clitest.Check(t, newComponentCmd, clitest.Args("ref", "id", "--host-id", "quiet-river", "--skip-wait", "--wait-timeout-ms", "5000"), func(o *ComponentOptions) bool {
		return o.Place.HostID == "quiet-river" && o.Place.SkipWait && o.Place.WaitTimeoutMs == 5000
	})
	clitest.Check(t, newComponentCmd, clitest.Args("ref", "id", "-a", "team=a", "--config", "c1", "--config", "c2"), func(o *ComponentOptions) bool {
		return slices.Equal(o.Place.Annotations, []string{"team=a"}) && slices.Equal(o.Place.Config, []string{"c1", "c2"})
	})
	clitest.Check(t, newComponentCmd, clitest.Args("ref", "id", "-x", "edge", "-p", "4333", "-t", "900"), func(o *ComponentOptions) bool {
		return o.Conn.Lattice == "edge" && o.Conn.CtlPort == 4333 && o.Conn.TimeoutMs == 900
	})
	clitest.WantUsage(t, newComponentCmd, clitest.Args("ref"), clitest.Args("ref", "id", "extra"), clitest.Args("ref", "id", "--max-instances", "x"), clitest.Args("ref", "id", "--no-such-flag"))
}

func TestProviderFlags(t *testing.T) {
	clitest.Check(t, newProviderCmd, clitest.Args("wasmcloud+builtin://http-server", "http", "-c", "zone=a", "--host-id", "NB", "-l", "old"), func(o *ProviderOptions) bool {
		return o.Ref == "wasmcloud+builtin://http-server" && o.ID == "http" && o.Place.HostID == "NB" && slices.Equal(o.Place.Constraints, []string{"zone=a"}) && o.LinkName == "old"
	})
	clitest.WantUsage(t, newProviderCmd, clitest.Args("ref"))
}
