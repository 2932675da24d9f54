// Package bounded reads files and streams up to a size limit, so a hostile or mistaken source
// (/dev/zero, /dev/urandom, a huge download, a decompression bomb) costs at most the limit in
// memory and time, and the error names the source and the limit in one line.
package bounded

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// TooLargeError reports a source with more bytes than allowed.
type TooLargeError struct {
	Source string // what was read: a path, URL or name
	Limit  int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than the %s limit", e.Source, Size(e.Limit))
}

// ErrTooLarge matches every *TooLargeError with errors.Is.
var ErrTooLarge = errors.New("too large")

func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// ReadAll reads r to its end, failing with a *TooLargeError as soon as it yields more than limit
// bytes (it reads at most limit+1).
func ReadAll(r io.Reader, limit int64, source string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Source: source, Limit: limit}
	}
	return b, nil
}

// Reader passes r through until more than limit bytes have come out of it; then every Read
// fails with a *TooLargeError. Put it under a decompressor's consumer (a tar reader over gzip)
// to bound what an archive unpacks to, including entries the consumer skips.
func Reader(r io.Reader, limit int64, source string) io.Reader {
	return &capped{r: r, limit: limit, source: source}
}

type capped struct {
	r      io.Reader
	n      int64
	limit  int64
	source string
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n > c.limit {
		return 0, &TooLargeError{Source: c.source, Limit: c.limit}
	}
	if rest := c.limit + 1 - c.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return n, &TooLargeError{Source: c.source, Limit: c.limit}
	}
	return n, err
}

// ReadFile reads a file of at most limit bytes. Its size is checked first when the file says it
// (regular files), and the read is bounded anyway: devices, pipes and /proc files report no
// size, and a file may grow while it is read.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		if st.IsDir() {
			return nil, fmt.Errorf("%s is a directory, not a file", path)
		}
		if st.Mode().IsRegular() && st.Size() > limit {
			return nil, &TooLargeError{Source: path, Limit: limit}
		}
	}
	return ReadAll(f, limit, path)
}

// Size formats a byte count for people: "50 MiB", "1 GiB", "1500 bytes".
func Size(n int64) string {
	for _, u := range []struct {
		shift int
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	if n >= 10<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}
