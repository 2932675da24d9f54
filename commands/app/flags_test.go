package app

import (
	"slices"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without wadm.
func TestAppFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cmd   func(*cli.Env, func(*Options) error) *cobra.Command
		args  []string
		check func(*Options) bool
	}{
		{"deploy FILE", newDeployCmd, []string{"app.yaml"}, func(o *Options) bool {
			return slices.Equal(o.Args, []string{"app.yaml"}) && o.Version == "" && !o.NoWait && !o.Replace && o.Timeout == 0
		}},
		{"deploy NAME VERSION", newDeployCmd, []string{"hello", "v2", "--no-wait", "--timeout", "90s"}, func(o *Options) bool {
			return o.Version == "v2" && o.NoWait && o.Timeout == 90*time.Second
		}},
		{"deploy --version --replace", newDeployCmd, []string{"app.yaml", "--version", "v3", "--replace", "-x", "edge"}, func(o *Options) bool {
			return o.Version == "v3" && o.Replace && o.Conn.Lattice == "edge"
		}},
		{"put (stdin)", newPutCmd, nil, func(o *Options) bool { return len(o.Args) == 0 }},
		// upstream's `-w 5s`: the interval after a bare -w
		{"list -w 5s", newListCmd, []string{"-w", "5s"}, func(o *Options) bool { return o.WatchEvery == "5s" }},
		{"list -w", newListCmd, []string{"-w"}, func(o *Options) bool { return o.WatchEvery == "1s" }},
		{"get NAME VERSION", newGetCmd, []string{"hello", "v1"}, func(o *Options) bool { return slices.Equal(o.Args, []string{"hello", "v1"}) }},
		{"status --watch", newStatusCmd, []string{"hello", "--watch"}, func(o *Options) bool { return o.Watch && slices.Equal(o.Args, []string{"hello"}) }},
		{"undeploy --all", newUndeployCmd, []string{"--all"}, func(o *Options) bool { return o.All }},
		{"delete NAME --all", newDeleteCmd, []string{"hello", "--all"}, func(o *Options) bool { return o.All && slices.Equal(o.Args, []string{"hello"}) }},
		{"delete --all-undeployed", newDeleteCmd, []string{"--all-undeployed"}, func(o *Options) bool { return o.AllUndeployed }},
	} {
		o, err := clitest.Parse(tc.cmd, tc.args...)
		if err != nil {
			t.Errorf("app %s: %v", tc.name, err)
			continue
		}
		if !tc.check(o) {
			t.Errorf("app %s: options %+v", tc.name, *o)
		}
	}
	for _, tc := range []struct {
		name string
		cmd  func(*cli.Env, func(*Options) error) *cobra.Command
		args []string
	}{
		{"deploy with two versions", newDeployCmd, []string{"hello", "v2", "--version", "v3"}},
		{"list with an argument but no -w", newListCmd, []string{"5s"}},
		{"undeploy with a name and --all", newUndeployCmd, []string{"hello", "--all"}},
		{"undeploy with nothing", newUndeployCmd, nil},
		{"delete with nothing", newDeleteCmd, nil},
		{"delete with a version and --all", newDeleteCmd, []string{"hello", "v1", "--all"}},
		{"delete NAME --all-undeployed", newDeleteCmd, []string{"hello", "--all-undeployed"}},
		{"status without a name", newStatusCmd, nil},
	} {
		if _, err := clitest.Parse(tc.cmd, tc.args...); !cli.IsUsage(err) {
			t.Errorf("app %s: want a usage error, got %v", tc.name, err)
		}
	}
}
