package host

import (
	"context"
	"testing"

	"github.com/wasmlattice/wash/lattice/host/providers"
)

// Wrapping capability interfaces for error logging keeps their declared types, so the
// components' imports are still checked against them at link time.
func TestLogBackendErrorsKeepsDeclaredTypes(t *testing.T) {
	open := func(context.Context, string) (providers.KVStore, string, error) { return nil, "", nil }
	in := providers.KeyValueInterfaces(open)
	out := (&Host{}).logBackendErrors("c1", "wasi", "keyvalue", in)
	for i, hi := range out {
		if len(hi.Types) == 0 || len(hi.Types) != len(in[i].Types) {
			t.Fatalf("%s: %d declared types after wrapping, %d before", hi.Name, len(hi.Types), len(in[i].Types))
		}
	}
}
