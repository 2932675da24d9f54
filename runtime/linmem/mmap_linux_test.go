package linmem

import (
	"testing"

	"golang.org/x/sys/unix"
)

// On Linux an image lives in a sealed memfd: memories map it, nothing can write it.
func TestImageIsSealedMemfd(t *testing.T) {
	im := image(t, PageSize, pattern(100))
	fd := im.m.fd()
	if fd < 0 {
		t.Fatal("image has no memfd")
	}
	if _, err := unix.Pwrite(fd, []byte{1}, 0); err == nil {
		t.Fatal("the image's memfd is writable")
	}
	a := &Allocator{Next: im}
	m := a.Allocate(0, PageSize)
	b := m.Reallocate(PageSize)
	b[0] = 0xee // copy-on-write: the image keeps its byte
	other := (&Allocator{Next: im}).Allocate(0, PageSize)
	if o := other.Reallocate(PageSize); o[0] != 1 {
		t.Fatalf("a write to one memory reached another: %#x", o[0])
	}
	m.Free()
	other.Free()
}
