package label

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestLabelFlags(t *testing.T) {
	o, err := clitest.Parse(newCmd, "quiet-river", "zone=eu", "tier=1")
	if err != nil || o.Host != "quiet-river" || !slices.Equal(o.Labels, []string{"zone=eu", "tier=1"}) || o.Delete {
		t.Fatalf("label: %+v, %v", o, err)
	}
	if o, err = clitest.Parse(newCmd, "NBXY", "zone", "--delete"); err != nil || !o.Delete || !slices.Equal(o.Labels, []string{"zone"}) {
		t.Fatalf("label --delete: %+v, %v", o, err)
	}
	if _, err := clitest.Parse(newCmd, "NBXY"); !cli.IsUsage(err) {
		t.Fatalf("label without labels: want a usage error, got %v", err)
	}
}
