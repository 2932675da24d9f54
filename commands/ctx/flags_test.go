package ctx

import (
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a state directory.
func TestCtxFlags(t *testing.T) {
	clitest.Check(t, newDefaultCmd, clitest.Args(), func(o *Options) bool { return o.Name == "" })
	clitest.Check(t, newDefaultCmd, clitest.Args("prod"), func(o *Options) bool { return o.Name == "prod" })
	clitest.Check(t, newEditCmd, clitest.Args("prod", "-e", "nano"), func(o *Options) bool { return o.Name == "prod" && o.Editor == "nano" })
	clitest.Check(t, newDelCmd, clitest.Args("prod"), func(o *Options) bool { return o.Name == "prod" })
	// new: the defaults of a context, then what the flags change
	clitest.Check(t, newNewCmd, clitest.Args("dev"), func(o *Options) bool {
		return o.Name == "dev" && o.New.CtlHost == "127.0.0.1" && o.New.CtlPort == 4222 && o.New.Lattice == "default" && o.New.CtlTimeout == 2000
	})
	clitest.Check(t, newNewCmd, clitest.Args("prod", "-r", "nats.example.com", "-p", "4333", "-x", "prod", "--timeout-ms", "5000", "--js-domain", "hub",
		"--ctl-credsfile", "prod.creds", "--ctl-tls-first", "--directory", "/tmp/ctx"), func(o *Options) bool {
		return o.New.CtlHost == "nats.example.com" && o.New.CtlPort == 4333 && o.New.Lattice == "prod" && o.New.CtlTimeout == 5000 &&
			o.JSDomain == "hub" && o.CredsFile == "prod.creds" && o.TLSFirst && o.Directory == "/tmp/ctx"
	})
	clitest.WantUsage(t, newDelCmd, clitest.Args())
	clitest.WantUsage(t, newNewCmd, clitest.Args(), clitest.Args("a", "b"), clitest.Args("a", "-p", "x"))
}
