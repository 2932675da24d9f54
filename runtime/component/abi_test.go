package component

import (
	"context"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/wasmlattice/wash/runtime/cabi"
)

type thing struct{ x uint32 }

var dropped int

func (t *thing) Drop() { dropped++ }

func echoHost() *cabi.HostInterface {
	same := func(_ context.Context, a []cabi.Value) (cabi.Value, error) { return a[0], nil }
	tuple := func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
		return append([]cabi.Value(nil), a...), nil
	}
	return &cabi.HostInterface{Name: "test:abi/host@0.1.0", Funcs: map[string]cabi.HostFunc{
		"prims": tuple, "strs": tuple, "opt": tuple, "rec": same, "var": same, "flags": same, "lrec": same,
		"spill": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
			var sum uint32
			for _, v := range a[:16] {
				sum += v.(uint32)
			}
			return sum + uint32(len(a[16].(string))), nil
		},
		"[constructor]thing": func(_ context.Context, a []cabi.Value) (cabi.Value, error) { return &thing{a[0].(uint32)}, nil },
		"[method]thing.get":  func(_ context.Context, a []cabi.Value) (cabi.Value, error) { return a[0].(*thing).x + 1, nil },
	}}
}

func compileGuest(t testing.TB, name string, reg *Registry) (*Program, wazero.Runtime) {
	t.Helper()
	ctx := context.Background()
	b, err := os.ReadFile("../testdata/guests/" + name)
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	p, err := Compile(ctx, rt, b, reg)
	if err != nil {
		t.Fatal(err)
	}
	return p, rt
}

// echoInstance instantiates the abi guest, its host imports answered by echoHost; the
// instance closes when the test ends.
func echoInstance(t *testing.T) *Instance {
	t.Helper()
	ctx := context.Background()
	p, _ := compileGuest(t, "abi.wasm", NewRegistry(echoHost()))
	inst, err := p.Instantiate(ctx, InstanceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = inst.Close(ctx) })
	return inst
}

func TestABIRoundTrip(t *testing.T) {
	ctx := context.Background()
	inst := echoInstance(t)
	const echo = "test:abi/echo@0.1.0"
	call := func(fn string, args ...cabi.Value) []cabi.Value {
		t.Helper()
		r, err := inst.Call(ctx, echo, fn, args...)
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		return r
	}
	check := func(fn string, want cabi.Value, args ...cabi.Value) {
		t.Helper()
		got := call(fn, args...)
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Errorf("%s: got %#v, want %#v", fn, got, want)
		}
	}
	prims := []cabi.Value{true, int8(-5), uint8(250), int16(-30000), uint16(65000), int32(-2000000000),
		uint32(4000000000), int64(math.MinInt64), uint64(math.MaxUint64), float32(1.5), math.Pi, cabi.Char('€')}
	check("prims", prims, prims...)
	check("strs", []cabi.Value{"héllo", []cabi.Value{"a", "", "ünï"}}, "héllo", []cabi.Value{"a", "", "ünï"})
	check("strs", []cabi.Value{"", []cabi.Value{}}, "", []cabi.Value{})
	rec := []cabi.Value{uint8(7), uint64(1 << 40), "rec", float32(-2.25)}
	check("rec", rec, rec)
	for _, v := range []cabi.VariantValue{
		{Case: 0, Value: uint32(0xdeadbeef)}, {Case: 1, Value: float32(3.5)}, {Case: 2, Value: uint64(1<<63 + 5)},
		{Case: 3, Value: "joined slots"}, {Case: 4},
	} {
		check("var", v, v)
	}
	for _, o := range []cabi.OptionValue{cabi.None(), cabi.Some(cabi.None()), cabi.Some(cabi.Some("deep"))} {
		for _, r := range []cabi.ResultValue{cabi.Ok([]byte{1, 2, 3}), cabi.Ok([]byte{}), cabi.Err(uint32(2))} {
			check("opt", []cabi.Value{o, r}, o, r)
		}
	}
	check("flags", uint32(0x5a5), uint32(0x5a5))
	check("flags", uint32(0x7ff), uint32(0xffff)) // bits past the 11 labels are dropped
	var spill []cabi.Value
	for i := 1; i <= 16; i++ {
		spill = append(spill, uint32(i))
	}
	check("spill", uint32(136+len("seventeen")), append(spill, "seventeen")...)
	lrec := []cabi.Value{[]cabi.Value{"a", uint16(1)}, []cabi.Value{"bb", uint16(65535)}}
	check("lrec", lrec, lrec)
	dropped = 0
	check("thing", uint32(42), uint32(41))
	if dropped != 1 {
		t.Errorf("host resource dropped %d times", dropped)
	}
	check("guest-res", uint32(99), uint32(99))
	if n := inst.Table().Len(); n != 0 {
		t.Errorf("%d handles left in the table", n)
	}
	before := call("posts")[0].(uint32)
	call("strs", "x", []cabi.Value{})
	if after := call("posts")[0].(uint32); after != before+1 {
		t.Errorf("post-return ran %d times", after-before)
	}
	// host values of the wrong shape fail the call, not the process
	if _, err := inst.Call(ctx, echo, "rec", "not a record"); err == nil {
		t.Error("bad host value accepted")
	}
	if _, err := inst.Call(ctx, echo, "prims", prims[:3]...); err == nil {
		t.Error("wrong arity accepted")
	}
	if _, err := inst.Call(ctx, echo, "nope"); err == nil || !strings.Contains(err.Error(), "no function") {
		t.Errorf("missing export: %v", err)
	}
}

func TestInvalidCharFromHost(t *testing.T) {
	ctx := context.Background()
	inst := echoInstance(t)
	args := []cabi.Value{true, int8(0), uint8(0), int16(0), uint16(0), int32(0), uint32(0), int64(0), uint64(0),
		float32(0), float64(0), cabi.Char(0xD800)}
	if _, err := inst.Call(ctx, "test:abi/echo@0.1.0", "prims", args...); err == nil || !strings.Contains(err.Error(), "invalid char") {
		t.Fatalf("surrogate char: %v", err)
	}
}

func TestUnsatisfiedImport(t *testing.T) {
	ctx := context.Background()
	p, _ := compileGuest(t, "abi.wasm", NewRegistry())
	if _, err := p.Instantiate(ctx, InstanceOptions{}); err == nil || !strings.Contains(err.Error(), "test:abi/host@0.1.0#prims") {
		t.Fatalf("got %v", err)
	}
	// supplied per instance instead
	inst, err := p.Instantiate(ctx, InstanceOptions{Registry: NewRegistry(echoHost())})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(ctx)
	if r, err := inst.Call(ctx, "test:abi/echo@0.1.1", "flags", uint32(1)); err != nil || r[0] != uint32(1) {
		t.Fatalf("%v %v", r, err)
	}
}

func TestCompatible(t *testing.T) {
	for _, c := range []struct {
		a, b string
		ok   bool
	}{
		{"wasi:io/streams@0.2.0", "wasi:io/streams@0.2.12", true},
		{"wasi:io/streams@0.2.0", "wasi:io/streams@0.3.0", false},
		{"wasi:io/streams@0.2.0", "wasi:io/poll@0.2.0", false},
		{"a:b/c@1.2.0", "a:b/c@1.9.1", true},
		{"a:b/c@1.2.0", "a:b/c@2.0.0", false},
		{"a:b/c@0.0.1", "a:b/c@0.0.2", false},
		{"wasi:keyvalue/store@0.2.0-draft", "wasi:keyvalue/store@0.2.0-draft", true},
		{"wasi:keyvalue/store@0.2.0-draft", "wasi:keyvalue/store@0.2.0-draft2", false},
		{"a:b/c", "a:b/c@1.0.0", false},
	} {
		if got := Compatible(c.a, c.b); got != c.ok {
			t.Errorf("Compatible(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
