package linmem

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tetratelabs/wazero/experimental"
)

func image(t *testing.T, size uint64, data []byte) *Image {
	t.Helper()
	im, err := NewImage(size, data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(im.Close)
	return im
}

// pattern is data that is not all zero on any page.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	return b
}

func both(t *testing.T, f func(t *testing.T, heap bool)) {
	for _, heap := range []bool{false, true} {
		name := "mapped"
		if heap {
			name = "heap"
		}
		t.Run(name, func(t *testing.T) { f(t, heap) })
	}
}

func TestImageLayoutGrowAndReset(t *testing.T) {
	both(t, func(t *testing.T, heap bool) {
		data := pattern(3*PageSize + 100)
		im := image(t, 4*PageSize, data)
		a := &Allocator{Next: im, Heap: heap}
		m := a.Allocate(0, 16*PageSize)
		b := m.Reallocate(4 * PageSize)
		if a.Err() != nil || len(b) != 4*PageSize || !bytes.Equal(b[:len(data)], data) || !allZero(b[len(data):]) {
			t.Fatalf("initial memory is not the image: err %v", a.Err())
		}
		a.MarkBaseline()
		// writes everywhere, then reset: the image again
		for i := 0; i < len(b); i += 4096 {
			b[i] ^= 0xff
		}
		b[len(b)-1] = 9
		if !a.Reset() {
			t.Fatal("reset refused")
		}
		if !bytes.Equal(b[:len(data)], data) || !allZero(b[len(data):]) {
			t.Fatal("reset did not restore the image")
		}
		// a second round keeps working (written pages are now this memory's own)
		b[10], b[5*4096+3] = 1, 2
		if !a.Reset() || !bytes.Equal(b[:len(data)], data) {
			t.Fatal("second reset")
		}
		// growth keeps the contents and does not move the memory
		g := m.Reallocate(6 * PageSize)
		if &g[0] != &b[0] && !heap {
			t.Fatal("mapped memory moved when it grew")
		}
		if !bytes.Equal(g[:len(data)], data) || !allZero(g[len(data):]) {
			t.Fatal("growth changed contents")
		}
		// a grown memory cannot be reset (its size cannot shrink back)
		if a.Reset() {
			t.Fatal("reset of a grown memory")
		}
		m.Free()
		m.Free() // idempotent
	})
}

// A snapshot image may be larger than the memory's declared initial size: it is laid out at
// once, and growing to its size shows it.
func TestImageLargerThanInitialSize(t *testing.T) {
	both(t, func(t *testing.T, heap bool) {
		data := pattern(5 * PageSize)
		a := &Allocator{Next: image(t, 5*PageSize, data), Heap: heap}
		m := a.Allocate(0, 8*PageSize)
		m.Reallocate(2 * PageSize)
		b := m.Reallocate(5 * PageSize)
		if !bytes.Equal(b, data) {
			t.Fatal("grown memory does not show the rest of the image")
		}
		m.Free()
	})
}

func TestCapAndBudget(t *testing.T) {
	both(t, func(t *testing.T, heap bool) {
		bud := NewBudget(10 * PageSize)
		a := &Allocator{Max: 4 * PageSize, Budget: bud, Heap: heap}
		m := a.Allocate(0, 100*PageSize)
		if m.Reallocate(3*PageSize) == nil || bud.Used() != 3*PageSize {
			t.Fatalf("used %d", bud.Used())
		}
		if m.Reallocate(5*PageSize) != nil {
			t.Fatal("grew past the per-memory cap")
		}
		if m.Reallocate(4*PageSize) == nil || bud.Used() != 4*PageSize {
			t.Fatal("growth to the cap")
		}
		b := &Allocator{Budget: bud, Heap: heap}
		if err := b.Reserve(7 * PageSize); err == nil {
			t.Fatal("reserve past the budget")
		} else if le := (*LimitError)(nil); !errors.As(err, &le) || !le.HostWide {
			t.Fatalf("error %v", err)
		}
		if err := b.Reserve(6 * PageSize); err != nil {
			t.Fatal(err)
		}
		m2 := b.Allocate(0, 100*PageSize)
		m2.Reallocate(6 * PageSize)
		b.Release()
		if bud.Used() != 10*PageSize || m2.Reallocate(7*PageSize) != nil {
			t.Fatalf("used %d; growth past the budget must fail", bud.Used())
		}
		// parked memories hold no budget
		b.Park()
		if bud.Used() != 4*PageSize {
			t.Fatalf("parked: used %d", bud.Used())
		}
		if err := b.Unpark(); err != nil || bud.Used() != 10*PageSize {
			t.Fatalf("unpark: %v %d", err, bud.Used())
		}
		m.Free()
		m2.Free()
		if bud.Used() != 0 || bud.Peak() != 10*PageSize {
			t.Fatalf("after free: used %d peak %d", bud.Used(), bud.Peak())
		}
		// an initial size past the cap is reported, not silently granted
		c := &Allocator{Max: PageSize, Heap: heap}
		m3 := c.Allocate(0, 10*PageSize)
		m3.Reallocate(2 * PageSize)
		if c.Err() == nil {
			t.Fatal("initial size past the cap accepted silently")
		}
		c.FreeFrom(0)
	})
}

func TestImageValidation(t *testing.T) {
	if _, err := NewImage(PageSize+1, nil); err == nil {
		t.Fatal("partial page accepted")
	}
	if _, err := NewImage(PageSize, make([]byte, PageSize+1)); err == nil {
		t.Fatal("data larger than the memory accepted")
	}
	im := image(t, 2*PageSize, make([]byte, 100)) // all zero: nothing to map
	if im.data != nil || !im.Matches(make([]byte, 2*PageSize)) || im.Matches(make([]byte, PageSize)) {
		t.Fatal("zero image")
	}
	var _ experimental.MemoryAllocator = &Allocator{}
}

// A reset after writes to many pages hands them all back instead of restoring them in place;
// the contents are the image either way.
func TestResetAfterManyWrites(t *testing.T) {
	data := pattern(PageSize)
	a := &Allocator{Next: image(t, 40*PageSize, data)}
	m := a.Allocate(0, 40*PageSize)
	b := m.Reallocate(40 * PageSize)
	a.MarkBaseline()
	for round := 0; round < 3; round++ {
		for i := range b {
			b[i] = byte(round + 1)
		}
		if !a.Reset() || !bytes.Equal(b[:len(data)], data) || !allZero(b[len(data):]) {
			t.Fatalf("round %d: reset", round)
		}
	}
	m.Free()
}
