package component

import (
	"strings"
	"testing"
)

// codeModule wraps function bodies (each: locals vector, then instructions ending in 0x0b) in
// a module with no other sections but code: enough for the scan.
func codeModule(bodies ...[]byte) []byte {
	var sized [][]byte
	for _, b := range bodies {
		sized = append(sized, append(uleb(uint64(len(b))), b...))
	}
	return append([]byte("\x00asm\x01\x00\x00\x00"), section(10, vec(sized...))...)
}

func uleb(v uint64) []byte {
	var out []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(out, c)
		}
		out = append(out, c|0x80)
	}
}

func TestScanCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		why  string // "" = resettable
	}{
		{"arithmetic", []byte{0, 0x41, 1, 0x41, 2, 0x6a, 0x1a, 0x0b}, ""},
		{"locals and blocks", []byte{1, 2, 0x7f, 0x02, 0x40, 0x20, 0, 0x0d, 0, 0x0b, 0x0b}, ""},
		{"memory ops", []byte{0, 0x41, 0, 0x28, 2, 8, 0x1a, 0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 8, 0, 0, 0x0b}, ""},
		{"br_table", []byte{0, 0x02, 0x40, 0x41, 0, 0x0e, 2, 0, 0, 0, 0x0b, 0x0b}, ""},
		{"simd const", append(append([]byte{0, 0xfd, 12}, make([]byte, 16)...), 0x1a, 0x0b), ""},
		{"table.set", []byte{0, 0x41, 0, 0xd0, 0x70, 0x26, 0, 0x0b}, "table.set"},
		{"table.grow", []byte{0, 0xd0, 0x70, 0x41, 1, 0xfc, 15, 0, 0x1a, 0x0b}, "table.grow"},
		{"data.drop", []byte{0, 0xfc, 9, 0, 0x0b}, "data.drop"},
		{"elem.drop", []byte{0, 0xfc, 13, 0, 0x0b}, "elem.drop"},
		{"table.init", []byte{0, 0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 12, 0, 0, 0x0b}, "table.init"},
		{"unknown opcode", []byte{0, 0xfb, 0, 0x0b}, "code not understood"},
		{"truncated", []byte{0, 0x41}, "code not understood"},
	} {
		f := scanCode(codeModule(tc.body))
		if tc.why == "" {
			if !f.resettable {
				t.Errorf("%s: not resettable: %s", tc.name, f.why)
			}
		} else if f.resettable || !strings.Contains(f.why, tc.why) {
			t.Errorf("%s: %+v, want %q", tc.name, f, tc.why)
		}
	}
}
