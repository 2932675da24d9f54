package wit

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/runtime/component"
)

var update = flag.Bool("update", false, "rewrite the golden WIT files")

// fixtures are components built from source elsewhere in the repository (WAT + build.sh).
var fixtures = map[string]string{
	"hello":   "../../examples/hello-http/hello.component.wasm",
	"counter": "../../lattice/host/providers/testdata/counter/counter.component.wasm",
}

func TestPrintGolden(t *testing.T) {
	for name, path := range fixtures {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			w, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			got := w.Print()
			golden := filepath.Join("testdata", name+".wit")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("WIT differs from %s (go test -run TestPrintGolden -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

func TestInterfaceNames(t *testing.T) {
	b, err := os.ReadFile(fixtures["counter"])
	if err != nil {
		t.Fatal(err)
	}
	w, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	imps, exps := w.InterfaceNames()
	for _, want := range []string{"wasi:keyvalue/store@0.2.0-draft", "wasi:keyvalue/atomics@0.2.0-draft", "wasi:http/types@0.2.0"} {
		if !slices.Contains(imps, want) {
			t.Errorf("imports %v lack %s", imps, want)
		}
	}
	if !slices.Equal(exps, []string{"wasi:http/incoming-handler@0.2.0"}) {
		t.Errorf("exports = %v", exps)
	}
	// the exported interface uses the imported types under their own names
	var handler *Interface
	for _, it := range w.Exports {
		handler = it.Interface
	}
	if len(handler.Types) != 2 || handler.Types[0].Target.Owner != "wasi:http/types@0.2.0" {
		t.Errorf("handler types: %+v", handler.Types)
	}
}

func TestCoreModuleAndGarbage(t *testing.T) {
	core := []byte("\x00asm\x01\x00\x00\x00")
	if _, err := Decode(core); err != ErrCoreModule {
		t.Errorf("core module: %v", err)
	}
	for _, in := range [][]byte{nil, []byte("hello"), []byte("\x00asm\x0d\x00\x01\x00\x07\x03\x01\x40")} {
		if _, err := Decode(in); err == nil {
			t.Errorf("Decode(%q) succeeded", in)
		}
	}
}

func TestKeywordsEscaped(t *testing.T) {
	w := &World{Imports: []Item{{Name: "my:pkg/iface@1.0.0", Interface: &Interface{
		Name: "my:pkg/iface@1.0.0",
		Types: []*Type{{Kind: Named, Name: "type", Owner: "my:pkg/iface@1.0.0",
			Target: &Type{Kind: Record, Fields: []Field{{Name: "list", Type: &Type{Kind: Prim, Prim: "string"}}}}}},
		Funcs: []*Func{{Name: "use", Params: []Field{{Name: "own", Type: &Type{Kind: Prim, Prim: "u8"}}}}},
	}}}}
	out := w.Print()
	for _, want := range []string{"record %type {", "%list: string,", "%use: func(%own: u8);"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, p := range fixtures {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := component.Decode(b); err != nil {
			return
		}
		w, err := Decode(b)
		if err == nil {
			_ = w.Print()
		}
	})
}
