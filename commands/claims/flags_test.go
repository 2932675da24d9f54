package claims

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without keys or files.
func TestClaimsFlags(t *testing.T) {
	clitest.Check(t, newSignCmd, clitest.Args("build/hello.wasm", "-n", "hello", "--ver", "0.1.0", "-r", "2", "-t", "a,b", "-x", "30", "-d", "out.wasm", "-i", "acct.nk"), func(o *SignOptions) bool {
		return o.Source == "build/hello.wasm" && o.Destination == "out.wasm" && o.Name == "hello" && o.Ver == "0.1.0" && o.Rev == 2 &&
			slices.Equal(o.Tags, []string{"a", "b"}) && o.ExpiresDays == 30 && o.Issuer == "acct.nk"
	})
	// the signing keys come from the environment when no flag names them
	t.Setenv("WASH_ISSUER_KEY", "env-issuer.nk")
	t.Setenv("WASH_KEYS", "/env/keys")
	clitest.Check(t, newTokenComponentCmd, clitest.Args("--name", "hello", "-a", "acme/hello", "--disable-keygen"), func(o *Metadata) bool {
		return o.Name == "hello" && o.CallAlias == "acme/hello" && o.DisableKeygen && o.Issuer == "env-issuer.nk" && o.KeysDir == "/env/keys"
	})
	// --revision 0 is a revision; no --revision is none
	clitest.Check(t, newTokenProviderCmd, clitest.Args("-n", "kv", "-v", "acme", "-r", "0", "-e", "1.2.0", "-b", "1"), func(o *ProviderOptions) bool {
		return o.Name == "kv" && o.Vendor == "acme" && o.RevSet && o.Rev == 0 && o.Version == "1.2.0" && o.nbf == 1
	})
	clitest.Check(t, newTokenProviderCmd, clitest.Args("-n", "kv", "-v", "acme"), func(o *ProviderOptions) bool { return !o.RevSet })
	clitest.Check(t, newTokenAccountCmd, clitest.Args("-n", "team", "-a", "SA1", "-a", "SA2", "-s", "sub.nk"), func(o *AccountOptions) bool {
		return o.Name == "team" && slices.Equal(o.Extra, []string{"SA1", "SA2"}) && o.Subject == "sub.nk"
	})
	clitest.Check(t, newTokenOperatorCmd, clitest.Args("-n", "ops", "-i", "op.nk", "--directory", "k"), func(o *OperatorOptions) bool {
		return o.Name == "ops" && o.Issuer == "op.nk" && o.KeysDir == "k"
	})

	clitest.WantUsage(t, newSignCmd, clitest.Args(), clitest.Args("a.wasm", "b.wasm"), clitest.Args("a.wasm", "-r", "x"))
	clitest.WantUsage(t, newTokenComponentCmd, clitest.Args("hello"))
	clitest.WantUsage(t, newTokenOperatorCmd, clitest.Args("-n", "ops", "-s", "sub.nk")) // an operator signs itself
}
