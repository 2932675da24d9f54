// Package leb128 writes signed LEB128, which encoding/binary lacks (its AppendUvarint is the
// unsigned form; its AppendVarint is zigzag, not LEB128). Both wasm (i32.const immediates)
// and the wRPC value encoding use it.
package leb128

// AppendSigned appends the minimal signed LEB128 form of v.
func AppendSigned(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
