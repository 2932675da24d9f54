package cabi

import (
	"strings"
	"testing"
)

func TestParseFuncAndCheck(t *testing.T) {
	s := MustScope(nil, "test:pkg/iface@1.0.0", `
		resource stream
		// a comment
		variant stream-error { failed(own<stream>), closed, }
		record point { x: s32, y: s32 }
		enum level { low, high }
		flags mode { read, write }
		type size = u64
	`)
	ft, err := ParseFunc(s, "func(self: borrow<stream>, n: size, p: point, l: level, m: mode) -> result<tuple<list<u8>, option<string>>, stream-error>")
	if err != nil {
		t.Fatal(err)
	}
	if got := funcString(ft); got != "func(borrow<test:pkg/iface@1.0.0#stream>, u64, record<s32, s32>, enum, flags) -> result<tuple<list<u8>, option<string>>, variant>" {
		t.Errorf("parsed as %s", got)
	}
	if err := CheckFunc(ft, ft); err != nil {
		t.Errorf("a type differs from itself: %v", err)
	}
	if s.Case("stream-error", "closed") != 1 || s.Case("level", "high") != 1 {
		t.Error("case indices")
	}
	// resources compare by their name within the interface (versions may differ)
	other := MustScope(nil, "test:pkg/iface@1.2.0", "resource stream")
	a, _ := ParseFunc(s, "func(s: own<stream>)")
	b, _ := ParseFunc(other, "func(s: stream)")
	if err := CheckFunc(a, b); err != nil {
		t.Errorf("same resource, other version: %v", err)
	}
	for _, c := range []struct{ want, got, why string }{
		{"func(a: u32)", "func(a: u32, b: u32)", "2 parameters, not 1"},
		{"func() -> u32", "func()", "0 results, not 1"},
		{"func(a: borrow<stream>)", "func(a: own<stream>)", "parameter 1: own<"},
		{"func() -> point", "func() -> record { x: s32 }", ""}, // not parseable: records are named
		{"func() -> level", "func() -> mode", "flags where enum is expected"},
		{"func() -> result<_, string>", "func() -> result<u8, string>", "result: ok: u8 where nothing is expected"},
	} {
		w, err := ParseFunc(s, c.want)
		if err != nil {
			t.Fatal(err)
		}
		g, err := ParseFunc(s, c.got)
		if c.why == "" {
			if err == nil {
				t.Errorf("%s parsed", c.got)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckFunc(w, g); err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s vs %s: %v, want %q", c.want, c.got, err, c.why)
		}
	}
	for _, bad := range []string{"", "fn()", "func(a u32)", "func(a: list<u8)", "func(a: nosuch)", "func() -> u32 u32", "func(a: own<u32>)"} {
		if _, err := ParseFunc(s, bad); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
