package dev

import (
	"slices"
	"testing"
	"time"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a project, a toolchain or a lattice.
func TestDevFlags(t *testing.T) {
	clitest.Check(t, newCmd, clitest.Args(), func(o *Options) bool {
		return o.WorkDir == "" && o.IgnoreDirs == nil && !o.LeaveHostRunning && o.ManifestOutputDir == "" &&
			o.NATSHost == "127.0.0.1" && o.NATSPort == 4222 && o.Lattice == "default" && o.Debounce == 50*time.Millisecond && o.KeysDir == ""
	})
	clitest.Check(t, newCmd, clitest.Args("-d", "../counter", "-i", "assets", "--ignore-dir", "docs,tmp", "--leave-host-running",
		"--manifest-output-dir", ".", "--nats-host", "127.0.0.2", "--nats-port", "4333", "-x", "edge", "--debounce", "200ms", "--keys-directory", "/k"), func(o *Options) bool {
		return o.WorkDir == "../counter" && slices.Equal(o.IgnoreDirs, []string{"assets", "docs", "tmp"}) && o.LeaveHostRunning &&
			o.ManifestOutputDir == "." && o.NATSHost == "127.0.0.2" && o.NATSPort == 4333 && o.Lattice == "edge" &&
			o.Debounce == 200*time.Millisecond && o.KeysDir == "/k"
	})
	// Upstream's environment variables stand in for the flags; a flag wins over its variable.
	for k, v := range map[string]string{
		"WASH_DEV_CODE_DIR": "/env/code", "WASH_DEV_LEAVE_HOST_RUNNING": "true", "WASH_DEV_MANIFEST_OUTPUT_DIR": "/env/out",
		"WASMCLOUD_NATS_HOST": "127.0.0.3", "WASMCLOUD_NATS_PORT": "5222", "WASMCLOUD_LATTICE": "envlattice", "WASH_KEYS": "/env/keys",
	} {
		t.Setenv(k, v)
	}
	clitest.Check(t, newCmd, clitest.Args(), func(o *Options) bool {
		return o.WorkDir == "/env/code" && o.LeaveHostRunning && o.ManifestOutputDir == "/env/out" &&
			o.NATSHost == "127.0.0.3" && o.NATSPort == 5222 && o.Lattice == "envlattice" && o.KeysDir == "/env/keys"
	})
	clitest.Check(t, newCmd, clitest.Args("-d", "/flag", "--nats-port", "6222", "-x", "flaglattice"), func(o *Options) bool {
		return o.WorkDir == "/flag" && o.NATSPort == 6222 && o.Lattice == "flaglattice" && o.NATSHost == "127.0.0.3"
	})

	t.Setenv("WASMCLOUD_NATS_PORT", "not-a-port")
	clitest.WantUsage(t, newCmd, clitest.Args()) // a bad variable is a usage error naming it
	t.Setenv("WASMCLOUD_NATS_PORT", "")
	clitest.WantUsage(t, newCmd, clitest.Args("extra"), clitest.Args("--nats-port", "x"), clitest.Args("--debounce", "soon"), clitest.Args("--no-such-flag"))
}
