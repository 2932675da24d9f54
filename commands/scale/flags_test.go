package scale

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
	"github.com/wasmlattice/wash/lattice/ctl"
)

// Flag parsing → options, without a lattice: upstream's HOST_ID REF COMPONENT_ID order, -c as
// --max-instances, the unbounded default.
func TestScaleFlags(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		check func(*Options) bool
	}{
		{[]string{"./hello.wasm", "hello"}, func(o *Options) bool {
			return o.Ref == "./hello.wasm" && o.ID == "hello" && o.MaxInstances == ctl.Unbounded && o.Place.HostID == ""
		}},
		{[]string{"NBXY", "ref", "hello", "-c", "5"}, func(o *Options) bool {
			return o.Place.HostID == "NBXY" && o.Ref == "ref" && o.ID == "hello" && o.MaxInstances == 5
		}},
		{[]string{"ref", "hello", "--host-id", "NBXY", "--max-instances", "0"}, func(o *Options) bool {
			return o.Place.HostID == "NBXY" && o.MaxInstances == 0
		}},
		{[]string{"NBXY", "ref", "hello", "--host-id", "NBXY"}, func(o *Options) bool { return o.Place.HostID == "NBXY" }},
		{[]string{"ref", "hello", "--count", "7", "--constraint", "zone=eu", "--allow-update"}, func(o *Options) bool {
			return o.MaxInstances == 7 && slices.Equal(o.Place.Constraints, []string{"zone=eu"}) && o.AllowUpdate
		}},
	} {
		o, err := clitest.Parse(newComponentCmd, tc.args...)
		if err != nil {
			t.Errorf("scale component %q: %v", tc.args, err)
			continue
		}
		if !tc.check(o) {
			t.Errorf("scale component %q: options %+v", tc.args, *o)
		}
	}
	for _, args := range [][]string{{"ref"}, {"NBXY", "ref", "hello", "--host-id", "NOTHER"}, {"a", "b", "c", "d"}, {"ref", "hello", "-c", "-1"}} {
		if _, err := clitest.Parse(newComponentCmd, args...); !cli.IsUsage(err) {
			t.Errorf("scale component %q: want a usage error, got %v", args, err)
		}
	}
}
