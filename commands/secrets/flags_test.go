package secrets

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestSecretsFlags(t *testing.T) {
	p, err := clitest.Parse(newPutCmd, "api", "vault", "secret/data/api", "--field", "token", "--property", "role=reader")
	if err != nil || p.Name != "api" || p.Backend != "vault" || p.Key != "secret/data/api" || p.Field != "token" || !p.fieldSet || p.versionSet ||
		!slices.Equal(p.Properties, []string{"role=reader"}) {
		t.Fatalf("secrets put: %+v, %v", p, err)
	}
	if g, err := clitest.Parse(newGetCmd, "api"); err != nil || g.Name != "api" {
		t.Fatalf("secrets get: %+v, %v", g, err)
	}
	if k, err := clitest.Parse(newKVPutCmd, "tok", "--string", "s3cret", "--secret-version", "2"); err != nil || k.Secret != "tok" || k.String != "s3cret" || k.SecretVersion != "2" {
		t.Fatalf("secrets nats-kv put: %+v, %v", k, err)
	}
	if _, err := clitest.Parse(newPutCmd, "api", "vault"); !cli.IsUsage(err) {
		t.Fatalf("secrets put with two arguments: want a usage error, got %v", err)
	}
	// --string and --binary exclude each other (cobra's error: a usage error once wash maps it).
	if _, err := clitest.Parse(newKVPutCmd, "tok", "--string", "a", "--binary", "f"); err == nil {
		t.Fatal("secrets nats-kv put --string --binary: want an error")
	}
}
