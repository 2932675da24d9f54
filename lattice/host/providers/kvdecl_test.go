package providers

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
	"github.com/wasmlattice/wash/provider/keyvalue"
	"github.com/wasmlattice/wash/runtime/cabi"
)

// Every wasi:keyvalue function the host serves is declared, and a guest that imports one with
// another shape fails with a line naming the import instead of misreading its arguments.
func TestKeyValueDeclaredAndCheckedAtLink(t *testing.T) {
	ifaces := storeIfaces(NewMemoryKV())
	for _, hi := range ifaces {
		for _, fn := range KeyValueFuncs[hi.Name] {
			if hi.Funcs[fn] == nil || hi.Types[fn] == nil {
				t.Fatalf("%s#%s: served %v, declared %v", hi.Name, fn, hi.Funcs[fn] != nil, hi.Types[fn] != nil)
			}
		}
	}

	// The host declares open with a u32 identifier: the counter guest (string) must not link.
	wrong := *ifaces[0]
	wrong.Types = map[string]*cabi.FuncType{}
	for n, ft := range ifaces[0].Types {
		wrong.Types[n] = ft
	}
	wrong.Types["open"] = cabi.Signatures(kvTypes, map[string]string{"open": "func(identifier: u32) -> result<bucket, error>"})["open"]
	_, msg := hit(t, loadCounter(t), append([]*cabi.HostInterface{&wrong}, ifaces[1:]...), "/x")
	if !strings.Contains(msg, "import "+KeyValueStore+"#open:") || !strings.Contains(msg, "string where u32 is expected") {
		t.Fatalf("got %q", msg)
	}
}

func TestKVErrorCasesNamed(t *testing.T) {
	// the SDK's cases are the wire definition's
	for name, c := range map[string]uint32{"no-such-store": keyvalue.CaseNoSuchStore, "access-denied": keyvalue.CaseAccessDenied, "other": keyvalue.CaseOther} {
		if w := interfaces.Case(interfaces.KeyValueError, name); w != c {
			t.Errorf("keyvalue.Case for %s = %d, the wire definition says %d", name, c, w)
		}
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{ErrNoSuchStore, "no-such-store"},
		{&KVError{Case: kvCaseAccessDenied}, "access-denied"},
		{&KVError{Case: kvCaseOther, Msg: "x"}, "other"},
		{context.Canceled, "other"},
	} {
		v := kvErr(c.err).Value.(cabi.VariantValue)
		if v.Case != kvTypes.Case("error", c.want) {
			t.Errorf("%v: case %d, want %s", c.err, v.Case, c.want)
		}
	}
}

// The named postgres cases are the indices the wire definitions (and the tests) use.
func TestPostgresCasesNamed(t *testing.T) {
	got := []uint32{qeInvalidParams, qeInvalidQuery, qeUnexpected, speUnexpected, pseUnknownPrepared, pseQueryError,
		datePositiveInfinity, dateNegativeInfinity, dateYMD, offsetEast}
	want := []uint32{0, 1, 2, 0, 0, 1, 0, 1, 2, 0}
	if !slices.Equal(got, want) {
		t.Fatalf("cases %v, want %v", got, want)
	}
	for _, iface := range []string{PostgresQuery, PostgresPrepared} {
		if len(pgSigs()[iface]) != 2 {
			t.Fatalf("%s declares %d functions", iface, len(pgSigs()[iface]))
		}
	}
}
