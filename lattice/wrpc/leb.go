package wrpc

import (
	"errors"
	"fmt"

	"github.com/wasmlattice/wash/internal/leb128"
)

// LEB128 as the Rust peers (wasm-tokio) write and read it: encoders emit the minimal form;
// decoders accept non-minimal padding but at most ceil(bits/7) bytes, with the unused high bits
// of the last byte zero.

// ErrOverflow is wrapped when a varint does not fit its type.
var ErrOverflow = errors.New("varint overflows its type")

// AppendUleb appends the unsigned LEB128 form of v.
func AppendUleb(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// AppendSleb appends the signed LEB128 form of v (minimal).
func AppendSleb(b []byte, v int64) []byte { return leb128.AppendSigned(b, v) }

// appendSigned writes a signed integer of the given width the way every Rust decoder accepts
// it (reference §2.8): canonical SLEB128, except for values below -2^(bits-1-k) that wasm-tokio
// rejects in that form; those go as the full-width unsigned bit pattern, which sign-extends
// back to the same value.
func appendSigned(b []byte, v int64, bits uint) []byte {
	maxBytes := (bits + 6) / 7
	// canonical SLEB of v uses n bytes; the decoder limits the last byte like the unsigned one
	enc := AppendSleb(nil, v)
	if uint(len(enc)) < maxBytes {
		return append(b, enc...)
	}
	// full-length form: check the last byte against the unsigned bound
	last := enc[len(enc)-1]
	bound := byte(1<<(bits-7*(maxBytes-1)) - 1)
	if last <= bound {
		return append(b, enc...)
	}
	mask := uint64(1)<<bits - 1
	if bits == 64 {
		mask = ^uint64(0)
	}
	return AppendUleb(b, uint64(v)&mask)
}

// byteSource is what the varint readers pull bytes from.
type byteSource interface {
	readByte() (byte, error)
}

// readUleb reads an unsigned varint of at most bits bits.
func readUleb(r byteSource, bits uint) (uint64, error) {
	if rr, ok := r.(*reader); ok && len(rr.buf) > 0 && rr.buf[0] < 0x80 && bits >= 7 {
		// the usual one-byte length or case index, without a call per byte
		c := rr.buf[0]
		rr.buf = rr.buf[1:]
		rr.used++
		return uint64(c), nil
	}
	maxBytes := (bits + 6) / 7
	var v uint64
	for i := uint(0); i < maxBytes; i++ {
		c, err := r.readByte()
		if err != nil {
			return 0, err
		}
		if i == maxBytes-1 {
			if c&0x80 != 0 || c > byte(1<<(bits-7*i)-1) {
				return 0, fmt.Errorf("u%d: %w", bits, ErrOverflow)
			}
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("u%d: %w", bits, ErrOverflow)
}

// readSleb reads a signed varint of at most ceil(bits/7) bytes, wrapping to the width: it
// accepts canonical SLEB128 and the full-width unsigned bit pattern Rust peers may send.
func readSleb(r byteSource, bits uint) (int64, error) {
	maxBytes := (bits + 6) / 7
	var v uint64
	var shift uint
	for i := uint(0); i < maxBytes; i++ {
		c, err := r.readByte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if i == maxBytes-1 {
				// the last byte may hold only the bits that are left, sign-extended
				rest := bits - 7*i    // value bits this byte may carry
				hi := int8(c<<1) >> 1 // sign-extend the 7 bits
				lo := -(int64(1) << (rest - 1))
				up := int64(1)<<rest - 1
				if int64(hi) < lo || int64(hi) > up {
					return 0, fmt.Errorf("s%d: %w", bits, ErrOverflow)
				}
			}
			if shift < 64 && c&0x40 != 0 {
				v |= ^uint64(0) << shift
			}
			return signExtend(v, bits), nil
		}
	}
	return 0, fmt.Errorf("s%d: %w", bits, ErrOverflow)
}

func signExtend(v uint64, bits uint) int64 {
	if bits == 64 {
		return int64(v)
	}
	s := 64 - bits
	return int64(v<<s) >> s
}
