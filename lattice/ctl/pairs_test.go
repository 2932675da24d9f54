package ctl

import (
	"slices"
	"strings"
	"testing"
)

func TestPairs(t *testing.T) {
	m := map[string]string{"zone": "eu", "hostcore.os": "linux", "app": "a=b"}
	if got := Pairs(m, nil); !slices.Equal(got, []string{"app=a=b", "hostcore.os=linux", "zone=eu"}) {
		t.Fatalf("Pairs = %q", got)
	}
	if got := Pairs(m, func(k string) bool { return strings.HasPrefix(k, "hostcore.") }); !slices.Equal(got, []string{"app=a=b", "zone=eu"}) {
		t.Fatalf("Pairs without hostcore.* = %q", got)
	}
	if got := Pairs(nil, nil); len(got) != 0 {
		t.Fatalf("Pairs(nil) = %q", got)
	}
}
