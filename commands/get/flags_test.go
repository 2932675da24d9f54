package get

import (
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestGetFlags(t *testing.T) {
	if o, err := clitest.Parse(newHostsCmd, "-w", "-x", "edge"); err != nil || !o.Watch || o.Conn.Lattice != "edge" {
		t.Fatalf("get hosts -w: %+v, %v", o, err)
	}
	if o, err := clitest.Parse(newInventoryCmd, "quiet-river"); err != nil || o.HostID != "quiet-river" || o.Watch {
		t.Fatalf("get inventory HOST: %+v, %v", o, err)
	}
	if o, err := clitest.Parse(newInventoryCmd); err != nil || o.HostID != "" {
		t.Fatalf("get inventory: %+v, %v", o, err)
	}
	if o, err := clitest.Parse(newLinksCmd, "--watch", "-p", "4333"); err != nil || !o.Watch || o.Conn.CtlPort != 4333 {
		t.Fatalf("get links --watch: %+v, %v", o, err)
	}
	if _, err := clitest.Parse(newClaimsCmd); err != nil {
		t.Fatalf("get claims: %v", err)
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"hosts with an argument", func() error { _, err := clitest.Parse(newHostsCmd, "x"); return err }()},
		{"inventory with two hosts", func() error { _, err := clitest.Parse(newInventoryCmd, "a", "b"); return err }()},
		{"claims --watch (none)", func() error { _, err := clitest.Parse(newClaimsCmd, "--watch"); return err }()},
	} {
		if !cli.IsUsage(tc.err) {
			t.Errorf("get %s: want a usage error, got %v", tc.name, tc.err)
		}
	}
}
