package artifact

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a registry.
func TestArtifactFlags(t *testing.T) {
	for _, k := range []string{"WASH_REG_URL", "WASH_REG_USER", "WASH_REG_PASSWORD"} {
		t.Setenv(k, "")
	}
	p, err := clitest.Parse(newPullCmd, "localhost:5000/acme/hello:0.1.0", "--insecure", "-d", "hello.wasm", "--digest", "sha256:ab")
	if err != nil || p.Ref != "localhost:5000/acme/hello:0.1.0" || !p.Insecure || p.Destination != "hello.wasm" || p.Digest != "sha256:ab" {
		t.Fatalf("pull: %+v, %v", p, err)
	}
	// The registry's address comes from the environment when no flag gives it.
	t.Setenv("WASH_REG_URL", "reg.example:5000")
	if p, err = clitest.Parse(newPullCmd, "acme/hello:0.1.0"); err != nil || p.Registry != "reg.example:5000" {
		t.Fatalf("pull with WASH_REG_URL: %+v, %v", p, err)
	}
	u, err := clitest.Parse(newPushCmd, "localhost:5000/acme/hello:0.1.0", "hello.wasm", "-a", "org.opencontainers.image.version=0.1.0")
	if err != nil || u.Ref != "localhost:5000/acme/hello:0.1.0" || u.File != "hello.wasm" || !slices.Equal(u.Annotations, []string{"org.opencontainers.image.version=0.1.0"}) {
		t.Fatalf("push: %+v, %v", u, err)
	}
	i, err := clitest.Parse(newInspectCmd, "hello.wasm", "--wit")
	if err != nil || i.Target != "hello.wasm" || !i.WIT || i.JWTOnly {
		t.Fatalf("inspect: %+v, %v", i, err)
	}
	if _, err := clitest.Parse(newPushCmd, "localhost:5000/acme/hello:0.1.0"); !cli.IsUsage(err) {
		t.Fatalf("push without a file: want a usage error, got %v", err)
	}
}
