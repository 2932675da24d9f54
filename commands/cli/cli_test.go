package cli

import (
	"io"
	"testing"

	"github.com/spf13/cobra"
)

func TestParentWithoutSubcommandIsUsageError(t *testing.T) {
	ran := false
	sub := &cobra.Command{Use: "component", RunE: func(*cobra.Command, []string) error { ran = true; return nil }}
	parent := Parent(&cobra.Command{Use: "start"}, "missing what to start: component", sub)
	parent.SetOut(io.Discard)
	parent.SetErr(io.Discard)

	for _, args := range [][]string{{}, {"stray"}} {
		parent.SetArgs(args)
		err := parent.Execute()
		if !IsUsage(err) {
			t.Fatalf("args %q: got %v, want a usage error", args, err)
		}
		if len(args) == 0 && err.Error() != "missing what to start: component" {
			t.Fatalf("bare: got %q", err)
		}
	}
	parent.SetArgs([]string{"component"})
	if err := parent.Execute(); err != nil || !ran {
		t.Fatalf("subcommand: err %v, ran %v", err, ran)
	}
}
