package artifact

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
	"github.com/wasmlattice/wash/oci/par"
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

// wash par's flag parsing → options, without files or a registry.
func TestParFlags(t *testing.T) {
	for _, k := range []string{"WASH_REG_URL", "WASH_REG_USER", "WASH_REG_PASSWORD"} {
		t.Setenv(k, "")
	}
	// upstream's short flags: -v is the vendor, -r the revision, -j the schema
	clitest.Check(t, newParCreateCmd, clitest.Args("-b", "bin/kv", "-n", "KV", "-v", "acme", "-r", "3", "-j", "schema.json", "--compress", "--version", "0.2.0"), func(o *ParCreateOptions) bool {
		return o.Binary == "bin/kv" && o.Name == "KV" && o.Vendor == "acme" && o.Revision == 3 && o.Schema == "schema.json" &&
			o.Compress && o.Version == "0.2.0" && o.Target == par.NativeTarget() && o.Destination == ""
	})
	clitest.Check(t, newParInsertCmd, clitest.Args("kv.par", "--binary", "bin/kv-arm", "--arch", "aarch64-linux", "-i", "acct.nk"), func(o *ParInsertOptions) bool {
		return o.Archive == "kv.par" && o.Binary == "bin/kv-arm" && o.Target == "aarch64-linux" && o.Issuer == "acct.nk"
	})
	clitest.Check(t, newParInspectCmd, clitest.Args("kv.par", "--jwt-only"), func(o *InspectOptions) bool { return o.Target == "kv.par" && o.JWTOnly })

	clitest.WantUsage(t, newParCreateCmd, clitest.Args("extra", "-b", "x", "-n", "n", "-v", "v"), clitest.Args("-b", "x", "-n", "n", "-v", "v", "-r", "three"))
	clitest.WantUsage(t, newParInsertCmd, clitest.Args("--binary", "x"))
	clitest.WantUsage(t, newParInspectCmd, clitest.Args())
	// a missing required flag is refused before the command runs
	for _, args := range [][]string{{"-n", "n", "-v", "v"}, {"-b", "x", "-v", "v"}, {"-b", "x", "-n", "n"}} {
		if _, err := clitest.Parse(newParCreateCmd, args...); err == nil {
			t.Errorf("par create %q: want an error for the missing flag", args)
		}
	}
	if _, err := clitest.Parse(newParInsertCmd, "kv.par"); err == nil {
		t.Error("par insert without --binary: want an error")
	}
}
