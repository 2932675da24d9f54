//go:build unix && !linux

package linmem

import "unsafe"

// discardPages: MADV_DONTNEED guarantees nothing here, so memories are cleared by copying.
func discardPages([]byte) bool { return false }

func restoreWritten([]byte, []byte, *[]byte) bool { return false }

func adviseReservation(unsafe.Pointer, uint64) {}

// imageMapping: no memfd here, so memories copy the image.
type imageMapping struct{}

func (imageMapping) open([]byte, int) ([]byte, error) { return nil, nil }
func (imageMapping) fd() int                          { return -1 }
func (imageMapping) close()                           {}
