package component

import (
	"context"
	"encoding/binary"
	"strconv"

	"github.com/tetratelabs/wazero"

	"github.com/wasmlattice/wash/runtime/linmem"
)

// coreImport is one import of a core module, with its descriptor kept as raw bytes so the
// module can be re-encoded with different names.
type coreImport struct {
	Module, Name string
	Kind         byte
	desc         []byte
}

// parseCoreImports lists a core module's imports and the byte range of its import section.
func parseCoreImports(b []byte) (imps []coreImport, secStart, secEnd int, err error) {
	defer func() { decodeFailed(recover(), &err, "invalid core module") }()
	r := &reader{b: b}
	h := r.bytes(8)
	if string(h[:4]) != "\x00asm" || h[4] != 1 || h[5] != 0 || h[6] != 0 || h[7] != 0 {
		r.fail("not a core wasm module")
	}
	secStart, secEnd = -1, -1
	for r.off < len(r.b) {
		start := r.off
		id := r.byte()
		size := r.u32()
		body := r.bytes(size)
		if id != 2 {
			continue
		}
		secStart, secEnd = start, r.off
		sr := &reader{b: body}
		for n := sr.count(); n > 0; n-- {
			mod := sr.name()
			name := sr.name()
			d0 := sr.off
			kind := sr.b[sr.off]
			sr.coreImportDesc()
			imps = append(imps, coreImport{Module: mod, Name: name, Kind: kind, desc: sr.b[d0:sr.off]})
		}
	}
	return imps, secStart, secEnd, nil
}

// rewriteImports re-encodes the import section of b with the given imports (same count and
// order, so every index in the module stays valid).
func rewriteImports(b []byte, imps []coreImport, secStart, secEnd int) []byte {
	var body []byte
	body = binary.AppendUvarint(body, uint64(len(imps)))
	for _, im := range imps {
		body = binary.AppendUvarint(body, uint64(len(im.Module)))
		body = append(body, im.Module...)
		body = binary.AppendUvarint(body, uint64(len(im.Name)))
		body = append(body, im.Name...)
		body = append(body, im.desc...)
	}
	out := make([]byte, 0, len(b)+len(body))
	if secStart < 0 {
		return b
	}
	out = append(out, b[:secStart]...)
	out = append(out, 2)
	out = binary.AppendUvarint(out, uint64(len(body)))
	out = append(out, body...)
	out = append(out, b[secEnd:]...)
	return out
}

// memoryPlan is what instantiating a core module needs to know about the memory it defines.
type memoryPlan struct {
	defines  bool   // the module defines its memory (rather than importing one)
	minBytes uint64 // initial size of that memory
	// image is the initial contents with every active data segment applied, set when the
	// segments were moved out of the module (stripped); trailing zeros may be cut.
	image    []byte
	stripped bool
	// importedData: the module has active data segments but imports its memory
	importedData bool
	// trimmed is the stripped module with the trailing run of former active segments
	// removed altogether (nil when there is none): the engine then has nothing at all to do
	// per instantiation for them. It fails validation if code names a removed segment
	// (data.drop), in which case the caller compiles full() instead (prepareMemory's out is
	// nil when trimmed is set, to spare a copy of a large module).
	trimmed []byte
	full    func() []byte
}

// prepareMemory moves a core module's active data segments into a memory image: it returns
// the module with each of those segments replaced by an empty passive one (same count and
// order, so data indices stay valid; an active segment is dropped after instantiation, which
// leaves it just as empty) and the image they would have written. It only does so when the
// module defines its one memory (32-bit, not shared) and every active segment writes it at a
// constant offset inside its initial size; otherwise bin comes back unchanged and the engine
// applies the segments itself (its errors included).
func prepareMemory(bin []byte) (out []byte, plan memoryPlan, err error) {
	defer func() {
		if decodeFailed(recover(), &err, "invalid core module") {
			out, plan = nil, memoryPlan{}
		}
	}()
	type segment struct {
		raw    []byte // the whole encoded segment
		data   []byte
		offset uint64
		active bool
	}
	type span struct{ start, end int }
	r := &reader{b: bin}
	r.bytes(8)
	importsMemory, memories := false, 0
	okFlags := true
	var segs []segment
	data, dataCount := span{-1, -1}, span{-1, -1}
	for r.off < len(r.b) {
		start := r.off
		id := r.byte()
		body := r.bytes(r.u32())
		sr := &reader{b: body}
		switch id {
		case 2: // imports
			importsMemory = sr.countImports(coreMemory) > 0
		case 5: // memories
			memories = sr.count()
			if memories == 1 {
				switch f := sr.byte(); f {
				case 0x00:
					plan.minBytes = uint64(sr.u32()) * 65536
				case 0x01:
					plan.minBytes = uint64(sr.u32()) * 65536
					sr.u32()
				default:
					okFlags = false // shared or 64-bit memories keep their segments
				}
			}
		case 12: // data count
			dataCount = span{start, r.off}
		case 11: // data
			data = span{start, r.off}
			for n := sr.count(); n > 0; n-- {
				var s segment
				s0 := sr.off
				flag := sr.u32()
				if flag == 1 {
					s.data = sr.bytes(sr.u32())
					s.raw = sr.b[s0:sr.off]
					segs = append(segs, s)
					continue
				}
				s.active = true
				memIdx := uint32(0)
				if flag == 2 {
					memIdx = sr.u32()
				} else if flag != 0 {
					sr.fail("unknown data segment flag %d", flag)
				}
				constant := memIdx == 0
				if sr.byte() == 0x41 { // i32.const N end
					s.offset = uint64(uint32(int32(sr.s33())))
					constant = constant && sr.byte() == 0x0b
				} else {
					constant = false
				}
				if !constant {
					plan.defines = memories == 1 && !importsMemory
					plan.importedData = importsMemory
					return bin, plan, nil
				}
				s.data = sr.bytes(sr.u32())
				s.raw = sr.b[s0:sr.off]
				segs = append(segs, s)
			}
		}
	}
	plan.defines = memories == 1 && !importsMemory
	for _, s := range segs {
		plan.importedData = plan.importedData || (s.active && importsMemory)
	}
	if !plan.defines || !okFlags || data.start < 0 {
		return bin, plan, nil
	}
	var end uint64
	for _, s := range segs {
		if s.active {
			e := s.offset + uint64(len(s.data))
			if e > plan.minBytes {
				return bin, plan, nil // out of bounds: the engine reports it at instantiation
			}
			end = max(end, e)
		}
	}
	image := make([]byte, end)
	keep := 0 // segments up to the last passive one keep their places
	for i, s := range segs {
		if s.active {
			copy(image[s.offset:], s.data)
		} else {
			keep = i + 1
		}
	}
	// sections rebuilds the module with n data segments (former active ones empty passive)
	sections := func(n int) []byte {
		body := binary.AppendUvarint(nil, uint64(n))
		for _, s := range segs[:n] {
			if s.active {
				body = append(body, 1, 0)
			} else {
				body = append(body, s.raw...)
			}
		}
		out := make([]byte, 0, len(bin))
		prev := 0
		for _, sec := range []struct {
			at   span
			body []byte
			id   byte
		}{{dataCount, binary.AppendUvarint(nil, uint64(n)), 12}, {data, body, 11}} {
			if sec.at.start < 0 {
				continue
			}
			out = append(out, bin[prev:sec.at.start]...)
			out = append(out, sec.id)
			out = binary.AppendUvarint(out, uint64(len(sec.body)))
			out = append(out, sec.body...)
			prev = sec.at.end
		}
		return append(out, bin[prev:]...)
	}
	if keep < len(segs) {
		plan.trimmed = sections(keep)
		plan.full = func() []byte { return sections(len(segs)) }
	} else {
		out = sections(len(segs))
	}
	plan.image, plan.stripped = image, true
	return out, plan, nil
}

// moduleMemory is the compiled form of a memoryPlan: the image every instance maps.
type moduleMemory struct {
	defines  bool
	minBytes uint64
	image    *linmem.Image // nil: the memory starts zero, or the engine applies the data
}

// ModuleMemory is the memory a compiled core module defines (see CompileCoreModule).
type ModuleMemory struct{ m moduleMemory }

// CompileCoreModule compiles a plain core module the way Compile compiles the core modules of
// a component: its active data segments moved into a memory image.
func CompileCoreModule(ctx context.Context, rt wazero.Runtime, bin []byte) (wazero.CompiledModule, *ModuleMemory, error) {
	cm, err := compileCore(ctx, rt, bin, "")
	if err != nil {
		return nil, nil, err
	}
	return cm.compiled, &ModuleMemory{m: cm.mem}, nil
}

// Image is the memory's initial contents (nil: the engine applies the data segments).
func (m *ModuleMemory) Image() *linmem.Image { return m.m.image }

// InitialBytes is the initial size of the memory the module defines (0 if it defines none).
func (m *ModuleMemory) InitialBytes() uint64 { return m.m.minBytes }

// Close releases the image.
func (m *ModuleMemory) Close() { m.m.close() }

// coreModule is a compiled core module of a component, in the forms instances need.
type coreModule struct {
	compiled wazero.CompiledModule
	// noStart is the module without its start function, for instances restored from a
	// snapshot taken after start functions ran (nil: the module has none).
	noStart wazero.CompiledModule
	mem     moduleMemory
	// globals are the mutable globals it defines, exported as globalExport(index)
	globals []uint32
	// resettable: an instance's state is its memories and mutable globals alone (see scanCode);
	// why says why not.
	resettable bool
	why        string
	// importedData: active data segments write a memory the module imports, at instantiation
	importedData bool
}

func (c *coreModule) close(ctx context.Context) {
	_ = c.compiled.Close(ctx)
	if c.noStart != nil {
		_ = c.noStart.Close(ctx)
	}
	c.mem.close()
}

// compileCore prepares a core module's memory image and compiles the module: without its
// former active data segments when it validates so, else with them as empty passive ones.
// For the core modules of components (host names the program's host module), the module is
// instrumented for interruption (see instrument), mutable globals are exported and a
// start-less copy is compiled too (see templateForms). Compile errors are the engine's for
// the module as given.
func compileCore(ctx context.Context, rt wazero.Runtime, bin []byte, host string) (*coreModule, error) {
	forms := host != ""
	orig := bin
	var facts codeFacts
	if forms {
		var err error
		if bin, facts, err = instrument(bin, host); err != nil {
			return nil, err
		}
	}
	out, plan, err := prepareMemory(bin)
	if err != nil {
		return nil, err
	}
	c := &coreModule{mem: moduleMemory{defines: plan.defines, minBytes: plan.minBytes}, importedData: plan.importedData}
	var noStart []byte
	form := func(b []byte) []byte {
		if !forms {
			return b
		}
		o, ns, globals, ok, err := templateForms(b)
		if err != nil {
			return b // the engine reports what is wrong with the module
		}
		noStart, c.globals = ns, globals
		if !ok {
			c.why = "a mutable global holds a vector or reference value"
		}
		return o
	}
	if plan.trimmed != nil {
		c.compiled, err = rt.CompileModule(ctx, form(plan.trimmed))
	}
	if c.compiled == nil {
		if out == nil {
			out = plan.full()
		}
		if c.compiled, err = rt.CompileModule(ctx, form(out)); err != nil && (plan.stripped || forms) {
			// report the module's own error, not one about our rewrite
			if _, err2 := rt.CompileModule(ctx, orig); err2 != nil {
				err = err2
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if noStart != nil {
		if c.noStart, err = rt.CompileModule(ctx, noStart); err != nil {
			_ = c.compiled.Close(ctx)
			return nil, err
		}
	}
	if plan.stripped {
		if c.mem.image, err = linmem.NewImage(plan.minBytes, plan.image); err != nil {
			c.close(ctx)
			return nil, err
		}
	}
	if forms && c.why == "" {
		c.resettable, c.why = facts.resettable, facts.why
	}
	return c, nil
}

func (m moduleMemory) close() { m.image.Close() }

// sectionRank orders known section ids as the binary format requires (custom sections, 0,
// may appear anywhere).
var sectionRank = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

// globalExport names the export that exposes defined global i to the host.
func globalExport(i uint32) string { return "#g" + strconv.FormatUint(uint64(i), 10) }

// templateForms rewrites a core module for resettable instances: every mutable global it
// defines is also exported (as globalExport(index)) so the host can read and restore it, and
// noStart is the same module without its start function (nil when it has none). ok is false
// when a mutable global holds something the host cannot save (a vector or a reference).
func templateForms(bin []byte) (out, noStart []byte, globals []uint32, ok bool, err error) {
	defer func() {
		if decodeFailed(recover(), &err, "invalid core module") {
			out, noStart, globals, ok = nil, nil, nil, false
		}
	}()
	type section struct {
		id   byte
		raw  []byte // id, size and body
		body []byte
	}
	r := &reader{b: bin}
	r.bytes(8)
	var secs []section
	var importedGlobals uint32
	ok = true
	hasStart := false
	for r.off < len(r.b) {
		start := r.off
		id := r.byte()
		body := r.bytes(r.u32())
		secs = append(secs, section{id: id, raw: bin[start:r.off], body: body})
		sr := &reader{b: body}
		switch id {
		case 2:
			importedGlobals += sr.countImports(coreGlobal)
		case 6:
			n := sr.count()
			for i := 0; i < n; i++ {
				t := sr.byte()
				mut := sr.byte()
				sr.constExpr(nil)
				if mut == 1 {
					switch t {
					case 0x7f, 0x7e, 0x7d, 0x7c:
						globals = append(globals, importedGlobals+uint32(i))
					default:
						ok = false
					}
				}
			}
		case 8:
			hasStart = true
		}
	}
	// the export section, with the global exports appended
	var exports []byte
	count := 0
	for _, s := range secs {
		if s.id == 7 {
			sr := &reader{b: s.body}
			count = sr.count()
			exports = append(exports, s.body[sr.off:]...)
		}
	}
	for _, g := range globals {
		name := globalExport(g)
		exports = binary.AppendUvarint(exports, uint64(len(name)))
		exports = append(exports, name...)
		exports = append(exports, 0x03)
		exports = binary.AppendUvarint(exports, uint64(g))
	}
	exportSec := []byte{7}
	body := binary.AppendUvarint(nil, uint64(count+len(globals)))
	body = append(body, exports...)
	exportSec = binary.AppendUvarint(exportSec, uint64(len(body)))
	exportSec = append(exportSec, body...)
	build := func(dropStart bool) []byte {
		o := make([]byte, 0, len(bin)+len(exportSec))
		o = append(o, bin[:8]...)
		placed := false
		for _, s := range secs {
			if !placed && s.id != 0 && (s.id == 7 || sectionRank[s.id] > sectionRank[7]) {
				o = append(o, exportSec...)
				placed = true
			}
			if s.id == 7 || (dropStart && s.id == 8) {
				continue
			}
			o = append(o, s.raw...)
		}
		if !placed {
			o = append(o, exportSec...)
		}
		return o
	}
	if len(globals) == 0 {
		out = bin
	} else {
		out = build(false)
	}
	if hasStart {
		noStart = build(true)
	}
	return out, noStart, globals, ok, nil
}

// constExpr skips a constant expression up to its end; with w it also rewrites the function
// index of ref.func (see instrument).
func (r *reader) constExpr(w *codeRewrite) {
	for {
		switch op := r.byte(); op {
		case 0x0b:
			return
		case 0x41:
			r.s33()
		case 0x42:
			r.u64()
		case 0x43:
			r.bytes(4)
		case 0x44:
			r.bytes(8)
		case 0x23: // global.get
			r.u32()
		case 0xd2: // ref.func
			if w != nil {
				w.function(r)
			} else {
				r.u32()
			}
		case 0xd0:
			r.s33()
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended constants
		case 0xfd:
			if r.u32() != 12 {
				r.fail("unsupported vector constant")
			}
			r.bytes(16)
		default:
			r.fail("unsupported constant instruction %#x", op)
		}
	}
}
