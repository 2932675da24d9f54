// Package atomicfile writes files so that a reader sees either the old content or the whole new
// one, never a part: the content goes to a temporary file in the destination's directory, which
// is synced, given its permissions and renamed over the destination. A failed write leaves the
// destination as it was and no temporary file behind.
//
// The parent directory must exist: callers create it with the permissions their data needs
// (the state directory is private, a build directory is not).
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes data to path with permissions perm.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write creates path with the content fill writes and permissions perm.
func Write(path string, perm os.FileMode, fill func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
