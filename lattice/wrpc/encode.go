package wrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"unicode/utf8"
)

// channelWriter is one byte channel of an invocation (the root params or results, or the
// channel of an async value at an index path). Write may split p into several messages; Close
// sends the end-of-channel message.
type channelWriter interface {
	Write(ctx context.Context, p []byte) error
	Index(path []int) channelWriter
	Close() error
}

// deferredWrite sends the data of one async value on its own channel, after the inline part.
type deferredWrite struct {
	path []int // relative to the writer the encoding was made for
	run  func(ctx context.Context, w channelWriter) error
	// data, when set, is all the channel carries (a complete value known at encoding time):
	// it is written without run, on the sender's goroutine
	data []byte
}

// write sends the async value's data on w.
func (d deferredWrite) write(ctx context.Context, w channelWriter) error {
	if d.data != nil {
		return w.Write(ctx, d.data)
	}
	return d.run(ctx, w)
}

// allComplete reports whether every deferred write's data is known (none waits on anything).
func allComplete(ds []deferredWrite) bool {
	for _, d := range ds {
		if d.data == nil {
			return false
		}
	}
	return true
}

// TypeError says a Go value does not fit the type it is encoded as.
type TypeError struct {
	Path string // e.g. "param 1 (key)" or "result 0.ok"
	Want *Type
	Got  any
	Msg  string
}

func (e *TypeError) Error() string {
	where := ""
	if e.Path != "" {
		where = e.Path + ": "
	}
	if e.Msg != "" {
		return where + e.Msg
	}
	return fmt.Sprintf("%sexpected %s, got %T", where, e.Want, e.Got)
}

type encoder struct {
	buf      []byte
	deferred []deferredWrite
}

// AppendValue appends the wire encoding of v (of type t) to buf. It fails for values with
// async parts (use the invocation APIs, which send those on their own channels).
func AppendValue(buf []byte, t *Type, v Value) ([]byte, error) {
	e := encoder{buf: buf}
	if err := e.value(t, v, nil); err != nil {
		return buf, err
	}
	if len(e.deferred) > 0 {
		return buf, errors.New("value has futures or streams; send it in an invocation")
	}
	return e.buf, nil
}

// encodeTuple encodes values of types (params or results) as one tuple; async parts are
// returned as deferred writes with paths starting at the member index.
func encodeTuple(buf []byte, types []*Type, vals []Value, what string) ([]byte, []deferredWrite, error) {
	if len(vals) != len(types) {
		return buf, nil, fmt.Errorf("%s: %d values for %d types", what, len(vals), len(types))
	}
	e := encoder{buf: buf}
	for i, t := range types {
		var p []int
		if t.hasAsync() {
			p = []int{i}
		}
		if err := e.value(t, vals[i], p); err != nil {
			var te *TypeError
			if errors.As(err, &te) {
				te.Path = joinPath(fmt.Sprintf("%s %d", what, i), te.Path)
			}
			return buf, nil, err
		}
	}
	return e.buf, e.deferred, nil
}

func joinPath(a, b string) string {
	if b == "" {
		return a
	}
	return a + "." + b
}

// asyncSub is the path of member i of type t under path: nil when t has no async parts (only
// async values need their path).
func asyncSub(path []int, i int, t *Type) []int {
	if path == nil || !t.hasAsync() {
		return nil
	}
	p := make([]int, len(path)+1)
	copy(p, path)
	p[len(path)] = i
	return p
}

func intValue(v Value) (int64, uint64, bool, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), 0, true, true
	case int16:
		return int64(x), 0, true, true
	case int32:
		return int64(x), 0, true, true
	case int64:
		return x, 0, true, true
	case int:
		return int64(x), 0, true, true
	case uint8:
		return 0, uint64(x), false, true
	case uint16:
		return 0, uint64(x), false, true
	case uint32:
		return 0, uint64(x), false, true
	case uint64:
		return 0, x, false, true
	case uint:
		return 0, uint64(x), false, true
	}
	return 0, 0, false, false
}

// unsignedIn converts any Go integer to an unsigned value of bits bits.
func unsignedIn(v Value, bits uint) (uint64, bool) {
	s, u, signed, ok := intValue(v)
	if !ok {
		return 0, false
	}
	if signed {
		if s < 0 {
			return 0, false
		}
		u = uint64(s)
	}
	if bits < 64 && u >= 1<<bits {
		return 0, false
	}
	return u, true
}

// signedIn converts any Go integer to a signed value of bits bits.
func signedIn(v Value, bits uint) (int64, bool) {
	s, u, signed, ok := intValue(v)
	if !ok {
		return 0, false
	}
	if !signed {
		if u > math.MaxInt64 {
			return 0, false
		}
		s = int64(u)
	}
	lim := int64(1) << (bits - 1)
	if bits < 64 && (s < -lim || s >= lim) {
		return 0, false
	}
	return s, true
}

func (e *encoder) value(t *Type, v Value, path []int) error {
	bad := func() error { return &TypeError{Want: t, Got: v} }
	switch t.Kind {
	case KBool:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		if b {
			e.buf = append(e.buf, 1)
		} else {
			e.buf = append(e.buf, 0)
		}
	case KU8:
		u, ok := unsignedIn(v, 8)
		if !ok {
			return bad()
		}
		e.buf = append(e.buf, byte(u))
	case KS8:
		s, ok := signedIn(v, 8)
		if !ok {
			return bad()
		}
		e.buf = append(e.buf, byte(int8(s)))
	case KU16, KU32, KU64:
		bits := intBits(t.Kind)
		u, ok := unsignedIn(v, bits)
		if !ok {
			return bad()
		}
		e.buf = AppendUleb(e.buf, u)
	case KS16, KS32, KS64:
		bits := intBits(t.Kind)
		s, ok := signedIn(v, bits)
		if !ok {
			return bad()
		}
		e.buf = appendSigned(e.buf, s, bits)
	case KF32:
		var f float32
		switch x := v.(type) {
		case float32:
			f = x
		case float64:
			f = float32(x)
		default:
			return bad()
		}
		b := math.Float32bits(f)
		e.buf = append(e.buf, byte(b), byte(b>>8), byte(b>>16), byte(b>>24))
	case KF64:
		f, ok := asFloat64(v)
		if !ok {
			return bad()
		}
		b := math.Float64bits(f)
		e.buf = append(e.buf, byte(b), byte(b>>8), byte(b>>16), byte(b>>24), byte(b>>32), byte(b>>40), byte(b>>48), byte(b>>56))
	case KChar:
		r, ok := v.(rune)
		if !ok || !utf8.ValidRune(r) {
			if ok {
				return &TypeError{Want: t, Msg: fmt.Sprintf("%#x is not a Unicode scalar value", r)}
			}
			return bad()
		}
		e.buf = utf8.AppendRune(e.buf, r)
	case KString:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if !utf8.ValidString(s) {
			return &TypeError{Want: t, Msg: "string is not valid UTF-8"}
		}
		if uint64(len(s)) > math.MaxUint32 {
			return &TypeError{Want: t, Msg: "string is longer than 4 GiB"}
		}
		e.buf = AppendUleb(e.buf, uint64(len(s)))
		e.buf = append(e.buf, s...)
	case KList:
		return e.list(t, v, path)
	case KRecord, KTuple:
		fs, ok := v.([]Value)
		if !ok || len(fs) != len(t.Fields) {
			if ok {
				return &TypeError{Want: t, Msg: fmt.Sprintf("expected %d fields, got %d", len(t.Fields), len(fs))}
			}
			return bad()
		}
		for i, f := range t.Fields {
			if err := e.value(f.Type, fs[i], asyncSub(path, i, f.Type)); err != nil {
				return fieldErr(err, t, i)
			}
		}
	case KVariant:
		vv, ok := v.(VariantValue)
		if !ok {
			return bad()
		}
		if int(vv.Case) >= len(t.Cases) {
			return &TypeError{Want: t, Msg: fmt.Sprintf("case %d out of range (%d cases)", vv.Case, len(t.Cases))}
		}
		e.buf = AppendUleb(e.buf, uint64(vv.Case))
		c := t.Cases[vv.Case]
		if c.Type == nil {
			if vv.Value != nil {
				return &TypeError{Want: t, Msg: fmt.Sprintf("case %s has no payload, got %T", c.Name, vv.Value)}
			}
			return nil
		}
		if err := e.value(c.Type, vv.Value, path); err != nil {
			return prefixErr(err, c.Name)
		}
	case KEnum:
		u, ok := unsignedIn(v, 32)
		if !ok {
			return bad()
		}
		if u >= uint64(len(t.Labels)) {
			return &TypeError{Want: t, Msg: fmt.Sprintf("enum case %d out of range (%d cases)", u, len(t.Labels))}
		}
		e.buf = AppendUleb(e.buf, u)
	case KOption:
		o, ok := v.(OptionValue)
		if !ok {
			return bad()
		}
		if !o.IsSome {
			e.buf = append(e.buf, 0)
			return nil
		}
		e.buf = append(e.buf, 1)
		return prefixErr(e.value(t.Elem, o.Value, path), "some")
	case KResult:
		r, ok := v.(ResultValue)
		if !ok {
			return bad()
		}
		side, name := t.Ok, "ok"
		if r.IsErr {
			side, name = t.Err, "err"
			e.buf = append(e.buf, 1)
		} else {
			e.buf = append(e.buf, 0)
		}
		if side == nil {
			if r.Value != nil {
				return &TypeError{Want: t, Msg: fmt.Sprintf("%s has no payload, got %T", name, r.Value)}
			}
			return nil
		}
		return prefixErr(e.value(side, r.Value, path), name)
	case KFlags:
		n := len(t.Labels)
		if n > 32 {
			return &TypeError{Want: t, Msg: "flags with more than 32 labels"}
		}
		u, ok := unsignedIn(v, 32)
		if !ok {
			return bad()
		}
		if n < 32 && u>>uint(n) != 0 {
			return &TypeError{Want: t, Msg: fmt.Sprintf("flags value %#x sets bits beyond the %d labels", u, n)}
		}
		for i := 0; i < (n+7)/8; i++ {
			e.buf = append(e.buf, byte(u>>(8*i)))
		}
	case KOwn, KBorrow:
		var h []byte
		switch x := v.(type) {
		case Handle:
			h = x
		case []byte:
			h = x
		default:
			return bad()
		}
		e.buf = AppendUleb(e.buf, uint64(len(h)))
		e.buf = append(e.buf, h...)
	case KFuture:
		return e.future(t, v, path)
	case KStream:
		return e.stream(t, v, path)
	default:
		return &TypeError{Want: t, Msg: "unknown type kind " + t.Kind.String()}
	}
	return nil
}

// intBits is the width of an integer kind.
// asFloat64 reads a float32 or float64 value (either is accepted for f32 and f64).
func asFloat64(v Value) (float64, bool) {
	switch x := v.(type) {
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// integerOfKind converts an integer's bits to the Go type of its kind, s8 to u64 (a signed
// value's bits sign-extended, as readSleb and strconv.ParseInt give them).
var integerOfKind = [...]func(bits uint64) Value{
	KS8:  func(b uint64) Value { return int8(b) },
	KU8:  func(b uint64) Value { return uint8(b) },
	KS16: func(b uint64) Value { return int16(b) },
	KU16: func(b uint64) Value { return uint16(b) },
	KS32: func(b uint64) Value { return int32(b) },
	KU32: func(b uint64) Value { return uint32(b) },
	KS64: func(b uint64) Value { return int64(b) },
	KU64: func(b uint64) Value { return b },
}

func intBits(k Kind) uint {
	switch k {
	case KS8, KU8:
		return 8
	case KS16, KU16:
		return 16
	case KS32, KU32:
		return 32
	}
	return 64
}

func fieldErr(err error, t *Type, i int) error {
	name := t.Fields[i].Name
	if name == "" {
		name = fmt.Sprint(i)
	}
	return prefixErr(err, name)
}

func prefixErr(err error, name string) error {
	if err == nil {
		return nil
	}
	if te, ok := errors.AsType[*TypeError](err); ok {
		te.Path = joinPath(name, te.Path)
	}
	return err
}

func (e *encoder) list(t *Type, v Value, path []int) error {
	if t.Elem.Kind == KU8 {
		switch b := v.(type) {
		case []byte:
			e.buf = AppendUleb(e.buf, uint64(len(b)))
			e.buf = append(e.buf, b...)
			return nil
		case string: // the same bytes, without a copy to []byte first (header values)
			e.buf = AppendUleb(e.buf, uint64(len(b)))
			e.buf = append(e.buf, b...)
			return nil
		}
	}
	if t.Elem.Kind == KList && t.Elem.Elem.Kind == KU8 {
		if ss, ok := v.([]string); ok { // list<list<u8>> from strings (an http.Header's values)
			e.buf = AppendUleb(e.buf, uint64(len(ss)))
			for _, s := range ss {
				e.buf = AppendUleb(e.buf, uint64(len(s)))
				e.buf = append(e.buf, s...)
			}
			return nil
		}
	}
	if t.Elem.Kind == KString {
		if ss, ok := v.([]string); ok {
			e.buf = AppendUleb(e.buf, uint64(len(ss)))
			for i, s := range ss {
				if err := e.value(String, s, nil); err != nil {
					return prefixErr(err, fmt.Sprint(i))
				}
			}
			return nil
		}
	}
	xs, ok := v.([]Value)
	if !ok {
		return &TypeError{Want: t, Got: v}
	}
	if uint64(len(xs)) > math.MaxUint32 {
		return &TypeError{Want: t, Msg: "list has more than 2^32-1 elements"}
	}
	if t.Elem.hasAsync() {
		return &TypeError{Want: t, Msg: "futures and streams inside list elements are not supported (Rust peers cannot receive them either)"}
	}
	e.buf = AppendUleb(e.buf, uint64(len(xs)))
	for i, x := range xs {
		if err := e.value(t.Elem, x, nil); err != nil {
			return prefixErr(err, fmt.Sprint(i))
		}
	}
	return nil
}

// future writes "pending" inline and the value later on the future's own path.
func (e *encoder) future(t *Type, v Value, path []int) error {
	f, ok := v.(FutureValue)
	if !ok {
		return &TypeError{Want: t, Got: v}
	}
	if r, ok := f.(readyFuture); ok && !t.Elem.hasAsync() {
		// already resolved: "ready" inline (01 then the value), which every decoder accepts
		// (the Rust peers read a future like an option) and which saves its channel's messages
		e.buf = append(e.buf, 1)
		if t.Elem == nil {
			return nil
		}
		return prefixErr(e.value(t.Elem, r.v, path), "future")
	}
	e.buf = append(e.buf, 0)
	elem := t.Elem
	e.deferred = append(e.deferred, deferredWrite{path: path, run: func(ctx context.Context, w channelWriter) error {
		x, err := f.Await(ctx)
		if err != nil {
			return err
		}
		var inner encoder
		if elem != nil {
			if err := inner.value(elem, x, []int{}); err != nil {
				return err
			}
		}
		if err := w.Write(ctx, inner.buf); err != nil {
			return err
		}
		return runDeferred(ctx, w, inner.deferred)
	}})
	return nil
}

// byteChunk is the most a stream<u8> chunk carries (what upstream's blobstore uses).
const byteChunk = 64 << 10

// maxReadyBytes is the largest complete stream<u8> sent inline.
const maxReadyBytes = 256 << 10

// stream writes "pending" inline and the chunks later on the stream's own path.
func (e *encoder) stream(t *Type, v Value, path []int) error {
	if t.Elem != nil && t.Elem.Kind == KU8 {
		var r io.Reader
		switch x := v.(type) {
		case io.Reader:
			r = x
		case []byte:
			if len(x) > 0 && len(x) <= maxReadyBytes {
				// a complete, non-empty stream goes inline as a "ready" list (an empty list
				// would mean pending, so an empty stream still takes its channel)
				e.buf = AppendUleb(e.buf, uint64(len(x)))
				e.buf = append(e.buf, x...)
				return nil
			}
			if len(x) == 0 {
				// pending, and its channel carries only the closing chunk: sent with the
				// rest of the invocation, no goroutine waits on it
				e.buf = append(e.buf, 0)
				e.deferred = append(e.deferred, deferredWrite{path: path, data: endChunk})
				return nil
			}
			r = &sliceReader{b: x}
		default:
			return &TypeError{Want: t, Got: v}
		}
		e.buf = append(e.buf, 0)
		e.deferred = append(e.deferred, deferredWrite{path: path, run: func(ctx context.Context, w channelWriter) error {
			return writeByteStream(ctx, w, r)
		}})
		return nil
	}
	s, ok := v.(StreamValue)
	if !ok {
		return &TypeError{Want: t, Got: v}
	}
	if t.Elem.hasAsync() {
		return &TypeError{Want: t, Msg: "futures and streams inside stream elements are not supported"}
	}
	e.buf = append(e.buf, 0)
	elem := t.Elem
	e.deferred = append(e.deferred, deferredWrite{path: path, run: func(ctx context.Context, w channelWriter) error {
		for {
			chunk, err := s.Next(ctx)
			if len(chunk) > 0 {
				var c encoder
				c.buf = AppendUleb(c.buf, uint64(len(chunk)))
				for _, x := range chunk {
					if elem != nil {
						if err := c.value(elem, x, nil); err != nil {
							return err
						}
					}
				}
				if err := w.Write(ctx, c.buf); err != nil {
					return err
				}
			}
			if errors.Is(err, io.EOF) {
				return w.Write(ctx, []byte{0})
			}
			if err != nil {
				return err
			}
		}
	}})
	return nil
}

type sliceReader struct{ b []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// writeByteStream sends r as stream<u8> chunks (never an empty chunk before the end) and the
// closing 00 chunk.
func writeByteStream(ctx context.Context, w channelWriter, r io.Reader) error {
	if s, ok := r.(*sliceReader); ok && len(s.b) <= byteChunk {
		// all of it is here: one message with the chunk and the closing 00
		b := AppendUleb(make([]byte, 0, len(s.b)+6), uint64(len(s.b)))
		if len(s.b) > 0 {
			b = append(append(b, s.b...), 0)
		}
		return w.Write(ctx, b)
	}
	buf := make([]byte, 5+byteChunk)
	for {
		n, err := r.Read(buf[5:])
		if n > 0 {
			hdr := AppendUleb(buf[:0:5], uint64(n))
			start := 5 - len(hdr)
			copy(buf[start:], hdr)
			if werr := w.Write(ctx, buf[start:5+n]); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return w.Write(ctx, []byte{0})
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// endChunk is the closing chunk of a stream.
var endChunk = []byte{0}

// runDeferred runs the async writes of one encoding against w: writes at w's own path run in
// order on w; the others run concurrently, each on its own child channel, which is closed when
// its write ends (on failure too, so the reader sees the end).
func runDeferred(ctx context.Context, w channelWriter, ds []deferredWrite) error {
	if len(ds) == 0 {
		return nil
	}
	var errs chan error
	spawned := 0
	var first error
	for _, d := range ds {
		if len(d.path) == 0 {
			continue
		}
		cw := w.Index(d.path)
		if d.data != nil {
			// complete: written and closed here, no goroutine
			err := cw.Write(ctx, d.data)
			if cerr := cw.Close(); err == nil {
				err = cerr
			}
			if err != nil && first == nil {
				first = err
			}
			continue
		}
		if errs == nil {
			errs = make(chan error, len(ds))
		}
		spawned++
		go func() {
			err := d.run(ctx, cw)
			cerr := cw.Close()
			if err == nil {
				err = cerr
			}
			errs <- err
		}()
	}
	for _, d := range ds {
		if len(d.path) == 0 {
			if err := d.write(ctx, w); err != nil && first == nil {
				first = err
			}
		}
	}
	for i := 0; i < spawned; i++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
