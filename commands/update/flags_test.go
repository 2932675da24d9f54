package update

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestUpdateFlags(t *testing.T) {
	o, err := clitest.Parse(newComponentCmd, "hello", "ghcr.io/acme/hello:0.2.0", "--host-id", "quiet-river", "-a", "v=2", "--skip-wait")
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != "hello" || o.NewRef != "ghcr.io/acme/hello:0.2.0" || o.Place.HostID != "quiet-river" || !slices.Equal(o.Place.Annotations, []string{"v=2"}) || !o.Place.SkipWait {
		t.Fatalf("options %+v", *o)
	}
	for _, args := range [][]string{{"hello"}, {"hello", "ref", "--max-instances", "2"}} {
		if _, err := clitest.Parse(newComponentCmd, args...); !cli.IsUsage(err) {
			t.Errorf("update component %q: want a usage error, got %v", args, err)
		}
	}
}
