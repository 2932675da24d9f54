package runtime

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/runtime/cabi"
)

// An import no host interface provides is supplied by ResolveImport, typed by the component's
// own WIT; without a resolver the component does not instantiate.
func TestResolveImport(t *testing.T) {
	e := newEngine(t, Options{})
	front := compilePath(t, e, "../examples/edge-core/front.component.wasm")
	if _, err := front.Instantiate(context.Background(), InstanceConfig{}); !errors.Is(err, ErrUnsatisfiedImport) {
		t.Fatalf("without a resolver: %v", err)
	}
	var asked []string
	var gotType string
	cfg := InstanceConfig{ResolveImport: func(iface, name string, ft *cabi.FuncType) HostFunc {
		asked = append(asked, iface+"#"+name)
		gotType = ft.String()
		return func(_ context.Context, args []Value) (Value, error) {
			text := args[0].(string)
			if text == "" {
				return cabi.Err("empty"), nil
			}
			return cabi.Ok([]Value{"hi " + text, uint32(len(text)), []Value{"a", "b"}}), nil
		}
	}}
	rec, err := serve(t, front, "/x-y?q=1", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := "greeting: hi x-y\nlength: 3\nwords: a, b\n"; rec.Code != 200 || rec.Body.String() != want {
		t.Fatalf("%d %q", rec.Code, rec.Body.String())
	}
	if !reflect.DeepEqual(asked, []string{"wash:edgecore/backend@0.1.0#summarize"}) {
		t.Errorf("resolver asked for %v", asked)
	}
	if !strings.Contains(gotType, "func(text: string, max-words: u32) -> result<record<") {
		t.Errorf("type %s", gotType)
	}
	rec, err = serve(t, front, "/", cfg)
	if err != nil || rec.Code != 400 || rec.Body.String() != "error: empty\n" {
		t.Fatalf("%v %d %q", err, rec.Code, rec.Body.String())
	}
	// a resolver that declines leaves the import unsatisfied
	if _, err := front.Instantiate(context.Background(), InstanceConfig{ResolveImport: func(string, string, *cabi.FuncType) HostFunc { return nil }}); !errors.Is(err, ErrUnsatisfiedImport) {
		t.Fatalf("declining resolver: %v", err)
	}
}

// ExportedFuncs lists exports with their types; Invoke calls them with typed values.
func TestExportedFuncs(t *testing.T) {
	e := newEngine(t, Options{})
	back := compilePath(t, e, "../examples/edge-core/back.component.wasm")
	fs := back.ExportedFuncs()
	if len(fs) != 1 || fs[0].Interface != "wash:edgecore/backend@0.1.0" || fs[0].Name != "summarize" {
		t.Fatalf("exports %+v", fs)
	}
	res, err := back.Invoke(context.Background(), InstanceConfig{}, fs[0].Interface, fs[0].Name, "edge-and-core-tiers", uint32(2))
	if err != nil {
		t.Fatal(err)
	}
	want := []Value{cabi.Ok([]Value{"hello, edge-and-core-tiers", uint32(19), []Value{"edge", "and"}})}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("got %#v", res)
	}
	res, err = back.Invoke(context.Background(), InstanceConfig{}, fs[0].Interface, fs[0].Name, "", uint32(2))
	if err != nil || !reflect.DeepEqual(res, []Value{cabi.Err("text is empty: ask for /some-words-separated-by-dashes")}) {
		t.Fatalf("empty: %#v %v", res, err)
	}
}
