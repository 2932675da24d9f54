package logs

import (
	"slices"
	"testing"
	"time"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestLogsFlags(t *testing.T) {
	o, err := clitest.Parse(newCmd)
	if err != nil || o.Host != "" || o.All || o.Follow || o.Tail != -1 || o.Since != 0 {
		t.Fatalf("logs: %+v, %v", o, err)
	}
	o, err = clitest.Parse(newCmd, "quiet-river", "-f", "--since", "10m", "--tail", "20", "--level", "warn", "--component", "hello", "--provider", "http")
	if err != nil || o.Host != "quiet-river" || !o.Follow || o.Since != 10*time.Minute || o.Tail != 20 || o.Level != "warn" ||
		!slices.Equal(o.Components, []string{"hello"}) || !slices.Equal(o.Providers, []string{"http"}) {
		t.Fatalf("logs HOST -f …: %+v, %v", o, err)
	}
	if o, err = clitest.Parse(newCmd, "--all"); err != nil || !o.All {
		t.Fatalf("logs --all: %+v, %v", o, err)
	}
	if _, err := clitest.Parse(newCmd, "a", "b"); !cli.IsUsage(err) {
		t.Fatalf("logs with two hosts: want a usage error, got %v", err)
	}
}
