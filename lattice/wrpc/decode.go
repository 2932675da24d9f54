package wrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"unicode/utf8"
)

// DefaultMaxValueBytes bounds what one decode may hold in memory: the params or results of one
// invocation, or one chunk of a stream. Each decoded value also counts 16 bytes, so a long list
// of empty tuples cannot exhaust memory either.
const DefaultMaxValueBytes = 64 << 20

const valueCost = 16

var (
	// ErrIncomplete is wrapped when a channel ends (or the peer gave up) before a complete value.
	ErrIncomplete = errors.New("the channel ended before a complete value")
	// ErrTooLarge is wrapped when a value exceeds the decode limit.
	ErrTooLarge = errors.New("value exceeds the decode limit")
)

// interned holds decoded strings that are common enough to share one boxed Value (each other
// decoded string costs two allocations: its bytes and its box). Filled by InternStrings during
// package initialisation only, read-only afterwards.
var interned = map[string]Value{}

const maxInterned = 32

// InternStrings makes decoded strings equal to one of ss share one Value instead of allocating
// (wrpchttp registers the common header names). Call it only from a package's init.
func InternStrings(ss ...string) {
	for _, s := range ss {
		if len(s) <= maxInterned && utf8.ValidString(s) {
			interned[s] = Value(s)
		}
	}
}

// reader is one incoming channel as a byte source: buffered bytes, then messages pulled on
// demand (pull returns io.EOF at the end of the channel).
type reader struct {
	buf    []byte
	pull   func(ctx context.Context) ([]byte, error)
	ctx    context.Context
	budget int64
	eof    bool
	used   int64 // bytes consumed, for error offsets
}

func newBytesReader(b []byte, limit int64) *reader {
	return &reader{buf: b, ctx: context.Background(), budget: limit}
}

func (r *reader) fill() error {
	for len(r.buf) == 0 {
		if r.eof || r.pull == nil {
			return ErrIncomplete
		}
		ctx := r.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		b, err := r.pull(ctx)
		if errors.Is(err, io.EOF) {
			r.eof = true
			return ErrIncomplete
		}
		if err != nil {
			return err
		}
		r.buf = b
	}
	return nil
}

func (r *reader) readByte() (byte, error) {
	if len(r.buf) == 0 {
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	c := r.buf[0]
	r.buf = r.buf[1:]
	r.used++
	return c, nil
}

func (r *reader) charge(n int64) error {
	r.budget -= n
	if r.budget < 0 {
		return ErrTooLarge
	}
	return nil
}

// take returns exactly n bytes; the slice may alias a received message (never written to).
func (r *reader) take(n int) ([]byte, error) {
	if len(r.buf) >= n {
		b := r.buf[:n:n]
		r.buf = r.buf[n:]
		r.used += int64(n)
		return b, nil
	}
	out := make([]byte, 0, min(n, 64<<10))
	for len(out) < n {
		if len(r.buf) == 0 {
			if err := r.fill(); err != nil {
				return nil, err
			}
		}
		k := min(n-len(out), len(r.buf))
		out = append(out, r.buf[:k]...)
		r.buf = r.buf[k:]
		r.used += int64(k)
	}
	return out, nil
}

// atEOF reports whether the channel has ended with nothing left buffered (waiting for the
// next message if needed).
func (r *reader) atEOF() (bool, error) {
	if len(r.buf) > 0 {
		return false, nil
	}
	err := r.fill()
	if errors.Is(err, ErrIncomplete) && r.eof {
		return true, nil
	}
	return false, err
}

// asyncSource hands out the readers of async values' channels by absolute path (the same
// reader for the same path, so a future's value and a stream nested in it share buffering)
// and is told when a pending async value has been read to its end or abandoned.
type asyncSource interface {
	channel(path []int) (*reader, error)
	finished(path []int)
}

type decoder struct {
	r     *reader
	async asyncSource
	// pending counts async values decoded as pending (their data follows on their channels)
	pending int
}

// DecodeValue decodes one value of type t (without async parts) from b, which must hold
// exactly that value.
func DecodeValue(b []byte, t *Type) (Value, error) {
	d := decoder{r: newBytesReader(b, DefaultMaxValueBytes)}
	v, err := d.value(t, nil)
	if err != nil {
		return nil, err
	}
	if len(d.r.buf) != 0 {
		return nil, fmt.Errorf("%d bytes left after the value", len(d.r.buf))
	}
	return v, nil
}

// decodeTuple decodes one value per type from the root channel; async members are read from
// the channels the source hands out.
func (d *decoder) tuple(types []*Type, what string) ([]Value, error) {
	out := make([]Value, len(types))
	for i, t := range types {
		var p []int
		if t.hasAsync() {
			p = []int{i}
		}
		v, err := d.value(t, p)
		if err != nil {
			return nil, fmt.Errorf("%s %d (%s) at byte %d: %w", what, i, t, d.r.used, err)
		}
		out[i] = v
	}
	return out, nil
}

func (d *decoder) value(t *Type, path []int) (Value, error) {
	r := d.r
	if err := r.charge(valueCost); err != nil {
		return nil, err
	}
	switch t.Kind {
	case KBool:
		c, err := r.readByte()
		if err != nil {
			return nil, err
		}
		if c > 1 {
			return nil, fmt.Errorf("invalid bool byte %#02x", c)
		}
		return c == 1, nil
	case KU8:
		c, err := r.readByte()
		return c, err
	case KS8:
		c, err := r.readByte()
		return int8(c), err
	case KU16, KU32, KU64:
		u, err := readUleb(r, intBits(t.Kind))
		return integerOfKind[t.Kind](u), err
	case KS16, KS32, KS64:
		s, err := readSleb(r, intBits(t.Kind))
		return integerOfKind[t.Kind](uint64(s)), err
	case KF32:
		b, err := r.take(4)
		if err != nil {
			return nil, err
		}
		return math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24), nil
	case KF64:
		b, err := r.take(8)
		if err != nil {
			return nil, err
		}
		var u uint64
		for i := 7; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		return math.Float64frombits(u), nil
	case KChar:
		return readChar(r)
	case KString:
		b, err := d.bytes()
		if err != nil {
			return nil, err
		}
		if len(b) <= maxInterned {
			if v, ok := interned[string(b)]; ok { // no allocation for the lookup
				return v, nil
			}
		}
		if !utf8.Valid(b) {
			return nil, errors.New("string is not valid UTF-8")
		}
		return string(b), nil
	case KList:
		return d.list(t)
	case KRecord, KTuple:
		fs := make([]Value, len(t.Fields))
		for i, f := range t.Fields {
			v, err := d.value(f.Type, asyncSub(path, i, f.Type))
			if err != nil {
				return nil, err
			}
			fs[i] = v
		}
		return fs, nil
	case KVariant:
		c, err := readCase(r, "variant", len(t.Cases))
		if err != nil {
			return nil, err
		}
		vv := VariantValue{Case: c}
		if ct := t.Cases[c].Type; ct != nil {
			if vv.Value, err = d.value(ct, path); err != nil {
				return nil, err
			}
		}
		return vv, nil
	case KEnum:
		c, err := readCase(r, "enum", len(t.Labels))
		if err != nil {
			return nil, err
		}
		return c, nil
	case KOption:
		c, err := r.readByte()
		if err != nil {
			return nil, err
		}
		switch c {
		case 0:
			return OptionValue{}, nil
		case 1:
			v, err := d.value(t.Elem, path)
			if err != nil {
				return nil, err
			}
			return OptionValue{IsSome: true, Value: v}, nil
		}
		return nil, fmt.Errorf("invalid option status byte %#02x", c)
	case KResult:
		c, err := r.readByte()
		if err != nil {
			return nil, err
		}
		var side *Type
		switch c {
		case 0:
			side = t.Ok
		case 1:
			side = t.Err
		default:
			return nil, fmt.Errorf("invalid result status byte %#02x", c)
		}
		rv := ResultValue{IsErr: c == 1}
		if side != nil {
			if rv.Value, err = d.value(side, path); err != nil {
				return nil, err
			}
		}
		return rv, nil
	case KFlags:
		n := len(t.Labels)
		if n > 32 {
			return nil, errors.New("flags with more than 32 labels")
		}
		b, err := r.take((n + 7) / 8)
		if err != nil {
			return nil, err
		}
		var u uint32
		for i, x := range b {
			u |= uint32(x) << (8 * i)
		}
		if n < 32 && u>>uint(n) != 0 {
			return nil, fmt.Errorf("flags %#x set bits beyond the %d labels", u, n)
		}
		return u, nil
	case KOwn, KBorrow:
		b, err := d.bytes()
		if err != nil {
			return nil, err
		}
		return Handle(b), nil
	case KFuture:
		return d.future(t, path)
	case KStream:
		return d.stream(t, path)
	}
	return nil, fmt.Errorf("unknown type kind %s", t.Kind)
}

// bytes reads a length-prefixed byte string (string, list<u8>, resource handle).
func (d *decoder) bytes() ([]byte, error) {
	n, err := readUleb(d.r, 32)
	if err != nil {
		return nil, err
	}
	if err := d.r.charge(int64(n)); err != nil {
		return nil, err
	}
	return d.r.take(int(n))
}

func readChar(r *reader) (rune, error) {
	c, err := r.readByte()
	if err != nil {
		return 0, err
	}
	n := 1
	switch {
	case c < 0x80:
		return rune(c), nil
	case c&0xe0 == 0xc0:
		n = 2
	case c&0xf0 == 0xe0:
		n = 3
	case c&0xf8 == 0xf0:
		n = 4
	default:
		return 0, fmt.Errorf("invalid UTF-8 lead byte %#02x for char", c)
	}
	var b [4]byte
	b[0] = c
	for i := 1; i < n; i++ {
		if b[i], err = r.readByte(); err != nil {
			return 0, err
		}
	}
	ch, size := utf8.DecodeRune(b[:n])
	if ch == utf8.RuneError || size != n {
		return 0, errors.New("char is not valid UTF-8")
	}
	return ch, nil
}

func (d *decoder) list(t *Type) (Value, error) {
	if t.Elem.Kind == KU8 {
		return d.bytes()
	}
	n, err := readUleb(d.r, 32)
	if err != nil {
		return nil, err
	}
	if t.Elem.hasAsync() {
		return nil, errors.New("futures and streams inside list elements are not supported")
	}
	out := make([]Value, 0, min(n, 1024))
	for i := uint64(0); i < n; i++ {
		v, err := d.value(t.Elem, nil)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func (d *decoder) future(t *Type, path []int) (Value, error) {
	c, err := d.r.readByte()
	if err != nil {
		return nil, err
	}
	switch c {
	case 1: // ready: the value follows inline
		if t.Elem == nil {
			return Ready(nil), nil
		}
		v, err := d.value(t.Elem, path)
		if err != nil {
			return nil, err
		}
		return Ready(v), nil
	case 0:
	default:
		return nil, fmt.Errorf("invalid future status byte %#02x", c)
	}
	if d.async == nil || path == nil {
		return nil, errors.New("a pending future where no async channel was set up")
	}
	d.pending++
	return &remoteFuture{src: d.async, path: path, elem: t.Elem}, nil
}

func (d *decoder) stream(t *Type, path []int) (Value, error) {
	n, err := readUleb(d.r, 32)
	if err != nil {
		return nil, err
	}
	if t.Elem != nil && t.Elem.hasAsync() {
		return nil, errors.New("futures and streams inside stream elements are not supported")
	}
	bytesElem := t.Elem != nil && t.Elem.Kind == KU8
	if n > 0 { // a ready stream: all of its elements inline
		if bytesElem {
			if err := d.r.charge(int64(n)); err != nil {
				return nil, err
			}
			b, err := d.r.take(int(n))
			if err != nil {
				return nil, err
			}
			return &ByteStream{rest: b, ended: true}, nil
		}
		elems := make([]Value, 0, min(n, 1024))
		for i := uint64(0); i < n; i++ {
			var v Value
			if t.Elem != nil {
				if v, err = d.value(t.Elem, nil); err != nil {
					return nil, err
				}
			}
			elems = append(elems, v)
		}
		return StreamOf(elems...), nil
	}
	if d.async == nil || path == nil {
		return nil, errors.New("a pending stream where no async channel was set up")
	}
	d.pending++
	if bytesElem {
		return &ByteStream{src: d.async, path: path}, nil
	}
	return &remoteStream{src: d.async, path: path, elem: t.Elem}, nil
}

// remoteFuture is a future<T> whose value arrives on its own channel.
type remoteFuture struct {
	src  asyncSource
	path []int
	elem *Type

	once sync.Once
	v    Value
	err  error
}

// Await reads the value (once; later calls return the same).
func (f *remoteFuture) Await(ctx context.Context) (Value, error) {
	f.once.Do(func() {
		defer f.src.finished(f.path)
		r, err := f.src.channel(f.path)
		if err != nil {
			f.err = err
			return
		}
		r.ctx = ctx
		r.budget = DefaultMaxValueBytes
		if f.elem == nil {
			return
		}
		d := decoder{r: r, async: f.src}
		f.v, f.err = d.value(f.elem, f.path)
		if f.err != nil {
			f.err = fmt.Errorf("future at %v: %w", f.path, f.err)
		}
	})
	return f.v, f.err
}

// remoteStream is a stream<T> whose chunks arrive on its own channel.
type remoteStream struct {
	src  asyncSource
	path []int
	elem *Type
	done bool
}

// Next reads one chunk.
func (s *remoteStream) Next(ctx context.Context) ([]Value, error) {
	if s.done {
		return nil, io.EOF
	}
	r, err := s.src.channel(s.path)
	if err != nil {
		s.finish()
		return nil, err
	}
	r.ctx = ctx
	r.budget = DefaultMaxValueBytes
	n, err := readUleb(r, 32)
	if err != nil {
		s.finish()
		return nil, fmt.Errorf("stream at %v: %w", s.path, err)
	}
	if n == 0 {
		s.finish()
		return nil, io.EOF
	}
	d := decoder{r: r, async: s.src}
	out := make([]Value, 0, min(n, 1024))
	for i := uint64(0); i < n; i++ {
		var v Value
		if s.elem != nil {
			if v, err = d.value(s.elem, nil); err != nil {
				s.finish()
				return nil, fmt.Errorf("stream at %v: %w", s.path, err)
			}
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *remoteStream) finish() {
	if !s.done {
		s.done = true
		s.src.finished(s.path)
	}
}

// ByteStream is a received stream<u8>: an io.ReadCloser over its chunks. Read returns io.EOF
// after the closing chunk and io.ErrUnexpectedEOF (wrapped) if the channel ends before it.
type ByteStream struct {
	src  asyncSource
	path []int
	ctx  context.Context

	rest   []byte // ready streams: the inline bytes
	left   uint64 // bytes left in the current chunk
	ended  bool
	closed bool
	err    error
}

// WithContext bounds the waits of later Reads by ctx.
func (s *ByteStream) WithContext(ctx context.Context) *ByteStream {
	s.ctx = ctx
	return s
}

// Read reads stream bytes.
func (s *ByteStream) Read(p []byte) (int, error) {
	if s.src == nil { // ready stream
		if len(s.rest) == 0 {
			return 0, io.EOF
		}
		n := copy(p, s.rest)
		s.rest = s.rest[n:]
		return n, nil
	}
	if s.err != nil {
		return 0, s.err
	}
	if s.ended {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	r, err := s.src.channel(s.path)
	if err != nil {
		return 0, s.fail(err)
	}
	if s.ctx != nil {
		r.ctx = s.ctx
	}
	for s.left == 0 {
		n, err := readUleb(r, 32)
		if err != nil {
			return 0, s.fail(err)
		}
		if n == 0 {
			s.ended = true
			s.src.finished(s.path)
			return 0, io.EOF
		}
		s.left = n
	}
	if len(r.buf) == 0 {
		if err := r.fill(); err != nil {
			return 0, s.fail(err)
		}
	}
	k := min(uint64(len(p)), s.left, uint64(len(r.buf)))
	copy(p, r.buf[:k])
	r.buf = r.buf[k:]
	r.used += int64(k)
	s.left -= k
	return int(k), nil
}

func (s *ByteStream) fail(err error) error {
	if errors.Is(err, ErrIncomplete) {
		err = fmt.Errorf("byte stream at %v: %w (%w)", s.path, io.ErrUnexpectedEOF, err)
	}
	s.err = err
	if !s.closed {
		s.closed = true
		s.src.finished(s.path)
	}
	return err
}

// Close abandons the rest of the stream.
func (s *ByteStream) Close() error {
	if s.src != nil && !s.closed && !s.ended {
		s.closed = true
		s.src.finished(s.path)
	}
	if s.err == nil && !s.ended {
		s.err = errors.New("byte stream closed")
	}
	return nil
}

// readCase reads the discriminant of a variant or enum value of n cases.
func readCase(r byteSource, kind string, n int) (uint32, error) {
	c, err := readUleb(r, 32)
	if err != nil {
		return 0, err
	}
	if c >= uint64(n) {
		return 0, fmt.Errorf("%s case %d out of range (%d cases)", kind, c, n)
	}
	return uint32(c), nil
}
