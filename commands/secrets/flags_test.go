package secrets

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
	"github.com/wasmlattice/wash/commands/config"
)

// Flag parsing → options, without a lattice.
func TestSecretsFlags(t *testing.T) {
	clitest.Check(t, newPutCmd, clitest.Args("api", "vault", "secret/data/api", "--field", "token", "--property", "role=reader"), func(o *PutOptions) bool {
		return o.Name == "api" && o.Backend == "vault" && o.Key == "secret/data/api" && o.Field == "token" && o.fieldSet && !o.versionSet &&
			slices.Equal(o.Properties, []string{"role=reader"})
	})
	clitest.Check(t, newGetCmd, clitest.Args("api"), func(o *config.Options) bool { return o.Name == "api" })
	clitest.Check(t, newKVPutCmd, clitest.Args("tok", "--string", "s3cret", "--secret-version", "2"), func(o *NatsKVOptions) bool {
		return o.Secret == "tok" && o.String == "s3cret" && o.SecretVersion == "2"
	})
	clitest.Check(t, newDelCmd, clitest.Args("api", "-x", "edge"), func(o *config.Options) bool { return o.Name == "api" && o.Conn.Lattice == "edge" })
	clitest.WantUsage(t, newPutCmd, clitest.Args("api", "vault"))
	clitest.WantUsage(t, newDelCmd, clitest.Args(), clitest.Args("a", "b"))
	// --string and --binary exclude each other (cobra's error: a usage error once wash maps it).
	if _, err := clitest.Parse(newKVPutCmd, "tok", "--string", "a", "--binary", "f"); err == nil {
		t.Fatal("secrets nats-kv put --string --binary: want an error")
	}
}
