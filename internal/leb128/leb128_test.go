package leb128

import (
	"encoding/hex"
	"math"
	"testing"
)

func TestAppendSigned(t *testing.T) {
	for _, c := range []struct {
		v   int64
		hex string
	}{
		{0, "00"}, {-1, "7f"}, {63, "3f"}, {64, "c000"}, {-64, "40"}, {-65, "bf7f"},
		{-123456, "c0bb78"}, {math.MaxInt64, "ffffffffffffffffff00"}, {math.MinInt64, "8080808080808080807f"},
	} {
		if got := hex.EncodeToString(AppendSigned([]byte{}, c.v)); got != c.hex {
			t.Errorf("%d = %s, want %s", c.v, got, c.hex)
		}
	}
	if got := AppendSigned([]byte{0x41}, 5); len(got) != 2 || got[0] != 0x41 || got[1] != 5 {
		t.Errorf("appends after what b holds: %x", got)
	}
}
