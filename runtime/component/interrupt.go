package component

import (
	"context"
	"encoding/binary"
	"strings"

	"github.com/tetratelabs/wazero/sys"
	"github.com/wasmlattice/wash/internal/leb128"
)

// Interrupting guest code. wazero can stop a running call when its context ends
// (RuntimeConfig.WithCloseOnContextDone), but at a price paid on every call and every loop
// iteration: each call starts a goroutine that watches the context, and compiled code leaves
// the machine code for Go at every loop header to ask whether the module was closed. For a
// JavaScript engine compiled to wasm, whose interpreter loop turns once per bytecode, those
// exits cost more than the guest's own work.
//
// Components are compiled without it. Instead every core module is instrumented: it gets a
// counter of its own (a mutable global, "fuel") that every loop header and function entry
// decrements, and when it runs out the module calls the host's yield function and refills it.
// Yield is where an instance notices that its call's context ended (it traps, and the call
// fails with the exit wazero itself would have reported), and, because it is Go code, where
// the Go scheduler can preempt the goroutine: machine code cannot be preempted, so a guest
// that never left it would also hold up every stop-the-world of the garbage collector. A
// guest thus leaves its machine code once per yieldEvery loop iterations or calls instead of
// once per iteration, and no goroutine is started per call.

// yieldEvery is how many loop iterations and function calls a core module runs between two
// yields: often enough that a spinning guest yields within a millisecond, rarely enough that
// yields cost nothing measurable.
const yieldEvery = 1 << 16

// yieldName is the host module export that instrumented modules import as their yield.
const yieldName = "y"

// yield is the host side: it traps the guest when its call's context ended.
func yield(ctx context.Context) {
	select {
	case <-ctx.Done():
	default:
		return
	}
	code := sys.ExitCodeContextCanceled
	if ctx.Err() == context.DeadlineExceeded {
		code = sys.ExitCodeDeadlineExceeded
	}
	if i := FromContext(ctx); i != nil {
		i.exitCode.Store(code)
		i.tripped.Store(true)
	}
	panic(sys.NewExitError(code))
}

// instrument adds the fuel counter and yield calls to a core module (see above) and scans its
// code (see scanCode) in the same pass. Yield is imported from host (the host module's name)
// after the module's other imports, so every function the module defines moves up one index:
// in code, constant expressions, element segments, exports, the start section and the name
// section. The counter is a global appended after the module's own, so no global moves.
// DWARF sections are dropped: the code offsets they describe change. Errors are decode
// errors (the engine would refuse the module) or module features the rewrite does not know.
func instrument(bin []byte, host string) (out []byte, facts codeFacts, err error) {
	defer func() {
		if decodeFailed(recover(), &err, "invalid core module") {
			out, facts = nil, codeFacts{}
		}
	}()
	r := &reader{b: bin}
	if h := r.bytes(8); string(h[:4]) != "\x00asm" {
		r.fail("not a core wasm module")
	}
	type section struct {
		id         byte
		start, end int // the whole section (id, size, body)
		body       []byte
	}
	var secs []section
	w := &codeRewrite{}
	types, globals := 0, 0
	voidType := -1 // index of a func type [] -> []
	for r.off < len(r.b) {
		start := r.off
		id := r.byte()
		body := r.bytes(r.u32())
		secs = append(secs, section{id: id, start: start, end: r.off, body: body})
		sr := &reader{b: body}
		switch id {
		case 1:
			types = sr.count()
			for k := 0; k < types; k++ {
				if f := sr.byte(); f != 0x60 {
					sr.fail("type form %#x is not supported", f)
				}
				np, nr := sr.count(), 0
				for p := 0; p < np; p++ {
					sr.skipCoreValType()
				}
				nr = sr.count()
				for p := 0; p < nr; p++ {
					sr.skipCoreValType()
				}
				if np == 0 && nr == 0 && voidType < 0 {
					voidType = k
				}
			}
		case 2:
			w.funcShift += sr.countImports(coreFunc)
		case 6:
			globals = sr.count()
		}
	}
	yieldType := voidType
	if yieldType < 0 {
		yieldType = types
	}
	w.yield = w.funcShift // the yield import's function index
	fuel := uint32(0)     // the counter's global index: after every imported and defined global
	for _, s := range secs {
		if s.id == 2 {
			fuel += (&reader{b: s.body}).countImports(coreGlobal)
		}
	}
	fuel += uint32(globals)
	// every loop header and function entry: fuel -= 1; if fuel <= 0 { yield(); fuel = N }
	g := binary.AppendUvarint(nil, uint64(fuel))
	c := append([]byte{0x23}, g...)
	c = append(c, 0x41, 0x01, 0x6b, 0x24) // i32.const 1, i32.sub, global.set
	c = append(c, g...)
	c = append(c, 0x23)
	c = append(c, g...)
	c = append(c, 0x41, 0x00, 0x4c, 0x04, 0x40, 0x10) // i32.const 0, i32.le_s, if, call
	c = binary.AppendUvarint(c, uint64(w.yield))
	c = leb128.AppendSigned(append(c, 0x41), yieldEvery)
	c = append(append(c, 0x24), g...)
	w.check = append(c, 0x0b)

	out = make([]byte, 0, len(bin)+len(bin)/8+64)
	out = append(out, bin[:8]...)
	facts = codeFacts{resettable: true}
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	// sections the rewrite adds or extends, in binary order: types, imports, globals
	extend := map[byte]func(body []byte) []byte{
		1: func(body []byte) []byte {
			if voidType >= 0 {
				return body
			}
			return appendVec(body, 0x60, 0x00, 0x00)
		},
		2: func(body []byte) []byte {
			imp := appendName(appendName(nil, host), yieldName)
			imp = binary.AppendUvarint(append(imp, 0x00), uint64(yieldType))
			return appendVec(body, imp...)
		},
		6: func(body []byte) []byte {
			if body != nil {
				body = w.globals(body) // ref.func in initializers
			}
			return appendVec(body, append(leb128.AppendSigned([]byte{0x7f, 0x01, 0x41}, yieldEvery), 0x0b)...)
		},
	}
	added := map[byte]bool{}
	addUpTo := func(rank int) {
		for _, id := range []byte{1, 2, 6} {
			if !added[id] && sectionRank[id] < rank {
				emit(id, extend[id](nil))
				added[id] = true
			}
		}
	}
	for _, s := range secs {
		if s.id != 0 {
			addUpTo(sectionRank[s.id])
		}
		switch s.id {
		case 1, 2, 6:
			emit(s.id, extend[s.id](s.body))
			added[s.id] = true
		case 7:
			emit(7, w.exports(s.body))
		case 8:
			sr := w.start(s.body)
			w.function(sr)
			emit(8, w.done(sr))
		case 9:
			emit(9, w.elements(s.body))
		case 10:
			body, why := w.code(s.body)
			if why != "" {
				facts = codeFacts{why: why}
			}
			emit(10, body)
		case 0:
			sr := &reader{b: s.body}
			switch name := sr.name(); {
			case name == "name":
				if b, ok := w.names(s.body[sr.off:]); ok {
					emit(0, append(appendName(nil, name), b...))
				}
			case strings.HasPrefix(name, ".debug_"):
			default:
				out = append(out, bin[s.start:s.end]...)
			}
		default:
			out = append(out, bin[s.start:s.end]...)
		}
	}
	addUpTo(1 << 30)
	return out, facts, nil
}

// appendVec adds items to the body of a vector section (nil: an empty one).
func appendVec(body []byte, items ...byte) []byte {
	n := 0
	var rest []byte
	if body != nil {
		sr := &reader{b: body}
		n = sr.count()
		rest = body[sr.off:]
	}
	nb := binary.AppendUvarint(make([]byte, 0, len(body)+len(items)+5), uint64(n+1))
	nb = append(nb, rest...)
	return append(nb, items...)
}

func appendName(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// codeRewrite moves function indices at or past funcShift up by one (to make room for the
// yield import, whose index is yield) and inserts check at every loop header and function
// entry.
type codeRewrite struct {
	funcShift uint32
	yield     uint32
	check     []byte
	// the body being rewritten: out receives r.b[last:] as it is passed
	out  []byte
	last int
}

func (w *codeRewrite) flush(r *reader, upTo int) {
	w.out = append(w.out, r.b[w.last:upTo]...)
	w.last = upTo
}

// function rewrites the function index that r is at.
func (w *codeRewrite) function(r *reader) {
	w.flush(r, r.off)
	idx := r.u32()
	if idx >= w.funcShift {
		idx++
	}
	w.out = binary.AppendUvarint(w.out, uint64(idx))
	w.last = r.off
}

func (w *codeRewrite) start(body []byte) *reader {
	w.out, w.last = make([]byte, 0, len(body)+8), 0
	return &reader{b: body}
}

func (w *codeRewrite) done(r *reader) []byte {
	w.flush(r, len(r.b))
	return w.out
}

func (w *codeRewrite) exports(body []byte) []byte {
	r := w.start(body)
	for n := r.count(); n > 0; n-- {
		r.name()
		if r.byte() == 0x00 {
			w.function(r)
		} else {
			r.u32()
		}
	}
	return w.done(r)
}

func (w *codeRewrite) globals(body []byte) []byte {
	r := w.start(body)
	for n := r.count(); n > 0; n-- {
		r.skipCoreValType()
		r.byte() // mutability
		r.constExpr(w)
	}
	return w.done(r)
}

func (w *codeRewrite) elements(body []byte) []byte {
	r := w.start(body)
	for n := r.count(); n > 0; n-- {
		flags := r.u32()
		if flags > 7 {
			r.fail("unknown element segment flags %d", flags)
		}
		if flags&2 != 0 && flags&1 == 0 { // explicit table index
			r.u32()
		}
		if flags&1 == 0 { // active: an offset
			r.constExpr(w)
		}
		if flags&3 != 0 { // element kind or reference type
			if flags&4 != 0 {
				r.skipCoreValType()
			} else {
				r.byte()
			}
		}
		for k := r.count(); k > 0; k-- {
			if flags&4 != 0 {
				r.constExpr(w)
			} else {
				w.function(r)
			}
		}
	}
	return w.done(r)
}

// names rewrites the function indices of a name section's subsections (function, local and
// label names); ok is false when the section is malformed (it is then dropped).
func (w *codeRewrite) names(body []byte) (out []byte, ok bool) {
	defer func() {
		if x := recover(); x != nil {
			if _, isDE := x.(*decodeError); !isDE {
				panic(x)
			}
			out, ok = nil, false
		}
	}()
	r := &reader{b: body}
	for r.off < len(r.b) {
		id := r.byte()
		sub := r.bytes(r.u32())
		if id < 1 || id > 3 {
			out = append(out, id)
			out = binary.AppendUvarint(out, uint64(len(sub)))
			out = append(out, sub...)
			continue
		}
		sr := w.start(sub)
		for n := sr.count(); n > 0; n-- {
			w.function(sr)
			if id == 1 {
				sr.name()
				continue
			}
			for k := sr.count(); k > 0; k-- {
				sr.u32()
				sr.name()
			}
		}
		b := w.done(sr)
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out, true
}

// code rewrites every function body and scans it; why is the first reason instances are not
// resettable ("" if none).
func (w *codeRewrite) code(body []byte) (out []byte, why string) {
	sr := &reader{b: body}
	n := sr.count()
	out = binary.AppendUvarint(make([]byte, 0, len(body)+len(body)/8), uint64(n))
	for ; n > 0; n-- {
		fb := sr.bytes(sr.u32())
		r := w.start(fb)
		for locals := r.count(); locals > 0; locals-- {
			r.u32()
			r.coreValType()
		}
		w.flush(r, r.off)
		w.out = append(w.out, w.check...)
		if y := r.scanExpr(w); why == "" {
			why = y
		}
		f := w.done(r)
		out = binary.AppendUvarint(out, uint64(len(f)))
		out = append(out, f...)
	}
	return out, why
}
