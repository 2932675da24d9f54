package completions

import (
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag and shell → options, without writing a file.
func TestCompletionsFlags(t *testing.T) {
	clitest.Check(t, newCmd, clitest.Args("bash"), func(o *Options) bool { return o.Shell == "bash" && o.Dir == "." })
	// -d is a persistent flag: before or after the shell
	clitest.Check(t, newCmd, clitest.Args("-d", "/tmp/c", "zsh"), func(o *Options) bool { return o.Shell == "zsh" && o.Dir == "/tmp/c" })
	clitest.Check(t, newCmd, clitest.Args("power-shell", "--dir", "out"), func(o *Options) bool { return o.Shell == "power-shell" && o.Dir == "out" })
	clitest.WantUsage(t, newCmd, clitest.Args(), clitest.Args("fish", "extra"), clitest.Args("nushell"))
}
