package dashboard

import (
	"testing"
	"time"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice or a terminal.
func TestDashboardFlags(t *testing.T) {
	o, err := clitest.Parse(newCmd)
	if err != nil || o.View != "overview" || o.Refresh != 5*time.Second {
		t.Fatalf("dashboard: %+v, %v", o, err)
	}
	if o, err = clitest.Parse(newCmd, "--view", "apps", "--refresh", "1s", "-x", "prod"); err != nil || o.View != "apps" || o.Refresh != time.Second || o.Conn.Lattice != "prod" {
		t.Fatalf("dashboard --view --refresh: %+v, %v", o, err)
	}
}
