package logs

import (
	"slices"
	"testing"
	"time"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestLogsFlags(t *testing.T) {
	clitest.Check(t, newCmd, clitest.Args(), func(o *Options) bool { return o.Host == "" && !o.All && !o.Follow && o.Tail == -1 && o.Since == 0 })
	clitest.Check(t, newCmd, clitest.Args("quiet-river", "-f", "--since", "10m", "--tail", "20", "--level", "warn", "--component", "hello", "--provider", "http"), func(o *Options) bool {
		return o.Host == "quiet-river" && o.Follow && o.Since == 10*time.Minute && o.Tail == 20 && o.Level == "warn" &&
			slices.Equal(o.Components, []string{"hello"}) && slices.Equal(o.Providers, []string{"http"})
	})
	clitest.Check(t, newCmd, clitest.Args("--all"), func(o *Options) bool { return o.All })
	clitest.WantUsage(t, newCmd, clitest.Args("a", "b"))
}
