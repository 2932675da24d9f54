// Command wash runs and manages wasmCloud lattices.
package main

import (
	"context"
	"os"

	"github.com/wasmlattice/wash/commands"
	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/internal/termquery"
)

// Set by the release build (-ldflags "-X main.version=… -X main.commit=…").
var (
	version = "0.1.0-dev"
	commit  = ""
)

func main() {
	termquery.Restore() // before anything renders: see the package for why it exists
	env := &cli.Env{IO: output.System(), Executable: commands.ExecutablePath(), Version: version, Commit: commit}
	os.Exit(commands.Execute(context.Background(), env, os.Args[1:]))
}
