package up

import (
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
)

// Built-in twins are on for a local lattice and off for a host joining an existing NATS,
// unless the flag or WASH_BUILTIN_TWINS says otherwise.
func TestBuiltinTwinsDefault(t *testing.T) {
	t.Setenv("WASH_HOME", t.TempDir())
	for _, c := range []struct {
		args []string
		env  string
		want bool
	}{
		{nil, "", true},
		{[]string{"--nats-connect-only"}, "", false},
		{[]string{"--nats-connect-only", "--builtin-twins"}, "", true},
		{[]string{"--nats-connect-only"}, "true", true},
		{[]string{"--builtin-twins=false"}, "", false},
	} {
		t.Setenv("WASH_BUILTIN_TWINS", c.env)
		o := &Options{}
		cmd := newCmd(&cli.Env{}, o)
		if err := cmd.ParseFlags(c.args); err != nil {
			t.Fatal(err)
		}
		if err := cmd.PreRunE(cmd, nil); err != nil {
			t.Fatal(err)
		}
		if err := o.resolveDefaults(cmd); err != nil {
			t.Fatal(err)
		}
		if o.BuiltinTwins != c.want {
			t.Errorf("%v (WASH_BUILTIN_TWINS=%q): builtin twins %v, want %v", c.args, c.env, o.BuiltinTwins, c.want)
		}
	}
}
