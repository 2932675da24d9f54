package artifact

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a registry.
func TestArtifactFlags(t *testing.T) {
	for _, k := range []string{"WASH_REG_URL", "WASH_REG_USER", "WASH_REG_PASSWORD"} {
		t.Setenv(k, "")
	}
	clitest.Check(t, newPullCmd, clitest.Args("localhost:5000/acme/hello:0.1.0", "--insecure", "-d", "hello.wasm", "--digest", "sha256:ab"), func(o *PullOptions) bool {
		return o.Ref == "localhost:5000/acme/hello:0.1.0" && o.Insecure && o.Destination == "hello.wasm" && o.Digest == "sha256:ab"
	})
	clitest.Check(t, newPushCmd, clitest.Args("localhost:5000/acme/hello:0.1.0", "hello.wasm", "-a", "org.opencontainers.image.version=0.1.0"), func(o *PushOptions) bool {
		return o.Ref == "localhost:5000/acme/hello:0.1.0" && o.File == "hello.wasm" && slices.Equal(o.Annotations, []string{"org.opencontainers.image.version=0.1.0"})
	})
	clitest.Check(t, newInspectCmd, clitest.Args("hello.wasm", "--wit"), func(o *InspectOptions) bool { return o.Target == "hello.wasm" && o.WIT && !o.JWTOnly })
	clitest.WantUsage(t, newPushCmd, clitest.Args("localhost:5000/acme/hello:0.1.0"))
	// The registry's address comes from the environment when no flag gives it.
	t.Setenv("WASH_REG_URL", "reg.example:5000")
	clitest.Check(t, newPullCmd, clitest.Args("acme/hello:0.1.0"), func(o *PullOptions) bool { return o.Registry == "reg.example:5000" })
}
