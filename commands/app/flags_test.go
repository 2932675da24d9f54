package app

import (
	"slices"
	"testing"
	"time"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without wadm.
func TestAppFlags(t *testing.T) {
	clitest.Check(t, newDeployCmd, clitest.Args("app.yaml"), func(o *Options) bool {
		return slices.Equal(o.Args, []string{"app.yaml"}) && o.Version == "" && !o.NoWait && !o.Replace && o.Timeout == 0
	})
	clitest.Check(t, newDeployCmd, clitest.Args("hello", "v2", "--no-wait", "--timeout", "90s"), func(o *Options) bool {
		return o.Version == "v2" && o.NoWait && o.Timeout == 90*time.Second
	})
	clitest.Check(t, newDeployCmd, clitest.Args("app.yaml", "--version", "v3", "--replace", "-x", "edge"), func(o *Options) bool {
		return o.Version == "v3" && o.Replace && o.Conn.Lattice == "edge"
	})
	clitest.Check(t, newPutCmd, clitest.Args(), func(o *Options) bool { return len(o.Args) == 0 }) // stdin
	// upstream's `-w 5s`: the interval after a bare -w
	clitest.Check(t, newListCmd, clitest.Args("-w", "5s"), func(o *Options) bool { return o.WatchEvery == "5s" })
	clitest.Check(t, newListCmd, clitest.Args("-w"), func(o *Options) bool { return o.WatchEvery == "1s" })
	clitest.Check(t, newGetCmd, clitest.Args("hello", "v1"), func(o *Options) bool { return slices.Equal(o.Args, []string{"hello", "v1"}) })
	clitest.Check(t, newStatusCmd, clitest.Args("hello", "--watch"), func(o *Options) bool { return o.Watch && slices.Equal(o.Args, []string{"hello"}) })
	clitest.Check(t, newUndeployCmd, clitest.Args("--all"), func(o *Options) bool { return o.All })
	clitest.Check(t, newDeleteCmd, clitest.Args("hello", "--all"), func(o *Options) bool { return o.All && slices.Equal(o.Args, []string{"hello"}) })
	clitest.Check(t, newDeleteCmd, clitest.Args("--all-undeployed"), func(o *Options) bool { return o.AllUndeployed })

	clitest.WantUsage(t, newDeployCmd, clitest.Args("hello", "v2", "--version", "v3"))
	clitest.WantUsage(t, newListCmd, clitest.Args("5s")) // an argument without -w
	clitest.WantUsage(t, newUndeployCmd, clitest.Args("hello", "--all"), clitest.Args())
	clitest.WantUsage(t, newDeleteCmd, clitest.Args(), clitest.Args("hello", "v1", "--all"), clitest.Args("hello", "--all-undeployed"))
	clitest.WantUsage(t, newStatusCmd, clitest.Args())
}

func TestValidateFlags(t *testing.T) {
	clitest.Check(t, newValidateCmd, clitest.Args("app.yaml"), func(o *ValidateOptions) bool {
		return o.Source == "app.yaml" && !o.CheckImageRefs && !o.Insecure
	})
	clitest.Check(t, newValidateCmd, clitest.Args("-", "--check-image-refs", "--insecure"), func(o *ValidateOptions) bool {
		return o.Source == "-" && o.CheckImageRefs && o.Insecure
	})
	clitest.WantUsage(t, newValidateCmd, clitest.Args(), clitest.Args("a.yaml", "b.yaml"), clitest.Args("a.yaml", "--bogus"))
}
