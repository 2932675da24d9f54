package providers

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/lattice/wrpc"
)

// A builtin's wRPC exports follow from the interfaces it implements, so a new opener-based
// provider is served over wRPC without code of its own.
func TestWRPCExportsFollowOpeners(t *testing.T) {
	noLink := func(context.Context, string, string) (InterfaceLinkDefinition, error) {
		return InterfaceLinkDefinition{}, nil
	}
	instances := func(exports []wrpc.Export) string {
		seen := map[string]bool{}
		for _, e := range exports {
			seen[e.Instance] = true
		}
		var out []string
		for i := range seen {
			out = append(out, i)
		}
		sort.Strings(out)
		return strings.Join(out, " ")
	}
	kv, _ := NewKeyValueProvider(KeyValueInMemory, nil, "")
	for _, c := range []struct {
		b    Builtin
		want string
	}{
		{kv, "wrpc:keyvalue/atomics@0.2.0-draft wrpc:keyvalue/batch@0.2.0-draft wrpc:keyvalue/store@0.2.0-draft"},
		{NewBlobstoreFS(), "wrpc:blobstore/blobstore@0.1.0 wrpc:blobstore/blobstore@0.2.0"},
		{newMessagingProvider("m", nil, nil), "wasmcloud:messaging/consumer@0.2.0"},
		{&httpClient{}, "wrpc:http/outgoing-handler@0.1.0"},
		{newPostgresProvider("pg"), "wasmcloud:postgres/prepared@0.1.1-draft wasmcloud:postgres/query@0.1.1-draft"},
	} {
		if got := instances(WRPCExports(c.b, noLink)); got != c.want {
			t.Errorf("%T serves %q, want %q", c.b, got, c.want)
		}
	}
	if n := len(WRPCExports(kv, noLink)); n != 9 {
		t.Errorf("keyvalue serves %d functions, want 9", n)
	}
}
