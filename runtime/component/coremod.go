package component

import (
	"encoding/binary"
	"fmt"
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
	defer func() {
		if x := recover(); x != nil {
			if de, ok := x.(*decodeError); ok {
				err = fmt.Errorf("invalid core module: %s", de.msg)
				return
			}
			panic(x)
		}
	}()
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
