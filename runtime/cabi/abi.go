package cabi

import (
	"context"
	"encoding/binary"
	"math"
	"unicode/utf8"

	"github.com/tetratelabs/wazero/api"
)

// Encoding is a canonical-ABI string encoding option.
type Encoding uint8

const (
	UTF8 Encoding = iota
	UTF16
	Latin1UTF16
)

func (e Encoding) String() string {
	switch e {
	case UTF16:
		return "utf16"
	case Latin1UTF16:
		return "latin1+utf16"
	}
	return "utf8"
}

// Context is the state of one lift or lower: the guest memory and allocator named by the
// canon options, and the instance's handle table. Failures panic with *Trap; callers recover
// with Catch.
type Context struct {
	Ctx      context.Context
	Memory   api.Memory
	Realloc  api.Function
	Encoding Encoding
	Table    *HandleTable

	lent  []uint32
	stack [4]uint64
}

// Reuse readies a Context for another call (instances keep a few to spare allocations).
func (cx *Context) Reuse(ctx context.Context, mem api.Memory, realloc api.Function, enc Encoding, table *HandleTable) {
	cx.Ctx, cx.Memory, cx.Realloc, cx.Encoding, cx.Table = ctx, mem, realloc, enc, table
	cx.lent = cx.lent[:0]
}

// ReleaseLent drops the borrow handles lent to the guest for one host->guest call.
func (cx *Context) ReleaseLent() {
	for _, h := range cx.lent {
		if int(h) < len(cx.Table.entries) && cx.Table.entries[h].live && !cx.Table.entries[h].own {
			cx.Table.remove(h)
		}
	}
	cx.lent = cx.lent[:0]
}

func (cx *Context) mem() api.Memory {
	if cx.Memory == nil {
		trapf("canonical ABI needs a memory, but the canon definition names none")
	}
	return cx.Memory
}

func (cx *Context) view(ptr, n uint32) []byte {
	b, ok := cx.mem().Read(ptr, n)
	if !ok {
		trapf("out-of-bounds memory access: %d bytes at %#x", n, ptr)
	}
	return b
}

func (cx *Context) alloc(align, size uint32) uint32 {
	if cx.Realloc == nil {
		trapf("canonical ABI needs realloc to pass this value, but the canon definition names none")
	}
	cx.stack = [4]uint64{0, 0, uint64(align), uint64(size)}
	if err := cx.Realloc.CallWithStack(cx.Ctx, cx.stack[:]); err != nil {
		panic(err)
	}
	p := uint32(cx.stack[0])
	if align > 0 && p%align != 0 {
		trapf("realloc returned misaligned pointer %#x (alignment %d)", p, align)
	}
	if uint64(p)+uint64(size) > uint64(cx.mem().Size()) {
		trapf("realloc returned out-of-bounds pointer %#x for %d bytes", p, size)
	}
	return p
}

func checkAlign(ptr, a uint32) {
	if a > 1 && ptr%a != 0 {
		trapf("misaligned pointer %#x (alignment %d)", ptr, a)
	}
}

// ---- load / store ----

// Load reads a value of type t at ptr.
func (cx *Context) Load(t *Type, ptr uint32) Value {
	checkAlign(ptr, t.align)
	switch t.Kind {
	case KBool:
		return cx.view(ptr, 1)[0] != 0
	case KS8:
		return int8(cx.view(ptr, 1)[0])
	case KU8:
		return cx.view(ptr, 1)[0]
	case KS16:
		return int16(binary.LittleEndian.Uint16(cx.view(ptr, 2)))
	case KU16:
		return binary.LittleEndian.Uint16(cx.view(ptr, 2))
	case KS32:
		return int32(binary.LittleEndian.Uint32(cx.view(ptr, 4)))
	case KU32:
		return binary.LittleEndian.Uint32(cx.view(ptr, 4))
	case KS64:
		return int64(binary.LittleEndian.Uint64(cx.view(ptr, 8)))
	case KU64:
		return binary.LittleEndian.Uint64(cx.view(ptr, 8))
	case KF32:
		return math.Float32frombits(binary.LittleEndian.Uint32(cx.view(ptr, 4)))
	case KF64:
		return math.Float64frombits(binary.LittleEndian.Uint64(cx.view(ptr, 8)))
	case KChar:
		return liftChar(binary.LittleEndian.Uint32(cx.view(ptr, 4)))
	case KString:
		b := cx.view(ptr, 8)
		return cx.liftString(binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:]))
	case KList:
		b := cx.view(ptr, 8)
		return cx.liftList(t.Elem, binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:]))
	case KRecord, KTuple:
		out := make([]Value, len(t.Fields))
		off := ptr
		for i, f := range t.Fields {
			off = alignTo(off, f.Type.align)
			out[i] = cx.Load(f.Type, off)
			off += f.Type.size
		}
		return out
	case KVariant, KEnum, KOption, KResult:
		var disc uint32
		b := cx.view(ptr, t.discSize)
		switch t.discSize {
		case 1:
			disc = uint32(b[0])
		case 2:
			disc = uint32(binary.LittleEndian.Uint16(b))
		default:
			disc = binary.LittleEndian.Uint32(b)
		}
		if disc >= uint32(len(t.Cases)) {
			trapf("invalid %s discriminant %d", t.Kind, disc)
		}
		var payload Value
		if ct := t.Cases[disc].Type; ct != nil {
			payload = cx.Load(ct, ptr+t.payloadOff)
		}
		return makeCase(t, disc, payload)
	case KFlags:
		var v uint32
		b := cx.view(ptr, t.size)
		switch t.size {
		case 0:
		case 1:
			v = uint32(b[0])
		case 2:
			v = uint32(binary.LittleEndian.Uint16(b))
		default:
			v = binary.LittleEndian.Uint32(b)
		}
		return v & flagMask(len(t.Labels))
	case KOwn:
		return cx.liftOwn(t, binary.LittleEndian.Uint32(cx.view(ptr, 4)))
	case KBorrow:
		return cx.liftBorrow(t, binary.LittleEndian.Uint32(cx.view(ptr, 4)))
	}
	trapf("cannot load type %s", t)
	return nil
}

func flagMask(n int) uint32 {
	if n >= 32 {
		return math.MaxUint32
	}
	return 1<<uint(n) - 1
}

// Store writes v (of type t) at ptr.
func (cx *Context) Store(t *Type, v Value, ptr uint32) {
	checkAlign(ptr, t.align)
	switch t.Kind {
	case KBool:
		b := byte(0)
		if asBool(v) {
			b = 1
		}
		cx.view(ptr, 1)[0] = b
	case KS8, KU8:
		cx.view(ptr, 1)[0] = byte(asU64(v, t))
	case KS16, KU16:
		binary.LittleEndian.PutUint16(cx.view(ptr, 2), uint16(asU64(v, t)))
	case KS32, KU32:
		binary.LittleEndian.PutUint32(cx.view(ptr, 4), uint32(asU64(v, t)))
	case KS64, KU64:
		binary.LittleEndian.PutUint64(cx.view(ptr, 8), asU64(v, t))
	case KF32:
		binary.LittleEndian.PutUint32(cx.view(ptr, 4), math.Float32bits(asF32(v)))
	case KF64:
		binary.LittleEndian.PutUint64(cx.view(ptr, 8), math.Float64bits(asF64(v)))
	case KChar:
		binary.LittleEndian.PutUint32(cx.view(ptr, 4), lowerChar(v))
	case KString:
		p, n := cx.lowerString(v)
		b := cx.view(ptr, 8)
		binary.LittleEndian.PutUint32(b, p)
		binary.LittleEndian.PutUint32(b[4:], n)
	case KList:
		p, n := cx.lowerList(t.Elem, v)
		b := cx.view(ptr, 8)
		binary.LittleEndian.PutUint32(b, p)
		binary.LittleEndian.PutUint32(b[4:], n)
	case KRecord, KTuple:
		vals := asFields(v, t)
		off := ptr
		for i, f := range t.Fields {
			off = alignTo(off, f.Type.align)
			cx.Store(f.Type, vals[i], off)
			off += f.Type.size
		}
	case KVariant, KEnum, KOption, KResult:
		disc, payload := caseOf(t, v)
		b := cx.view(ptr, t.discSize)
		switch t.discSize {
		case 1:
			b[0] = byte(disc)
		case 2:
			binary.LittleEndian.PutUint16(b, uint16(disc))
		default:
			binary.LittleEndian.PutUint32(b, disc)
		}
		if ct := t.Cases[disc].Type; ct != nil {
			cx.Store(ct, payload, ptr+t.payloadOff)
		}
	case KFlags:
		f := uint32(asU64(v, t)) & flagMask(len(t.Labels))
		b := cx.view(ptr, t.size)
		switch t.size {
		case 0:
		case 1:
			b[0] = byte(f)
		case 2:
			binary.LittleEndian.PutUint16(b, uint16(f))
		default:
			binary.LittleEndian.PutUint32(b, f)
		}
	case KOwn:
		binary.LittleEndian.PutUint32(cx.view(ptr, 4), cx.lowerOwn(t, v))
	case KBorrow:
		binary.LittleEndian.PutUint32(cx.view(ptr, 4), cx.lowerBorrow(t, v))
	default:
		trapf("cannot store type %s", t)
	}
}

// ---- flat lift / lower ----

type flatIter struct {
	vals []uint64
	i    int
}

func (it *flatIter) next() uint64 {
	if it.i >= len(it.vals) {
		trapf("not enough core values to lift")
	}
	v := it.vals[it.i]
	it.i++
	return v
}

// LiftFlat lifts a value from its flattened core values.
func (cx *Context) liftFlat(t *Type, it *flatIter) Value {
	switch t.Kind {
	case KBool:
		return uint32(it.next()) != 0
	case KS8:
		return int8(it.next())
	case KU8:
		return uint8(it.next())
	case KS16:
		return int16(it.next())
	case KU16:
		return uint16(it.next())
	case KS32:
		return int32(it.next())
	case KU32:
		return uint32(it.next())
	case KS64:
		return int64(it.next())
	case KU64:
		return it.next()
	case KF32:
		return math.Float32frombits(uint32(it.next()))
	case KF64:
		return math.Float64frombits(it.next())
	case KChar:
		return liftChar(uint32(it.next()))
	case KString:
		p, n := uint32(it.next()), uint32(it.next())
		return cx.liftString(p, n)
	case KList:
		p, n := uint32(it.next()), uint32(it.next())
		return cx.liftList(t.Elem, p, n)
	case KRecord, KTuple:
		out := make([]Value, len(t.Fields))
		for i, f := range t.Fields {
			out[i] = cx.liftFlat(f.Type, it)
		}
		return out
	case KVariant, KEnum, KOption, KResult:
		disc := uint32(it.next())
		if disc >= uint32(len(t.Cases)) {
			trapf("invalid %s discriminant %d", t.Kind, disc)
		}
		start := it.i
		var payload Value
		// Joined slots hold the raw bits; 32-bit kinds take the low half, which is exactly
		// the canonical ABI's wrap/reinterpret coercion.
		if ct := t.Cases[disc].Type; ct != nil {
			payload = cx.liftFlat(ct, it)
		}
		it.i = start + len(t.flat) - 1
		if it.i > len(it.vals) {
			trapf("not enough core values to lift")
		}
		return makeCase(t, disc, payload)
	case KFlags:
		var v uint32
		for i := range t.flat {
			w := uint32(it.next())
			if i == 0 {
				v = w
			}
		}
		return v & flagMask(len(t.Labels))
	case KOwn:
		return cx.liftOwn(t, uint32(it.next()))
	case KBorrow:
		return cx.liftBorrow(t, uint32(it.next()))
	}
	trapf("cannot lift type %s", t)
	return nil
}

func (cx *Context) lowerFlat(t *Type, v Value, out []uint64) []uint64 {
	switch t.Kind {
	case KBool:
		if asBool(v) {
			return append(out, 1)
		}
		return append(out, 0)
	case KS8, KS16, KS32:
		return append(out, uint64(uint32(int32(asI64(v, t)))))
	case KU8, KU16, KU32:
		return append(out, uint64(uint32(asU64(v, t))))
	case KS64, KU64:
		return append(out, asU64(v, t))
	case KF32:
		return append(out, uint64(math.Float32bits(asF32(v))))
	case KF64:
		return append(out, math.Float64bits(asF64(v)))
	case KChar:
		return append(out, uint64(lowerChar(v)))
	case KString:
		p, n := cx.lowerString(v)
		return append(out, uint64(p), uint64(n))
	case KList:
		p, n := cx.lowerList(t.Elem, v)
		return append(out, uint64(p), uint64(n))
	case KRecord, KTuple:
		vals := asFields(v, t)
		for i, f := range t.Fields {
			out = cx.lowerFlat(f.Type, vals[i], out)
		}
		return out
	case KVariant, KEnum, KOption, KResult:
		disc, payload := caseOf(t, v)
		out = append(out, uint64(disc))
		end := len(out) + len(t.flat) - 1
		if ct := t.Cases[disc].Type; ct != nil {
			out = cx.lowerFlat(ct, payload, out)
		}
		for len(out) < end {
			out = append(out, 0)
		}
		return out
	case KFlags:
		f := uint32(asU64(v, t)) & flagMask(len(t.Labels))
		for i := range t.flat {
			if i == 0 {
				out = append(out, uint64(f))
			} else {
				out = append(out, 0)
			}
		}
		return out
	case KOwn:
		return append(out, uint64(cx.lowerOwn(t, v)))
	case KBorrow:
		return append(out, uint64(cx.lowerBorrow(t, v)))
	}
	trapf("cannot lower type %s", t)
	return nil
}

// ---- strings, lists, chars ----

func liftChar(c uint32) Char {
	if c >= 0x110000 || (c >= 0xD800 && c <= 0xDFFF) {
		trapf("invalid char %#x", c)
	}
	return Char(c)
}

func lowerChar(v Value) uint32 {
	var c uint32
	switch x := v.(type) {
	case Char:
		c = uint32(x)
	case rune:
		c = uint32(x)
	default:
		trapf("host value %T is not a char", v)
	}
	if c >= 0x110000 || (c >= 0xD800 && c <= 0xDFFF) {
		trapf("invalid char %#x", c)
	}
	return c
}

func (cx *Context) liftString(p, n uint32) string {
	if cx.Encoding != UTF8 {
		trapf("string encoding %s is not supported by this host (only utf8)", cx.Encoding)
	}
	b := cx.view(p, n)
	if !utf8.Valid(b) {
		trapf("string is not valid UTF-8")
	}
	return string(b)
}

func (cx *Context) lowerString(v Value) (uint32, uint32) {
	if cx.Encoding != UTF8 {
		trapf("string encoding %s is not supported by this host (only utf8)", cx.Encoding)
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	default:
		trapf("host value %T is not a string", v)
	}
	if uint64(len(s)) > math.MaxUint32 {
		trapf("string too long")
	}
	p := cx.alloc(1, uint32(len(s)))
	copy(cx.view(p, uint32(len(s))), s)
	return p, uint32(len(s))
}

func (cx *Context) liftList(elem *Type, p, n uint32) Value {
	size := uint64(elem.size) * uint64(n)
	if size > math.MaxUint32 {
		trapf("list of %d elements is out of bounds", n)
	}
	checkAlign(p, elem.align)
	b := cx.view(p, uint32(size))
	if elem.Kind == KU8 {
		out := make([]byte, len(b))
		copy(out, b)
		return out
	}
	out := make([]Value, n)
	for i := uint32(0); i < n; i++ {
		out[i] = cx.Load(elem, p+i*elem.size)
	}
	return out
}

func (cx *Context) lowerList(elem *Type, v Value) (uint32, uint32) {
	switch x := v.(type) {
	case []byte:
		if elem.Kind != KU8 {
			break
		}
		p := cx.alloc(1, uint32(len(x)))
		copy(cx.view(p, uint32(len(x))), x)
		return p, uint32(len(x))
	case []string:
		vals := make([]Value, len(x))
		for i, s := range x {
			vals[i] = s
		}
		v = vals
	case nil:
		v = []Value(nil)
	}
	vals, ok := v.([]Value)
	if !ok {
		trapf("host value %T is not a list<%s>", v, elem)
	}
	size := uint64(elem.size) * uint64(len(vals))
	if size > math.MaxUint32 {
		trapf("list too long")
	}
	p := cx.alloc(elem.align, uint32(size))
	for i, e := range vals {
		cx.Store(elem, e, p+uint32(i)*elem.size)
	}
	return p, uint32(len(vals))
}

// ---- resources ----

func (cx *Context) table() *HandleTable {
	if cx.Table == nil {
		trapf("no resource table")
	}
	return cx.Table
}

func (cx *Context) liftOwn(t *Type, h uint32) Value { return cx.table().TakeOwn(h, t.Resource) }

func (cx *Context) liftBorrow(t *Type, h uint32) Value { return cx.table().Rep(h, t.Resource) }

func (cx *Context) lowerOwn(t *Type, v Value) uint32 {
	if v == nil {
		trapf("host returned a nil %s", t)
	}
	return cx.table().NewOwn(t.Resource, v)
}

func (cx *Context) lowerBorrow(t *Type, v Value) uint32 {
	if v == nil {
		trapf("host passed a nil %s", t)
	}
	h := cx.table().add(handle{rt: t.Resource, rep: v})
	cx.lent = append(cx.lent, h)
	return h
}

// ---- Go value coercions ----

func makeCase(t *Type, disc uint32, payload Value) Value {
	switch t.Kind {
	case KEnum:
		return disc
	case KOption:
		return OptionValue{IsSome: disc == 1, Value: payload}
	case KResult:
		return ResultValue{IsErr: disc == 1, Value: payload}
	}
	return VariantValue{Case: disc, Value: payload}
}

func caseOf(t *Type, v Value) (uint32, Value) {
	var disc uint32
	var payload Value
	switch x := v.(type) {
	case VariantValue:
		disc, payload = x.Case, x.Value
	case OptionValue:
		if x.IsSome {
			disc = 1
		}
		payload = x.Value
	case ResultValue:
		if x.IsErr {
			disc = 1
		}
		payload = x.Value
	case nil:
		if t.Kind != KOption {
			trapf("host value nil is not a %s", t.Kind)
		}
	default:
		if t.Kind == KEnum {
			disc = uint32(asU64(v, t))
		} else {
			trapf("host value %T is not a %s", v, t.Kind)
		}
	}
	if disc >= uint32(len(t.Cases)) {
		trapf("host %s case %d out of range", t.Kind, disc)
	}
	return disc, payload
}

func asFields(v Value, t *Type) []Value {
	vals, ok := v.([]Value)
	if !ok || len(vals) != len(t.Fields) {
		trapf("host value %T is not a %s of %d fields", v, t.Kind, len(t.Fields))
	}
	return vals
}

func asBool(v Value) bool {
	b, ok := v.(bool)
	if !ok {
		trapf("host value %T is not a bool", v)
	}
	return b
}

func asU64(v Value, t *Type) uint64 {
	switch x := v.(type) {
	case uint8:
		return uint64(x)
	case uint16:
		return uint64(x)
	case uint32:
		return uint64(x)
	case uint64:
		return x
	case uint:
		return uint64(x)
	case int8:
		return uint64(x)
	case int16:
		return uint64(x)
	case int32:
		return uint64(x)
	case int64:
		return uint64(x)
	case int:
		return uint64(x)
	}
	trapf("host value %T is not a %s", v, t)
	return 0
}

func asI64(v Value, t *Type) int64 { return int64(asU64(v, t)) }

func asF32(v Value) float32 {
	switch x := v.(type) {
	case float32:
		return x
	case float64:
		return float32(x)
	}
	trapf("host value %T is not an f32", v)
	return 0
}

func asF64(v Value) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	}
	trapf("host value %T is not an f64", v)
	return 0
}

// ---- function calls ----

// LiftParams lifts the arguments of a guest->host call from the core stack.
func (cx *Context) LiftParams(f *FuncType, stack []uint64) []Value {
	if f.spillParams() {
		return cx.Load(f.paramTuple, uint32(stack[0])).([]Value)
	}
	it := flatIter{vals: stack[:len(f.flatParams)]}
	out := make([]Value, len(f.Params))
	for i, p := range f.Params {
		out[i] = cx.liftFlat(p.Type, &it)
	}
	return out
}

// LowerResults writes the results of a guest->host call: onto the stack, or through the
// return pointer (the last core parameter) when they do not fit.
func (cx *Context) LowerResults(f *FuncType, results []Value, stack []uint64) {
	if len(f.Results) == 0 {
		return
	}
	if f.spillResults() {
		np, _ := f.LowerSignature()
		cx.Store(f.resultTuple, results, uint32(stack[len(np)-1]))
		return
	}
	var buf [1]uint64
	out := buf[:0]
	for i, r := range f.Results {
		out = cx.lowerFlat(r.Type, results[i], out)
	}
	copy(stack, out)
}

// LowerParams lowers the arguments of a host->guest call into core values, spilling them
// into guest memory (through realloc) past MaxFlatParams.
func (cx *Context) LowerParams(f *FuncType, args []Value) []uint64 {
	if len(args) != len(f.Params) {
		trapf("function takes %d arguments, %d given", len(f.Params), len(args))
	}
	if f.spillParams() {
		p := cx.alloc(f.paramTuple.align, f.paramTuple.size)
		cx.Store(f.paramTuple, args, p)
		return []uint64{uint64(p)}
	}
	out := make([]uint64, 0, len(f.flatParams)+1)
	for i, p := range f.Params {
		out = cx.lowerFlat(p.Type, args[i], out)
	}
	return out
}

// LiftResults lifts the results of a host->guest call from its core results.
func (cx *Context) LiftResults(f *FuncType, core []uint64) []Value {
	if len(f.Results) == 0 {
		return nil
	}
	if f.spillResults() {
		if len(core) < 1 {
			trapf("missing return pointer")
		}
		return cx.Load(f.resultTuple, uint32(core[0])).([]Value)
	}
	it := flatIter{vals: core}
	out := make([]Value, len(f.Results))
	for i, r := range f.Results {
		out[i] = cx.liftFlat(r.Type, &it)
	}
	return out
}
