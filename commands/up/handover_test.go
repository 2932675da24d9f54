package up

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
)

// Every secret flag goes over the pipe and none stays in the child's arguments or environment:
// the parent's values (flags, else variables) reach the child's flags unchanged.
func TestSecretFlagsHandedOver(t *testing.T) {
	t.Setenv("WASH_HOME", t.TempDir())
	var args []string
	for _, f := range secretFlags {
		args = append(args, "--"+f, "v-"+f)
		if secretEnv(f) == "" {
			t.Errorf("--%s has no variable to keep out of the child's environment", f)
		}
	}
	args = append(args, "--lattice", "x", "--ctl-credsfile=/not/secret")
	parent := &Options{}
	cmd := newCmd(&cli.Env{}, parent)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	values := parent.secretValues(parent.HostSeed)
	if len(values) != len(secretFlags) {
		t.Errorf("handed over %d values for %d secret flags: %v", len(values), len(secretFlags), values)
	}
	if rest := withoutSecrets(args); !slices.Equal(rest, []string{"--lattice", "x", "--ctl-credsfile=/not/secret"}) {
		t.Errorf("child arguments: %q", rest)
	}
	if rest := withoutSecrets([]string{"--rpc-seed=SU", "--nats-host=u:p@h", "-x", "y"}); !slices.Equal(rest, []string{"-x", "y"}) {
		t.Errorf("child arguments (inline values): %q", rest)
	}
	var env []string
	for _, f := range secretFlags {
		env = append(env, secretEnv(f)+"=v", "KEEP_"+f+"=1")
	}
	if kept := withoutSecretEnv(env); len(kept) != len(secretFlags) {
		t.Errorf("child environment keeps %d of %d variables: %q", len(kept), 2*len(secretFlags), kept)
	}

	// The child side (here through the variable used where no pipe can be inherited).
	b, _ := json.Marshal(values)
	t.Setenv(secretsEnvVar, string(b))
	child := &Options{}
	ccmd := newCmd(&cli.Env{}, child)
	if err := receiveSecrets(ccmd.Flags()); err != nil {
		t.Fatal(err)
	}
	if got := child.secretValues(child.HostSeed); !maps.Equal(got, values) {
		t.Errorf("child got %v, want %v", got, values)
	}
}
