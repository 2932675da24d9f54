package down

import (
	"testing"
	"time"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice: upstream's --purge-jetstream VALUE spelling, a
// bare --purge-jetstream meaning all, and none meaning nothing.
func TestDownFlags(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		purge string
	}{
		{nil, ""},
		{[]string{"--purge-jetstream"}, "all"},
		{[]string{"--purge-jetstream", "wadm"}, "wadm"},
		{[]string{"--purge-jetstream=wasmcloud"}, "wasmcloud"},
		{[]string{"--flush-jetstream"}, "all"},
		{[]string{"--purge-jetstream=none"}, ""},
	} {
		o, err := clitest.Parse(newCmd, tc.args...)
		if err != nil || o.Purge != tc.purge {
			t.Errorf("down %q: %+v, %v (want purge %q)", tc.args, o, err, tc.purge)
		}
	}
	o, err := clitest.Parse(newCmd, "--all", "--host-id", "NB", "--stop-timeout", "3s")
	if err != nil || !o.All || o.HostID != "NB" || o.StopTTL != 3*time.Second {
		t.Fatalf("down --all --host-id --stop-timeout: %+v, %v", o, err)
	}
	for _, args := range [][]string{{"wadm"}, {"--purge-jetstream=everything"}, {"--purge-jetstream", "everything"}} {
		if _, err := clitest.Parse(newCmd, args...); !cli.IsUsage(err) {
			t.Errorf("down %q: want a usage error, got %v", args, err)
		}
	}
}
