package component

import (
	"context"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"
)

func seeds(f *testing.F) {
	for _, p := range []string{"../../examples/hello-http/hello.component.wasm", "../testdata/guests/abi.wasm", "../testdata/guests/limits.wasm"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("\x00asm\x0d\x00\x01\x00"))
	f.Add([]byte("\x00asm\x0c\x00\x01\x00"))
}

// FuzzDecode: any input decodes or fails with an error, never a panic or a hang.
func FuzzDecode(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err == nil && c == nil {
			t.Fatal("nil component without error")
		}
	})
}

// FuzzCompile runs the linker (and wazero's validation of the nested core modules) on
// arbitrary input.
func FuzzCompile(f *testing.F) {
	seeds(f)
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	f.Cleanup(func() { _ = rt.Close(ctx) })
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64<<10 {
			return
		}
		p, err := Compile(ctx, rt, b, NewRegistry())
		if err == nil {
			_ = p.Close(ctx)
		}
	})
}

// FuzzCoreModule feeds arbitrary core-module bytes to the compile-time rewrites (memory
// images, global exports, the code scan, the interruption checks): errors only, never a
// panic. (That instrumented modules still validate is checked on the corpus, by
// TestMemoryImagesOfCorpusModules: the engine's own compile of fuzzed input can ask for
// gigabytes.)
func FuzzCoreModule(f *testing.F) {
	for _, p := range []string{"../testdata/guests/state.wasm", "../testdata/guests/tables.wasm", "../testdata/guests/statestart.wasm"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if c, err := Decode(b); err == nil {
			for _, d := range c.Defs {
				if m, ok := d.(*CoreModuleDef); ok {
					f.Add(m.Bytes)
				}
			}
		}
	}
	f.Add(genModule([]byte{1, 3, 0, 5, 'h', 'e', 'l', 'l', 'o', 0, 9, 2, 3, 'a', 'b', 'c', 1, 1, 1, 0}))
	if b, err := os.ReadFile("testdata/instrument.wasm"); err == nil {
		f.Add(b)
	} else {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = prepareMemory(b)
		_, _, _, _, _ = templateForms(b)
		_ = scanCode(b)
		_, _, _ = instrument(b, "host")
	})
}
