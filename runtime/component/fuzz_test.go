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
