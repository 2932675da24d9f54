package ctl

import (
	"maps"
	"slices"
)

// Pairs returns m as key=value strings in key order (how labels, constraints and annotations
// are shown), leaving out the keys skip reports (nil keeps them all).
func Pairs(m map[string]string, skip func(key string) bool) []string {
	out := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if skip == nil || !skip(k) {
			out = append(out, k+"="+m[k])
		}
	}
	return out
}
