package build

import (
	"strings"
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a project or a toolchain.
func TestBuildFlags(t *testing.T) {
	clitest.Check(t, newCmd, clitest.Args(), func(o *Options) bool {
		return o.ConfigPath == "" && !o.BuildOnly && !o.SignOnly && o.Signing.Issuer == "" && o.Signing.KeysDir == "" && !o.Signing.DisableKeygen
	})
	clitest.Check(t, newCmd, clitest.Args("-p", "path/to/project", "--build-only"), func(o *Options) bool {
		return o.ConfigPath == "path/to/project" && o.BuildOnly && !o.SignOnly
	})
	clitest.Check(t, newCmd, clitest.Args("--config-path", "w.toml", "--sign-only", "-i", "acct.nk", "-s", "subj.nk", "--keys-directory", "/k", "--disable-keygen"), func(o *Options) bool {
		return o.ConfigPath == "w.toml" && o.SignOnly && o.Issuer == "acct.nk" && o.Subject == "subj.nk" && o.KeysDir == "/k" && o.DisableKeygen
	})
	// WASH_ISSUER_KEY, WASH_SUBJECT_KEY and WASH_KEYS stand in for -i, -s, --keys-directory; a flag wins.
	t.Setenv("WASH_ISSUER_KEY", "env-issuer")
	t.Setenv("WASH_SUBJECT_KEY", "env-subject")
	t.Setenv("WASH_KEYS", "/env/keys")
	clitest.Check(t, newCmd, clitest.Args(), func(o *Options) bool {
		return o.Issuer == "env-issuer" && o.Subject == "env-subject" && o.KeysDir == "/env/keys"
	})
	clitest.Check(t, newCmd, clitest.Args("-i", "flag-issuer", "--keys-directory", "/flag"), func(o *Options) bool {
		return o.Issuer == "flag-issuer" && o.Subject == "env-subject" && o.KeysDir == "/flag"
	})

	clitest.WantUsage(t, newCmd, clitest.Args("extra"), clitest.Args("--no-such-flag"))
	// cobra's flag-group check; the root command maps its message to a usage error (exit 2)
	if _, err := clitest.Parse(newCmd, "--build-only", "--sign-only"); err == nil || !strings.Contains(err.Error(), "if any flags in the group") {
		t.Errorf("--build-only --sign-only: want the flag-group error, got %v", err)
	}
}
