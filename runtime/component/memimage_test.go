package component

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/wasmlattice/wash/internal/corpus"
	"github.com/wasmlattice/wash/internal/leb128"
	"github.com/wasmlattice/wash/runtime/linmem"
)

// Differential tests of memory images: a module instantiated from its prepared image (data
// segments moved out at compile time, memory mapped copy-on-write, or copied into a Go
// slice) must hold exactly what the engine's own application of the data segments gives.

func section(id byte, body []byte) []byte {
	out := []byte{id}
	out = binary.AppendUvarint(out, uint64(len(body)))
	return append(out, body...)
}

func vec(items ...[]byte) []byte {
	out := binary.AppendUvarint(nil, uint64(len(items)))
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

func name(s string) []byte { return append(binary.AppendUvarint(nil, uint64(len(s))), s...) }

// memoryModule keeps the memory and data sections of a real core module (and its data count)
// and exports the memory: the engine can instantiate it on its own.
func memoryModule(t testing.TB, bin []byte) ([]byte, bool) {
	r := &reader{b: bin}
	r.bytes(8)
	var mem, dc, data []byte
	for r.off < len(r.b) {
		start := r.off
		id := r.byte()
		r.bytes(r.u32())
		switch id {
		case 5:
			mem = bin[start:r.off]
		case 12:
			dc = bin[start:r.off]
		case 11:
			data = bin[start:r.off]
		}
	}
	if mem == nil || data == nil {
		return nil, false
	}
	out := append([]byte(nil), bin[:8]...)
	out = append(out, mem...)
	out = append(out, section(7, vec(append(name("memory"), 2, 0)))...)
	out = append(out, dc...)
	return append(out, data...), true
}

// instantiateMemory instantiates bin (with alloc, when set) and returns its memory's bytes.
func instantiateMemory(t testing.TB, rt wazero.Runtime, cm wazero.CompiledModule, alloc *linmem.Allocator) ([]byte, error) {
	ctx := context.Background()
	if alloc != nil {
		ctx = experimental.WithMemoryAllocator(ctx, alloc)
	}
	m, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName(""))
	if err == nil && alloc != nil {
		err = alloc.Err()
	}
	if err != nil {
		if m != nil {
			_ = m.Close(ctx)
		} else if alloc != nil {
			alloc.FreeFrom(0)
		}
		return nil, err
	}
	defer m.Close(ctx)
	mem := m.ExportedMemory("memory")
	b, _ := mem.Read(0, mem.Size())
	return bytes.Clone(b), nil
}

// compareImages instantiates bin plainly and from its prepared image (mapped and on the Go
// heap); both must fail, or give the same bytes.
func compareImages(t testing.TB, bin []byte) {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	// instrumented modules import yield
	if _, err := rt.NewHostModuleBuilder("host").NewFunctionBuilder().WithFunc(func(context.Context) {}).Export(yieldName).Instantiate(ctx); err != nil {
		t.Fatal(err)
	}
	plainCM, plainCompileErr := rt.CompileModule(ctx, bin)
	var want []byte
	var plainErr error = plainCompileErr
	if plainCompileErr == nil {
		want, plainErr = instantiateMemory(t, rt, plainCM, nil)
	}
	c, err := compileCore(ctx, rt, bin, "host")
	if (err == nil) != (plainCompileErr == nil) {
		t.Fatalf("compile: plain %v, prepared %v", plainCompileErr, err)
	}
	if err != nil {
		return
	}
	defer c.close(ctx)
	for _, heap := range []bool{false, true} {
		got, err := instantiateMemory(t, rt, c.compiled, &linmem.Allocator{Next: c.mem.image, Heap: heap})
		if (err == nil) != (plainErr == nil) {
			t.Fatalf("heap=%v: instantiate: plain %v, prepared %v", heap, plainErr, err)
		}
		if err == nil && !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Fatalf("heap=%v: memory differs from the data segments' at byte %d (sizes %d, %d)", heap, i, len(got), len(want))
		}
	}
}

func TestMemoryImagesOfCorpusModules(t *testing.T) {
	files := []string{corpus.Path(t, corpus.WatHello), corpus.Path(t, corpus.GoHello), corpus.Path(t, corpus.HelloPlugin), corpus.JSHello(t)}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range c.Defs {
			m, ok := d.(*CoreModuleDef)
			if !ok {
				continue
			}
			if mm, ok := memoryModule(t, m.Bytes); ok {
				compareImages(t, mm)
				n++
			}
		}
	}
	if n < 4 {
		t.Fatalf("only %d modules with data compared", n)
	}
}

// genModule builds a module with one memory and data segments from fuzz bytes: active ones at
// offsets in and past the initial size, passive ones, with and without a data count.
func genModule(seed []byte) []byte {
	next := func() byte {
		if len(seed) == 0 {
			return 0
		}
		c := seed[0]
		seed = seed[1:]
		return c
	}
	minPages := uint32(next()%3) + 1
	var segs [][]byte
	nseg := int(next() % 9)
	for i := 0; i < nseg; i++ {
		kind := next() % 4
		n := int(next() % 48)
		data := make([]byte, n)
		for j := range data {
			data[j] = next()
		}
		off := uint32(next())<<10 | uint32(next())<<2
		if next()%16 == 0 {
			off = minPages*65536 - uint32(next()) // at or just past the end
		}
		var seg []byte
		switch kind {
		case 0, 1:
			seg = leb128.AppendSigned([]byte{0, 0x41}, int64(int32(off)))
			seg = append(seg, 0x0b)
		case 2:
			seg = []byte{1}
		case 3:
			seg = leb128.AppendSigned([]byte{2, 0, 0x41}, int64(int32(off)))
			seg = append(seg, 0x0b)
		}
		seg = append(binary.AppendUvarint(seg, uint64(n)), data...)
		segs = append(segs, seg)
	}
	out := []byte("\x00asm\x01\x00\x00\x00")
	out = append(out, section(5, vec(append([]byte{0}, binary.AppendUvarint(nil, uint64(minPages))...)))...)
	out = append(out, section(7, vec(append(name("memory"), 2, 0)))...)
	if next()%2 == 0 {
		out = append(out, section(12, binary.AppendUvarint(nil, uint64(len(segs))))...)
	}
	return append(out, section(11, vec(segs...))...)
}

func FuzzMemoryImage(f *testing.F) {
	f.Add([]byte{1, 3, 0, 5, 'h', 'e', 'l', 'l', 'o', 0, 9, 2, 3, 'a', 'b', 'c', 1, 1, 1, 0})
	f.Add([]byte{2, 8, 3, 4, 1, 2, 3, 4, 255, 255, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 0, 0})
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, seed []byte) {
		compareImages(t, genModule(seed))
	})
}
