// Package linmem provides the linear memories of wasm instances: memories that start from a
// prepared image (the module's data segments already applied) and are bounded per memory and
// host-wide.
//
// On Linux an image lives in a sealed memfd and every memory maps it privately
// (copy-on-write): creating a memory costs one mmap, and only the pages a guest writes get
// their own copy. Every memory reserves its maximum size of address space once, so growing
// never moves or copies it, and closing it hands its pages straight back to the kernel
// (munmap) instead of leaving garbage for the Go collector. On other Unix systems memories are
// mapped the same way but the image is copied in; elsewhere (Windows) they are Go byte slices.
//
// wazero asks for memories through experimental.MemoryAllocator; Allocator implements it for
// one instantiation at a time.
package linmem

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// PageSize is the wasm page size; images and reservations are whole pages.
const PageSize = 64 << 10

// Image is the initial contents of one linear memory: Size bytes, of which only the first
// len(data) may be non-zero. Safe for concurrent use; Close it when no memory uses it any more
// (memories already mapped keep their pages).
type Image struct {
	size uint64
	data []byte // trimmed to whole wasm pages; nil when the memory starts all zero
	m    imageMapping
}

// NewImage prepares an image of size bytes (a whole number of wasm pages) whose first bytes
// are data (copied; trailing zero pages are dropped).
func NewImage(size uint64, data []byte) (*Image, error) {
	if size%PageSize != 0 {
		return nil, fmt.Errorf("memory image size %d is not a whole number of wasm pages", size)
	}
	if uint64(len(data)) > size {
		return nil, fmt.Errorf("memory image data (%d bytes) exceeds its memory (%d bytes)", len(data), size)
	}
	end := len(data)
	for end > 0 && data[end-1] == 0 {
		end--
	}
	im := &Image{size: size}
	if end > 0 {
		n := (end + PageSize - 1) / PageSize * PageSize
		// where the image can live in a memfd, its data is a read-only view of it, so the
		// image is not kept twice (memfd and Go heap)
		view, err := im.m.open(data[:end], n)
		if err != nil {
			return nil, err
		}
		if view == nil {
			view = make([]byte, n)
			copy(view, data[:end])
		}
		im.data = view
	}
	return im, nil
}

// Matches reports whether b holds exactly the image (its data, then zeros).
func (im *Image) Matches(b []byte) bool {
	if uint64(len(b)) != im.size || len(b) < len(im.data) || !bytes.Equal(b[:len(im.data)], im.data) {
		return false
	}
	for _, c := range b[len(im.data):] {
		if c != 0 {
			return false
		}
	}
	return true
}

// Size is the memory's initial size in bytes.
func (im *Image) Size() uint64 { return im.size }

// Close releases the image's backing (its memfd on Linux).
func (im *Image) Close() {
	if im != nil {
		im.m.close()
	}
}

// Budget bounds the linear memory of a whole host: the sum of the current sizes of every live
// memory allocated against it. A memory that would pass it fails to grow (memory.grow returns
// -1, as at the per-memory cap); one whose initial size would pass it fails instantiation.
// The zero limit means unbounded (sizes are still counted). Safe for concurrent use.
type Budget struct {
	limit uint64
	used  atomic.Uint64
	peak  atomic.Uint64
}

// NewBudget returns a budget of limit bytes (0: unbounded).
func NewBudget(limit uint64) *Budget { return &Budget{limit: limit} }

// Limit is the budget's bound in bytes (0: unbounded).
func (b *Budget) Limit() uint64 { return b.limit }

// Used is the total size of the live memories allocated against the budget.
func (b *Budget) Used() uint64 { return b.used.Load() }

// Peak is the highest Used seen.
func (b *Budget) Peak() uint64 { return b.peak.Load() }

func (b *Budget) take(n uint64) bool {
	if b == nil || n == 0 {
		return true
	}
	for {
		u := b.used.Load()
		if b.limit > 0 && u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			for p := b.peak.Load(); u+n > p && !b.peak.CompareAndSwap(p, u+n); p = b.peak.Load() {
			}
			return true
		}
	}
}

func (b *Budget) give(n uint64) {
	if b != nil && n > 0 {
		b.used.Add(^(n - 1))
	}
}

// Allocator makes the memories of one instantiation (wazero's experimental.MemoryAllocator).
// Set Next before instantiating a module that defines a memory with an image; the next
// memory allocated consumes it. Not safe for concurrent use: one instantiation at a time.
type Allocator struct {
	// Max caps each memory's size in bytes (0: only the module's own maximum).
	Max uint64
	// Budget, when set, bounds the sum over all memories of the host.
	Budget *Budget
	// Next is the image of the next memory allocated (nil: all zero).
	Next *Image
	// Heap makes the memories Go byte slices even where they could be mapped (the portable
	// path; tests compare the two).
	Heap bool

	reserved uint64 // taken from Budget by Reserve, spent by initial allocations
	err      error
	mems     []*memory
	parked   bool
}

// Reserve takes n bytes from the budget for the initial memories of the coming
// instantiation, so that it fails before any guest code runs rather than in the middle.
func (a *Allocator) Reserve(n uint64) error {
	if !a.Budget.take(n) {
		return &LimitError{Limit: a.Budget.Limit(), InUse: a.Budget.Used(), Asked: n, HostWide: true}
	}
	a.reserved += n
	return nil
}

// Release returns what Reserve took and the instantiation did not use.
func (a *Allocator) Release() {
	a.Budget.give(a.reserved)
	a.reserved = 0
}

// Err reports a memory whose initial allocation failed. wazero cannot fail an allocation, so
// the caller must turn this into an instantiation error.
func (a *Allocator) Err() error { return a.err }

// LimitError says which memory bound an allocation hit.
type LimitError struct {
	Limit, InUse, Asked uint64
	HostWide            bool
}

// ErrHostLimit matches (errors.Is) a LimitError of the host-wide budget.
var ErrHostLimit = errors.New("host memory limit reached")

// Is makes errors.Is(err, ErrHostLimit) true for host-wide limits.
func (e *LimitError) Is(target error) bool { return target == ErrHostLimit && e.HostWide }

func (e *LimitError) Error() string {
	if e.HostWide {
		return fmt.Sprintf("the host's linear memory limit of %d bytes is reached (%d in use, %d more needed)", e.Limit, e.InUse, e.Asked)
	}
	return fmt.Sprintf("the initial memory (%d bytes) exceeds the memory limit of %d bytes", e.Asked, e.Limit)
}

// Allocate implements experimental.MemoryAllocator.
func (a *Allocator) Allocate(capBytes, maxBytes uint64) experimental.LinearMemory {
	limit := maxBytes
	if a.Max > 0 && a.Max < limit {
		limit = a.Max
	}
	limit = limit / PageSize * PageSize
	im := a.Next
	a.Next = nil
	var impl backing
	if a.Heap {
		impl = &heapBacking{limit: limit, capHint: capBytes}
	} else {
		impl = newBacking(limit, capBytes)
	}
	m := &memory{owner: a, img: im, limit: limit, impl: impl}
	a.mems = append(a.mems, m)
	return m
}

// Count is how many memories the allocator has made; see FreeFrom.
func (a *Allocator) Count() int { return len(a.mems) }

// FreeFrom frees the memories made since Count returned mark. The engine does not free the
// memory of a module whose instantiation failed (a trapping start function, a data segment
// out of bounds); the caller does, since a mapping is not garbage collected.
func (a *Allocator) FreeFrom(mark int) {
	for _, m := range a.mems[mark:] {
		m.Free()
	}
}

// MarkBaseline records the current size of every memory as the size Reset restores.
func (a *Allocator) MarkBaseline() {
	for _, m := range a.mems {
		m.baseline = m.size
	}
}

// Reset returns every memory to its image, at its baseline size: pages written since are
// discarded (on Linux the kernel drops them; the image's pages come back from the memfd).
// It reports false, changing nothing, when a memory is no longer at its baseline size (the
// engine's view of a memory's size cannot shrink) or was freed.
func (a *Allocator) Reset() bool {
	for _, m := range a.mems {
		if m.state != 1 || m.size != m.baseline {
			return false
		}
	}
	for _, m := range a.mems {
		if !m.impl.reset(m.img, m.size) {
			return false
		}
	}
	return true
}

// Park returns the budget the memories hold while their instance waits unused (its pages
// were released by Reset). Unpark takes it again before the instance is used; it fails when
// the budget cannot cover it.
func (a *Allocator) Park() {
	if a.parked {
		return
	}
	a.parked = true
	for _, m := range a.mems {
		a.Budget.give(m.size)
	}
}

// Unpark: see Park.
func (a *Allocator) Unpark() error {
	if !a.parked {
		return nil
	}
	var total uint64
	for _, m := range a.mems {
		total += m.size
	}
	if !a.Budget.take(total) {
		return &LimitError{Limit: a.Budget.Limit(), InUse: a.Budget.Used(), Asked: total, HostWide: true}
	}
	a.parked = false
	return nil
}

// Size is the current total size of the allocator's memories in bytes.
func (a *Allocator) Size() uint64 {
	var total uint64
	for _, m := range a.mems {
		total += m.size
	}
	return total
}

// memory is the part of a LinearMemory shared by every platform: bounds and accounting.
type memory struct {
	owner *Allocator
	img   *Image
	limit uint64 // bytes; growth past it fails
	size  uint64 // bytes charged to the budget (unless the allocator is parked)
	state int    // 0 fresh, 1 live, 2 freed
	// baseline is the size Reset restores (set by MarkBaseline)
	baseline uint64
	impl     backing
}

// backing is the platform part: a reservation that grows in place, or a Go slice.
type backing interface {
	// grow makes the first size bytes usable (size only increases) and returns them; the
	// first call lays the image out.
	grow(img *Image, size uint64) ([]byte, bool)
	// reset makes the first size bytes equal the image followed by zeros again.
	reset(img *Image, size uint64) bool
	free()
}

// Reallocate implements experimental.LinearMemory: size never shrinks.
func (m *memory) Reallocate(size uint64) []byte {
	if m.state == 2 || size < m.size {
		return nil
	}
	start := m.state == 0
	m.state = 1
	more := size - m.size
	a := m.owner
	switch {
	case size > m.limit:
		if !start {
			return nil // memory.grow answers -1
		}
		a.fail(&LimitError{Limit: m.limit, Asked: size})
	case start && a.reserved >= more:
		a.reserved -= more
		m.size = size
	case a.Budget.take(more):
		m.size = size
	case !start:
		return nil
	default:
		a.fail(&LimitError{Limit: a.Budget.Limit(), InUse: a.Budget.Used(), Asked: more, HostWide: true})
	}
	if b, ok := m.impl.grow(m.img, size); ok {
		return b
	}
	if !start {
		a.Budget.give(more)
		m.size -= more
		return nil
	}
	// wazero cannot fail the first allocation; the caller fails the instantiation
	a.fail(fmt.Errorf("the system refused %d bytes of linear memory", size))
	m.impl.free()
	h := &heapBacking{limit: size}
	m.impl = h
	b, _ := h.grow(m.img, size)
	return b
}

func (a *Allocator) fail(err error) {
	if a.err == nil {
		a.err = err
	}
}

// Free implements experimental.LinearMemory.
func (m *memory) Free() {
	if m.state == 2 {
		return
	}
	m.state = 2
	m.impl.free()
	if !m.owner.parked {
		m.owner.Budget.give(m.size)
	}
	m.size = 0
}

// heapBacking is a Go byte slice, reallocated (and copied) as it grows: the portable fallback.
type heapBacking struct {
	limit, capHint uint64
	buf            []byte
}

func (h *heapBacking) grow(img *Image, size uint64) ([]byte, bool) {
	if h.buf == nil {
		// the whole image goes in, even past the initial size (see mmapBacking.grow)
		c := max(size, min(h.capHint, h.limit), imageLen(img))
		h.buf = make([]byte, size, c)
		if img != nil {
			copy(h.buf[:c], img.data)
		}
		return h.buf, true
	}
	if size <= uint64(cap(h.buf)) {
		// memories only grow, so bytes past the old length were never written: still zero
		h.buf = h.buf[:size]
		return h.buf, true
	}
	c := min(max(size, uint64(cap(h.buf))*2), max(h.limit, size))
	nb := make([]byte, size, c)
	copy(nb, h.buf)
	h.buf = nb
	return nb, true
}

func imageLen(img *Image) uint64 {
	if img == nil {
		return 0
	}
	return uint64(len(img.data))
}

func (h *heapBacking) reset(img *Image, size uint64) bool {
	b := h.buf[:size]
	clear(b)
	if img != nil {
		copy(b, img.data)
	}
	return true
}

func (h *heapBacking) free() { h.buf = nil }

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
