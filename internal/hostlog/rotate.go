package hostlog

import (
	"fmt"
	"os"
	"strconv"
	"sync"
)

// Rotation defaults: a host log file grows to DefaultMaxBytes, then becomes <name>.1 (the
// previous .1 becomes .2, …) and a new <name> starts; DefaultKeep rotated files are kept.
const (
	DefaultMaxBytes = 10 << 20
	DefaultKeep     = 3
)

// RotatedName is the name of the n-th most recent rotated file of a log: host-N….log.1 is the
// newest, host-N….log.<keep> the oldest. `wash logs` reads them in that order.
func RotatedName(path string, n int) string { return path + "." + strconv.Itoa(n) }

// File is a log file that rotates by size. Writes are whole lines as the logger hands them;
// a line is never split across files.
type File struct {
	path     string
	maxBytes int64
	keep     int
	// afterRotate, when set, is called with the new file (the detached host points its
	// stdout and stderr at it, so panics and providers' output follow the rotation).
	afterRotate func(*os.File)

	mu   sync.Mutex
	f    *os.File
	size int64
}

// OpenFile opens (appending) or creates path, mode 0600, rotating once it exceeds maxBytes
// and keeping keep rotated files (keep 0: none, the log starts over).
func OpenFile(path string, maxBytes int64, keep int) (*File, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if keep < 0 {
		keep = 0
	}
	l := &File{path: path, maxBytes: maxBytes, keep: keep}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

// OnRotate registers fn, called with each new file after a rotation.
func (l *File) OnRotate(fn func(*os.File)) {
	l.mu.Lock()
	l.afterRotate = fn
	l.mu.Unlock()
}

func (l *File) open() error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening log %s: %w", l.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("opening log %s: %w", l.path, err)
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Write appends p, rotating first when p would take the file past its limit.
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.size > 0 && l.size+int64(len(p)) > l.maxBytes {
		if err := l.rotateLocked(); err != nil {
			// keep logging into the current file rather than lose lines
			fmt.Fprintf(l.f, "log rotation failed: %v\n", err)
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

func (l *File) rotateLocked() error {
	if err := l.f.Close(); err != nil {
		return err
	}
	if l.keep == 0 {
		_ = os.Remove(l.path)
	} else {
		_ = os.Remove(RotatedName(l.path, l.keep))
		for i := l.keep - 1; i >= 1; i-- {
			_ = os.Rename(RotatedName(l.path, i), RotatedName(l.path, i+1))
		}
		_ = os.Rename(l.path, RotatedName(l.path, 1))
	}
	if err := l.open(); err != nil {
		return err
	}
	if l.afterRotate != nil {
		l.afterRotate(l.f)
	}
	return nil
}

// Size is the current file's size.
func (l *File) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size
}

// Close closes the current file.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}
