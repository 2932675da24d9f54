package link

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestLinkFlags(t *testing.T) {
	p, err := clitest.Parse(newPutCmd, "http-server", "hello", "wasi", "http", "--interface", "incoming-handler", "--source-config", "addr", "-l", "web")
	if err != nil {
		t.Fatal(err)
	}
	l := p.Link
	if l.SourceID != "http-server" || l.Target != "hello" || l.WitNamespace != "wasi" || l.WitPackage != "http" || l.Name != "web" ||
		!slices.Equal(l.Interfaces, []string{"incoming-handler"}) || !slices.Equal(p.SourceConfig, []string{"addr"}) || p.TargetConfig != nil {
		t.Fatalf("link put: %+v", *p)
	}
	// upstream's --interfaces spelling; the default link name
	if p, err = clitest.Parse(newPutCmd, "a", "b", "wasi", "keyvalue", "--interfaces", "store", "--interfaces", "atomics"); err != nil ||
		!slices.Equal(p.Link.Interfaces, []string{"store", "atomics"}) || p.Link.Name != "default" {
		t.Fatalf("link put --interfaces: %+v, %v", p, err)
	}
	// Without --link-name, del looks for the one link on the package (Name empty).
	d, err := clitest.Parse(newDelCmd, "hello", "wasi", "keyvalue")
	if err != nil || d.SourceID != "hello" || d.NS != "wasi" || d.Pkg != "keyvalue" || d.Name != "" || d.All {
		t.Fatalf("link del: %+v, %v", d, err)
	}
	if d, err = clitest.Parse(newDelCmd, "hello", "wasi", "keyvalue", "--link-name", "cache"); err != nil || d.Name != "cache" {
		t.Fatalf("link del --link-name: %+v, %v", d, err)
	}
	if d, err = clitest.Parse(newDelCmd, "--all", "--force"); err != nil || !d.All || !d.Force {
		t.Fatalf("link del --all: %+v, %v", d, err)
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"put with three arguments", func() error { _, err := clitest.Parse(newPutCmd, "a", "b", "wasi"); return err }()},
		{"del --all with arguments", func() error { _, err := clitest.Parse(newDelCmd, "--all", "hello"); return err }()},
		{"del with two arguments", func() error { _, err := clitest.Parse(newDelCmd, "hello", "wasi"); return err }()},
	} {
		if !cli.IsUsage(tc.err) {
			t.Errorf("%s: want a usage error, got %v", tc.name, tc.err)
		}
	}
}
