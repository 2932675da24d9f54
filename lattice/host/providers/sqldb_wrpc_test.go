package providers

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/wasmlattice/wash/lattice/host/wrpcbridge"
	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
	"github.com/wasmlattice/wash/runtime"
	"github.com/wasmlattice/wash/runtime/cabi"
)

// The declared wire types of wasmcloud:postgres are exactly the types components built from
// upstream's WIT import: every function of query (examples/pg-counter) and prepared
// (testdata/pgnotes), compared field by field and case by case. The components are what
// the host routes over wRPC, typed by these declarations.
func TestPostgresWireTypesMatchComponents(t *testing.T) {
	eng, err := runtime.NewEngine(context.Background(), runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	seen := map[string]bool{}
	for _, path := range []string{"../../../examples/pg-counter/pg-counter.component.wasm", "testdata/pgnotes/pgnotes.component.wasm"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := eng.Compile(context.Background(), b)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		// the resolver sees every import nothing else provides, with the component's own types
		_, err = prog.Instantiate(context.Background(), runtime.InstanceConfig{ResolveImport: func(iface, name string, ft *cabi.FuncType) runtime.HostFunc {
			var f *interfaces.Func
			for _, x := range interfaces.Postgres {
				if x.Instance == iface && x.Name == name {
					f = x
				}
			}
			if f == nil {
				t.Errorf("%s imports %s#%s, which is not declared", path, iface, name)
				return nil
			}
			seen[name] = true
			got := wrpcbridge.Func(ft)
			if len(got.Params) != len(f.Type.Params) || len(got.Results) != len(f.Type.Results) {
				t.Errorf("%s: %s has %d params and %d results, declared %d and %d", path, name, len(got.Params), len(got.Results), len(f.Type.Params), len(f.Type.Results))
				return nil
			}
			for i, p := range got.Params {
				if p.Name != f.Type.Params[i].Name {
					t.Errorf("%s: parameter %d is %q, declared %q", name, i, p.Name, f.Type.Params[i].Name)
				}
				if d := typeDiff(p.Type, f.Type.Params[i].Type); d != "" {
					t.Errorf("%s: parameter %s: %s", name, p.Name, d)
				}
			}
			for i, r := range got.Results {
				if d := typeDiff(r, f.Type.Results[i]); d != "" {
					t.Errorf("%s: result: %s", name, d)
				}
			}
			return func(context.Context, []cabi.Value) (cabi.Value, error) { return nil, nil }
		}})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	for _, f := range interfaces.Postgres {
		if !seen[f.Name] {
			t.Errorf("no component imports %s#%s", f.Instance, f.Name)
		}
	}
}

// typeDiff describes the first structural difference between two wire types (WIT names of
// types are not compared: a component's type section need not carry them).
func typeDiff(got, want *wrpc.Type) string {
	switch {
	case got == nil && want == nil:
		return ""
	case got == nil || want == nil:
		return fmt.Sprintf("%v vs declared %v", got, want)
	case got.Kind != want.Kind:
		return fmt.Sprintf("%s vs declared %s", got, want)
	}
	switch got.Kind {
	case wrpc.KList, wrpc.KOption:
		return typeDiff(got.Elem, want.Elem)
	case wrpc.KResult:
		if d := typeDiff(got.Ok, want.Ok); d != "" {
			return "ok: " + d
		}
		if d := typeDiff(got.Err, want.Err); d != "" {
			return "err: " + d
		}
	case wrpc.KRecord, wrpc.KTuple:
		return membersDiff("field", ".", got.Fields, want.Fields, want)
	case wrpc.KVariant:
		return membersDiff("case", "::", got.Cases, want.Cases, want)
	case wrpc.KEnum, wrpc.KFlags:
		if fmt.Sprint(got.Labels) != fmt.Sprint(want.Labels) {
			return fmt.Sprintf("labels %v vs declared %v", got.Labels, want.Labels)
		}
	}
	return ""
}

// membersDiff compares the named members of a record or tuple (fields, "." in the path) or of
// a variant (cases, "::") with those the declared type owner has.
func membersDiff[M wrpc.Field | wrpc.Case](what, sep string, got, want []M, owner *wrpc.Type) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d %ss vs declared %d (%s)", len(got), what, len(want), owner)
	}
	for i := range got {
		g, w := wrpc.Field(got[i]), wrpc.Field(want[i])
		if g.Name != w.Name {
			return fmt.Sprintf("%s %d %q vs declared %q", what, i, g.Name, w.Name)
		}
		if d := typeDiff(g.Type, w.Type); d != "" {
			return owner.Name + sep + g.Name + ": " + d
		}
	}
	return ""
}
