package linmem

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxKeptPages bounds the written pages a reset memory keeps mapped (restored in place: 1 MiB
// with 4 KiB pages, what an idle recycled instance may hold); past
// it, a reset hands every page back to the kernel instead.
const maxKeptPages = 256

var pagemap struct {
	once sync.Once
	f    *os.File
}

// restoreWritten resets b to data followed by zeros by rewriting only the pages this process
// has its own copy of (written since they were mapped: /proc/self/pagemap shows them present
// and not file-backed), and keeps them mapped: the next call writes them again without a page
// fault, and pages only read stay mapped from the image. It reports false when the page map
// cannot be read or too many pages were written (the caller discards them instead).
func restoreWritten(b, data []byte, scratch *[]byte) bool {
	pagemap.once.Do(func() { pagemap.f, _ = os.Open("/proc/self/pagemap") })
	if pagemap.f == nil || len(b) == 0 {
		return false
	}
	ps := os.Getpagesize()
	base := uintptr(unsafe.Pointer(&b[0]))
	if base%uintptr(ps) != 0 || len(b)%ps != 0 {
		return false
	}
	n := len(b) / ps
	if cap(*scratch) < 8*n {
		*scratch = make([]byte, 8*n)
	}
	entries := (*scratch)[:8*n]
	if got, err := pagemap.f.ReadAt(entries, int64(base/uintptr(ps))*8); err != nil || got != len(entries) {
		return false
	}
	// a page is this memory's own when it is present and not the image's file page, or
	// swapped out (only private pages swap)
	own := func(e uint64) bool { return e&(1<<62) != 0 || (e&(1<<63) != 0 && e&(1<<61) == 0) }
	kept := 0
	for i := 0; i < n; i++ {
		if own(binary.LittleEndian.Uint64(entries[8*i:])) {
			kept++
		}
	}
	if kept > maxKeptPages {
		return false
	}
	for i := 0; i < n; i++ {
		if !own(binary.LittleEndian.Uint64(entries[8*i:])) {
			continue // not mapped, or still the image's (file) page
		}
		page := b[i*ps : (i+1)*ps]
		off := i * ps
		switch {
		case off+ps <= len(data):
			copy(page, data[off:off+ps])
		case off < len(data):
			copy(page, data[off:])
			clear(page[len(data)-off:])
		default:
			if !allZero(page) { // a read of a zero page maps the shared zero page: leave it
				clear(page)
			}
		}
	}
	return true
}

// discardPages drops the private pages of b: anonymous ones read as zero again, those of a
// private file mapping as the file's. The kernel frees them at once.
func discardPages(b []byte) bool {
	return unix.Madvise(b, unix.MADV_DONTNEED) == nil
}

// adviseReservation turns transparent huge pages off for a memory: instances are short-lived
// and touch few pages, and a 2 MiB page per first touch would cost more than it saves.
func adviseReservation(p unsafe.Pointer, n uint64) {
	_ = unix.Madvise(unsafe.Slice((*byte)(p), n), unix.MADV_NOHUGEPAGE)
}

// imageMapping holds an image in a sealed memfd that memories map privately, and a read-only
// shared view of it that resets copy pages from.
type imageMapping struct {
	fd1  int // memfd + 1; 0: none
	view []byte
}

// open writes data into a new memfd of n bytes (zero after data), seals it and returns a
// read-only view of it; nil (and no error) where memfds are not available.
func (im *imageMapping) open(data []byte, n int) ([]byte, error) {
	fd, err := unix.MemfdCreate("wash-memory-image", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, nil // no memfd (old kernel, seccomp): memories copy the image instead
	}
	fail := func(err error) ([]byte, error) {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("writing a memory image: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(n)); err != nil {
		return fail(err)
	}
	for off := 0; off < len(data); {
		w, err := unix.Pwrite(fd, data[off:], int64(off))
		if err != nil {
			return fail(err)
		}
		off += w
	}
	// nothing may change the image under the memories that map it
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE|unix.F_SEAL_SEAL); err != nil {
		return fail(err)
	}
	view, err := unix.Mmap(fd, 0, n, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return fail(err)
	}
	im.fd1, im.view = fd+1, view
	return view, nil
}

func (im *imageMapping) fd() int { return im.fd1 - 1 }

func (im *imageMapping) close() {
	if im.view != nil {
		_ = unix.Munmap(im.view)
		im.view = nil
	}
	if im.fd1 > 0 {
		_ = unix.Close(im.fd1 - 1)
		im.fd1 = 0
	}
}
