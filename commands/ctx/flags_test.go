package ctx

import (
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a state directory.
func TestCtxFlags(t *testing.T) {
	if o, err := clitest.Parse(newDefaultCmd); err != nil || o.Name != "" {
		t.Fatalf("ctx default: %+v, %v", o, err)
	}
	if o, err := clitest.Parse(newDefaultCmd, "prod"); err != nil || o.Name != "prod" {
		t.Fatalf("ctx default prod: %+v, %v", o, err)
	}
	if o, err := clitest.Parse(newEditCmd, "prod", "-e", "nano"); err != nil || o.Name != "prod" || o.Editor != "nano" {
		t.Fatalf("ctx edit: %+v, %v", o, err)
	}
	if o, err := clitest.Parse(newDelCmd, "prod"); err != nil || o.Name != "prod" {
		t.Fatalf("ctx del: %+v, %v", o, err)
	}
	if _, err := clitest.Parse(newDelCmd); !cli.IsUsage(err) {
		t.Fatalf("ctx del without a name: want a usage error, got %v", err)
	}
}
