package component

import (
	"context"
	"errors"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
)

// instrumentRuntime is a runtime with what instrumented test modules import: "env" (add, g)
// and a host module "host" whose yield is yield itself.
func instrumentRuntime(t testing.TB) wazero.Runtime {
	ctx := context.Background()
	// tail calls on, for return_call in the test module
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCoreFeatures(api.CoreFeaturesV2|experimental.CoreFeaturesTailCall))
	t.Cleanup(func() { _ = rt.Close(ctx) })
	if _, err := rt.NewHostModuleBuilder("env").
		NewFunctionBuilder().WithFunc(func(a, b uint32) uint32 { return a + b }).Export("add").
		Instantiate(ctx); err != nil {
		t.Fatal(err)
	}
	// the imported global g = 1000
	g := []byte("\x00asm\x01\x00\x00\x00")
	g = append(g, section(6, vec([]byte{0x7f, 0x00, 0x41, 0xe8, 0x07, 0x0b}))...)
	g = append(g, section(7, vec(append(name("g"), 3, 0)))...)
	if _, err := rt.InstantiateWithConfig(ctx, g, wazero.NewModuleConfig().WithName("env-g")); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.NewHostModuleBuilder("host").NewFunctionBuilder().
		WithFunc(func(ctx context.Context) { yield(ctx) }).Export(yieldName).Instantiate(ctx); err != nil {
		t.Fatal(err)
	}
	return rt
}

// instrumentFixture reads testdata/instrument.wasm and instruments it; it returns the module
// as read (but for its global import: the test module imports it from "env", the runtime of
// instrumentRuntime defines it in "env-g") and instrumented.
func instrumentFixture(t *testing.T) (bin, out []byte, facts codeFacts) {
	t.Helper()
	bin, err := os.ReadFile("testdata/instrument.wasm")
	if err != nil {
		t.Fatal(err)
	}
	bin = replaceImportModule(t, bin, "env", "g", "env-g")
	out, facts, err = instrument(bin, "host")
	if err != nil {
		t.Fatal(err)
	}
	return bin, out, facts
}

// The instrumented module computes exactly what the original does: function indices moved
// everywhere they appear (calls, tail calls, call_indirect through both kinds of element
// segments, ref.func, exports, the start function).
func TestInstrumentKeepsBehaviour(t *testing.T) {
	bin, out, facts := instrumentFixture(t)
	if !facts.resettable {
		t.Errorf("facts: %+v", facts)
	}
	ctx := context.Background()
	rt := instrumentRuntime(t)
	run := func(b []byte) map[string]uint64 {
		m, err := rt.InstantiateWithConfig(ctx, b, wazero.NewModuleConfig().WithName(""))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close(ctx)
		got := map[string]uint64{}
		for _, c := range []struct {
			fn  string
			arg uint64
		}{{"mix", 10}, {"mix", 1003}, {"count", 100007}, {"square", 12}, {"via-ref", 41}} {
			r, err := m.ExportedFunction(c.fn).Call(ctx, c.arg)
			if err != nil {
				t.Fatalf("%s(%d): %v", c.fn, c.arg, err)
			}
			got[c.fn+string(rune('0'+c.arg%10))] = r[0]
		}
		return got
	}
	want, got := run(bin), run(out)
	if len(want) != 5 {
		t.Fatalf("original: %v", want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: instrumented %d, original %d", k, got[k], v)
		}
	}
}

// A spinning guest ends when its context does, and meanwhile does not hold up the garbage
// collector's stop-the-world (machine code cannot be preempted; yield is Go code).
func TestInstrumentedSpinYieldsAndStops(t *testing.T) {
	_, out, _ := instrumentFixture(t)
	rt := instrumentRuntime(t)
	m, err := rt.InstantiateWithConfig(context.Background(), out, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := m.ExportedFunction("spin").Call(ctx)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	gcStart := time.Now()
	runtime.GC()
	if d := time.Since(gcStart); d > 2*time.Second {
		t.Errorf("a garbage collection took %v while a guest spun", d)
	}
	err = <-done
	var exit *sys.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != sys.ExitCodeDeadlineExceeded {
		t.Fatalf("spin ended with %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("spin stopped only after %v", d)
	}
}

// replaceImportModule renames the module of one import (same length or not).
func replaceImportModule(t testing.TB, bin []byte, mod, field, newMod string) []byte {
	t.Helper()
	imps, s0, s1, err := parseCoreImports(bin)
	if err != nil {
		t.Fatal(err)
	}
	for i := range imps {
		if imps[i].Module == mod && imps[i].Name == field {
			imps[i].Module = newMod
		}
	}
	return rewriteImports(bin, imps, s0, s1)
}

// A global initialised with ref.func names the same function after the rewrite.
func TestInstrumentMovesGlobalFuncRefs(t *testing.T) {
	bin, err := os.ReadFile("testdata/instrument.wasm")
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := instrument(bin, "host")
	if err != nil {
		t.Fatal(err)
	}
	refs := func(b []byte) (idx []uint32) {
		for sr := range sections(b, 6) {
			for n := sr.count(); n > 0; n-- {
				sr.skipCoreValType()
				sr.byte()
				if sr.b[sr.off] == 0xd2 {
					sr.byte()
					idx = append(idx, sr.u32())
				}
				for sr.byte() != 0x0b {
				}
			}
		}
		return idx
	}
	want, got := refs(bin), refs(out)
	if len(want) != 1 || len(got) != 1 || got[0] != want[0]+1 {
		t.Fatalf("ref.func in globals: original %v, instrumented %v (want one, moved up by one)", want, got)
	}
}
