package config

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestConfigFlags(t *testing.T) {
	o, err := clitest.Parse(newPutCmd, "greeting", "message=hello world", "lang=en", "-x", "edge")
	if err != nil || o.Name != "greeting" || !slices.Equal(o.Values, []string{"message=hello world", "lang=en"}) || o.Conn.Lattice != "edge" {
		t.Fatalf("config put: %+v, %v", o, err)
	}
	if o, err = clitest.Parse(newGetCmd, "greeting"); err != nil || o.Name != "greeting" {
		t.Fatalf("config get: %+v, %v", o, err)
	}
	if o, err = clitest.Parse(newDelCmd, "greeting"); err != nil || o.Name != "greeting" {
		t.Fatalf("config del: %+v, %v", o, err)
	}
	if _, err := clitest.Parse(newPutCmd, "greeting"); !cli.IsUsage(err) {
		t.Fatalf("config put without values: want a usage error, got %v", err)
	}
	if _, err := clitest.Parse(newGetCmd); !cli.IsUsage(err) {
		t.Fatalf("config get without a name: want a usage error, got %v", err)
	}
}
