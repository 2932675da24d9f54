package cli

import (
	"errors"
	"strconv"
	"strings"
)

// byteUnits are the suffixes ParseBytes accepts (binary and decimal, case-insensitive).
var byteUnits = []struct {
	suffix string
	factor uint64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// ParseBytes reads a size: a number of bytes, optionally with a unit (KiB, MiB, GiB, TiB; KB,
// MB, GB, TB; K, M, G, T as binary units), e.g. "1073741824", "512MiB", "2G".
func ParseBytes(s string) (uint64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	factor := uint64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, factor = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.factor
			break
		}
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		return 0, errors.New("expected a number of bytes, optionally with a unit such as 512MiB or 2GiB")
	}
	if n > 0 && factor > ^uint64(0)/n {
		return 0, errors.New("too large")
	}
	return n * factor, nil
}
