package start

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestComponentFlags(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		check func(*ComponentOptions) bool
	}{
		{[]string{"./hello.wasm", "hello"}, func(o *ComponentOptions) bool {
			return o.Ref == "./hello.wasm" && o.ID == "hello" && o.MaxInstances == 1 && !o.AllowUpdate && !o.Place.SkipWait && o.Place.HostID == ""
		}},
		{[]string{"ref", "id", "--max-instances", "10", "--allow-update"}, func(o *ComponentOptions) bool { return o.MaxInstances == 10 && o.AllowUpdate }},
		// upstream's aliases of --max-instances
		{[]string{"ref", "id", "--count", "3"}, func(o *ComponentOptions) bool { return o.MaxInstances == 3 }},
		{[]string{"ref", "id", "--max-concurrent", "4"}, func(o *ComponentOptions) bool { return o.MaxInstances == 4 }},
		{[]string{"ref", "id", "-c", "zone=eu", "--constraint", "tier=1", "--auction-timeout-ms", "700"}, func(o *ComponentOptions) bool {
			return slices.Equal(o.Place.Constraints, []string{"zone=eu", "tier=1"}) && o.Place.AuctionTimeoutMs == 700
		}},
		{[]string{"ref", "id", "--host-id", "quiet-river", "--skip-wait", "--wait-timeout-ms", "5000"}, func(o *ComponentOptions) bool {
			return o.Place.HostID == "quiet-river" && o.Place.SkipWait && o.Place.WaitTimeoutMs == 5000
		}},
		{[]string{"ref", "id", "-a", "team=a", "--config", "c1", "--config", "c2"}, func(o *ComponentOptions) bool {
			return slices.Equal(o.Place.Annotations, []string{"team=a"}) && slices.Equal(o.Place.Config, []string{"c1", "c2"})
		}},
		{[]string{"ref", "id", "-x", "edge", "-p", "4333", "-t", "900"}, func(o *ComponentOptions) bool {
			return o.Conn.Lattice == "edge" && o.Conn.CtlPort == 4333 && o.Conn.TimeoutMs == 900
		}},
	} {
		o, err := clitest.Parse(newComponentCmd, tc.args...)
		if err != nil {
			t.Errorf("start component %q: %v", tc.args, err)
			continue
		}
		if !tc.check(o) {
			t.Errorf("start component %q: options %+v", tc.args, *o)
		}
	}
	for _, args := range [][]string{{"ref"}, {"ref", "id", "extra"}, {"ref", "id", "--max-instances", "x"}, {"ref", "id", "--no-such-flag"}} {
		if _, err := clitest.Parse(newComponentCmd, args...); !cli.IsUsage(err) {
			t.Errorf("start component %q: want a usage error, got %v", args, err)
		}
	}
}

func TestProviderFlags(t *testing.T) {
	o, err := clitest.Parse(newProviderCmd, "wasmcloud+builtin://http-server", "http", "-c", "zone=a", "--host-id", "NB", "-l", "old")
	if err != nil {
		t.Fatal(err)
	}
	if o.Ref != "wasmcloud+builtin://http-server" || o.ID != "http" || o.Place.HostID != "NB" || !slices.Equal(o.Place.Constraints, []string{"zone=a"}) || o.LinkName != "old" {
		t.Fatalf("options %+v", *o)
	}
	if _, err := clitest.Parse(newProviderCmd, "ref"); !cli.IsUsage(err) {
		t.Fatalf("one argument: want a usage error, got %v", err)
	}
}
