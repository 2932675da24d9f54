package commands

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/output"
)

func testEnv() (*cli.Env, *strings.Builder) {
	var out strings.Builder
	return &cli.Env{IO: output.Buffered(&out, &strings.Builder{})}, &out
}

// The names calledCommand matches must be the ones cobra dispatches on, or a renamed command
// or a new alias would be built in one mode and not the other.
func TestTopCommandNames(t *testing.T) {
	env, _ := testEnv()
	var all []string
	for _, g := range commandGroups {
		for _, tc := range g.cmds {
			c := tc.build(env)
			if want := append([]string{c.Name()}, c.Aliases...); !slices.Equal(tc.names, want) {
				t.Errorf("table names %q, command answers to %q", tc.names, want)
			}
			all = append(all, tc.names...)
		}
	}
	var built []string
	for _, c := range NewRoot(env).Commands() {
		if c.Name() != "help" {
			built = append(built, append([]string{c.Name()}, c.Aliases...)...)
		}
	}
	if !slices.Equal(all, built) {
		t.Errorf("the whole tree has %q, the table %q", built, all)
	}
}

func TestCalledCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"up", "-d"}, "up"},
		{[]string{"-o", "json", "get", "hosts"}, "get"},
		{[]string{"--output", "json", "apps", "list"}, "apps"},
		{[]string{"--output=json", "ctx", "list"}, "ctx"},
		{[]string{"-ojson", "tag", "x"}, "tag"},
		{nil, ""},
		{[]string{"-V"}, ""},
		{[]string{"help", "up"}, ""},
		{[]string{"completion", "bash"}, ""},
		{[]string{"completions", "zsh"}, ""},
		{[]string{"__complete", "u"}, ""},
		{[]string{"upp"}, ""},
		{[]string{"--", "up"}, ""},
	} {
		if got := calledCommand(tc.args); got != tc.want {
			t.Errorf("calledCommand(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// Building one command must not change what it does or prints.
func TestOneCommandTree(t *testing.T) {
	env, _ := testEnv()
	root := newRoot(env, "up")
	if names := commandNames(root.Commands()); !slices.Equal(names, []string{"up"}) {
		t.Fatalf("commands built for `wash up`: %q", names)
	}
	full, part := helpOf(t, "up", "--help"), helpOf(t, "--output", "text", "up", "--help")
	if full == "" || full != part {
		t.Fatalf("help of up differs:\n%s\n---\n%s", full, part)
	}
	// help without a command lists every command
	if h := helpOf(t, "--help"); !strings.Contains(h, "inspect") || !strings.Contains(h, "dashboard") {
		t.Fatalf("root help lacks commands:\n%s", h)
	}
	if h := helpOf(t, "help", "up"); h != full {
		t.Fatalf("`wash help up` differs from `wash up --help`:\n%s\n---\n%s", h, full)
	}
}

func commandNames(cmds []*cobra.Command) []string {
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name())
	}
	return names
}

func helpOf(t *testing.T, args ...string) string {
	t.Helper()
	env, out := testEnv()
	if code := Execute(context.Background(), env, args); code != 0 {
		t.Fatalf("wash %q: exit %d", args, code)
	}
	return out.String()
}
