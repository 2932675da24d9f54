package stop

import (
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestStopFlags(t *testing.T) {
	c, err := clitest.Parse(newComponentCmd, "hello", "--host-id", "quiet-river", "--skip-wait")
	if err != nil || c.ID != "hello" || c.Place.HostID != "quiet-river" || !c.Place.SkipWait {
		t.Fatalf("stop component: %+v, %v", c, err)
	}
	p, err := clitest.Parse(newProviderCmd, "http", "--wait-timeout-ms", "300")
	if err != nil || p.ID != "http" || p.Place.WaitTimeoutMs != 300 || p.Place.HostID != "" {
		t.Fatalf("stop provider: %+v, %v", p, err)
	}
	h, err := clitest.Parse(newHostCmd, "NBXY")
	if err != nil || h.HostID != "NBXY" || h.HostTimeout != 10000 {
		t.Fatalf("stop host: %+v, %v", h, err)
	}
	if h, err = clitest.Parse(newHostCmd, "NBXY", "--host-timeout", "30000", "-x", "edge"); err != nil || h.HostTimeout != 30000 || h.Conn.Lattice != "edge" {
		t.Fatalf("stop host --host-timeout: %+v, %v", h, err)
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"component without id", func() error { _, err := clitest.Parse(newComponentCmd); return err }()},
		{"provider with two ids", func() error { _, err := clitest.Parse(newProviderCmd, "a", "b"); return err }()},
		{"host with a bad timeout", func() error { _, err := clitest.Parse(newHostCmd, "NB", "--host-timeout", "soon"); return err }()},
		{"component with a constraint (stop has none)", func() error { _, err := clitest.Parse(newComponentCmd, "a", "--constraint", "k=v"); return err }()},
	} {
		if !cli.IsUsage(tc.err) {
			t.Errorf("%s: want a usage error, got %v", tc.name, tc.err)
		}
	}
}
