//go:build unix

package linmem

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

func newBacking(limit, _ uint64) backing { return &mmapBacking{limit: limit} }

// mmapBacking reserves the memory's whole limit of address space (PROT_NONE, so nothing is
// committed) on first use and makes pages readable and writable as the memory grows, so the
// memory never moves. An image is mapped privately from its memfd (copy-on-write) where the
// platform has one, else copied in.
type mmapBacking struct {
	limit uint64
	base  unsafe.Pointer
	rw    uint64 // bytes from base that are readable and writable
	// scratch is reset's page-map buffer
	scratch []byte
}

func (m *mmapBacking) grow(img *Image, size uint64) ([]byte, bool) {
	if size > m.limit {
		return nil, false
	}
	if m.base == nil {
		if m.limit == 0 {
			return []byte{}, true
		}
		p, err := unix.MmapPtr(-1, 0, nil, uintptr(m.limit), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON)
		if err != nil {
			return nil, false
		}
		m.base = p
		adviseReservation(p, m.limit)
		// the whole image is laid out now, even past the initial size: an instance restored
		// from a snapshot grows into it right after instantiation
		if n := imageLen(img); n > 0 {
			if n > m.limit {
				return nil, false
			}
			if fd := img.m.fd(); fd >= 0 {
				if _, err := unix.MmapPtr(fd, 0, p, uintptr(n), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_FIXED); err != nil {
					return nil, false
				}
				m.rw = n
			} else {
				if !m.protect(n) {
					return nil, false
				}
				copy(unsafe.Slice((*byte)(p), n), img.data)
			}
		}
	}
	if !m.protect(size) {
		return nil, false
	}
	return unsafe.Slice((*byte)(m.base), size), true
}

func (m *mmapBacking) protect(size uint64) bool {
	if size <= m.rw {
		return true
	}
	b := unsafe.Slice((*byte)(unsafe.Add(m.base, m.rw)), size-m.rw)
	if err := unix.Mprotect(b, unix.PROT_READ|unix.PROT_WRITE); err != nil {
		return false
	}
	m.rw = size
	return true
}

func (m *mmapBacking) reset(img *Image, size uint64) bool {
	if m.base == nil || size == 0 {
		return true
	}
	b := unsafe.Slice((*byte)(m.base), size)
	var data []byte
	if img != nil {
		data = img.data
	}
	if restoreWritten(b, data, &m.scratch) {
		return true
	}
	if !discardPages(b) {
		clear(b)
	}
	// pages of a private file mapping came back from the file; copied images are copied again
	if len(data) > 0 && img.m.fd() < 0 {
		copy(b, data)
	}
	return true
}

func (m *mmapBacking) free() {
	if m.base != nil {
		_ = unix.MunmapPtr(m.base, uintptr(m.limit))
		m.base = nil
	}
}
