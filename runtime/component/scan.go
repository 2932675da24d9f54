package component

import "iter"

// The code scan decides whether instances of a core module can be reset to their state right
// after instantiation by restoring memories and globals alone. That holds when no instruction
// can change what instantiation set up otherwise: table contents and sizes (table.set,
// table.grow, table.fill, table.copy, table.init), and the dropped state of passive segments
// (data.drop, elem.drop). memory.init and memory.copy only write memory, which is restored.
//
// The scan walks every instruction with its immediates. Anything it does not know (a proposal
// it does not cover, a malformed body) makes the answer "not resettable", never a guess.

// codeFacts is what the scan found in a module's code section.
type codeFacts struct {
	resettable bool   // no instruction changes tables or segment state
	why        string // the first reason it is not
}

func scanCode(bin []byte) (f codeFacts) {
	defer func() {
		if x := recover(); x != nil {
			if de, ok := x.(*decodeError); ok {
				f = codeFacts{why: "code not understood: " + de.msg}
				return
			}
			panic(x)
		}
	}()
	for sr := range sections(bin, 10) {
		for n := sr.count(); n > 0; n-- {
			fb := &reader{b: sr.bytes(sr.u32())}
			for locals := fb.count(); locals > 0; locals-- {
				fb.u32()
				fb.coreValType()
			}
			if why := fb.scanExpr(nil); why != "" {
				return codeFacts{why: why}
			}
		}
	}
	return codeFacts{resettable: true}
}

// sections yields a reader over the body of each section of the core module bin with the
// given id; every section is read (a malformed one fails the decoder).
func sections(bin []byte, id byte) iter.Seq[*reader] {
	return func(yield func(*reader) bool) {
		r := &reader{b: bin}
		r.bytes(8)
		for r.off < len(r.b) {
			sid := r.byte()
			body := r.bytes(r.u32())
			if sid == id && !yield(&reader{b: body}) {
				return
			}
		}
	}
}

// coreValType reads one core value type (numeric, vector or the reference shorthands).
func (r *reader) coreValType() {
	switch t := r.byte(); t {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f, 0x69:
	default:
		r.fail("unsupported value type %#x", t)
	}
}

func (r *reader) memarg() {
	align := r.u32()
	if align&0x40 != 0 { // multi-memory: a memory index follows
		r.u32()
	}
	r.u64()
}

func (r *reader) u64() {
	for shift := 0; ; shift += 7 {
		if shift >= 70 {
			r.fail("integer too long")
		}
		if r.byte() < 0x80 {
			return
		}
	}
}

func (r *reader) blockType() {
	if r.off < len(r.b) && (r.b[r.off] == 0x63 || r.b[r.off] == 0x64) {
		r.fail("typed reference block types are not supported")
	}
	r.s33()
}

// scanExpr walks a function body to its end and names the first instruction that makes
// instances not resettable ("" if none). With w it also rewrites the body (see instrument);
// without, it stops at that first instruction.
func (r *reader) scanExpr(w *codeRewrite) (why string) {
	found := func(what string) bool {
		if why == "" {
			why = what
		}
		return w == nil
	}
	for r.off < len(r.b) {
		op := r.byte()
		switch {
		case (op == 0x10 || op == 0x12 || op == 0xd2) && w != nil: // call, return_call, ref.func
			w.function(r)
		case op == 0x03: // loop
			r.blockType()
			if w != nil {
				w.flush(r, r.off)
				w.out = append(w.out, w.check...)
			}
		case op == 0x02 || op == 0x04 || op == 0x06: // block if try
			r.blockType()
		case op == 0x1f: // try_table
			r.blockType()
			for n := r.count(); n > 0; n-- {
				switch k := r.byte(); k {
				case 0, 1:
					r.u32()
					r.u32()
				case 2, 3:
					r.u32()
				default:
					r.fail("unknown catch kind %#x", k)
				}
			}
		case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0a || op == 0x0b || op == 0x0f ||
			op == 0x19 || op == 0x1a || op == 0x1b || op == 0xd1 || op == 0xd3:
		case op == 0x07 || op == 0x08 || op == 0x09 || op == 0x0c || op == 0x0d || op == 0x10 ||
			op == 0x12 || op == 0x14 || op == 0x15 || op == 0x18 || op == 0xd2 || op == 0xd4 || op == 0xd6:
			r.u32()
		case op == 0x0e: // br_table
			for n := r.count(); n > 0; n-- {
				r.u32()
			}
			r.u32()
		case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
			r.u32()
			r.u32()
		case op == 0x1c: // select t*
			for n := r.count(); n > 0; n-- {
				r.coreValType()
			}
		case op >= 0x20 && op <= 0x25: // locals, globals, table.get
			r.u32()
		case op == 0x26:
			r.u32()
			if found("table.set") {
				return why
			}
		case op >= 0x28 && op <= 0x3e:
			r.memarg()
		case op == 0x3f || op == 0x40: // memory.size, memory.grow
			r.u32()
		case op == 0x41:
			r.s33()
		case op == 0x42:
			r.u64()
		case op == 0x43:
			r.bytes(4)
		case op == 0x44:
			r.bytes(8)
		case op >= 0x45 && op <= 0xc4:
		case op == 0xd0: // ref.null heaptype
			r.s33()
		case op == 0xfc:
			if what := r.scanMisc(); what != "" && found(what) {
				return why
			}
		case op == 0xfd:
			r.scanSIMD()
		case op == 0xfe:
			r.scanAtomic()
		default:
			r.fail("unknown opcode %#x", op)
		}
	}
	return why
}

func (r *reader) scanMisc() string {
	switch sub := r.u32(); {
	case sub <= 7: // saturating truncations
	case sub == 8: // memory.init
		r.u32()
		r.u32()
	case sub == 9:
		r.u32()
		return "data.drop"
	case sub == 10: // memory.copy
		r.u32()
		r.u32()
	case sub == 11: // memory.fill
		r.u32()
	case sub == 12:
		r.u32()
		r.u32()
		return "table.init"
	case sub == 13:
		r.u32()
		return "elem.drop"
	case sub == 14:
		r.u32()
		r.u32()
		return "table.copy"
	case sub == 15:
		r.u32()
		return "table.grow"
	case sub == 16: // table.size
		r.u32()
	case sub == 17:
		r.u32()
		return "table.fill"
	default:
		r.fail("unknown 0xfc opcode %d", sub)
	}
	return ""
}

func (r *reader) scanSIMD() {
	switch sub := r.u32(); {
	case sub <= 11 || sub == 92 || sub == 93: // loads and stores
		r.memarg()
	case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
		r.bytes(16)
	case sub >= 21 && sub <= 34: // extract and replace lane
		r.byte()
	case sub >= 84 && sub <= 91: // load and store lane
		r.memarg()
		r.byte()
	case sub <= 0x113: // everything else has no immediates (relaxed SIMD included)
	default:
		r.fail("unknown 0xfd opcode %d", sub)
	}
}

func (r *reader) scanAtomic() {
	switch sub := r.u32(); {
	case sub == 3: // atomic.fence
		r.byte()
	case sub <= 2 || (sub >= 0x10 && sub <= 0x4e):
		r.memarg()
	default:
		r.fail("unknown 0xfe opcode %d", sub)
	}
}
