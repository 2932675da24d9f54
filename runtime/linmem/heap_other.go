//go:build !unix

package linmem

func newBacking(limit, capHint uint64) backing {
	return &heapBacking{limit: limit, capHint: capHint}
}

type imageMapping struct{}

func (imageMapping) open([]byte, int) ([]byte, error) { return nil, nil }
func (imageMapping) fd() int                          { return -1 }
func (imageMapping) close()                           {}
