package providers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Interface names of wasi:blobstore as wasmCloud 1.x components import them.
const (
	BlobstoreBlobstore = "wasi:blobstore/blobstore@0.2.0-draft"
	BlobstoreContainer = "wasi:blobstore/container@0.2.0-draft"
	BlobstoreTypes     = "wasi:blobstore/types@0.2.0-draft"
	// BlobstoreFS is the builtin name (wasmcloud+builtin://blobstore-fs).
	BlobstoreFS = "blobstore-fs"
)

// BlobstoreFSProvider is the built-in blobstore-fs provider. Each link from a component serves
// the directory named by the link's target config "root": containers are its directories,
// objects the files below them (an object name may hold '/'). Every access goes through an
// os.Root, so neither ".." nor a symlink can reach outside the root.
type BlobstoreFSProvider struct {
	configPerCall // the root is opened on first use (Open)
	mu            sync.Mutex
	roots         map[string]*BlobStore
}

// NewBlobstoreFS starts a blobstore-fs provider.
func NewBlobstoreFS() *BlobstoreFSProvider {
	return &BlobstoreFSProvider{roots: map[string]*BlobStore{}}
}

// Stop closes every open root.
func (p *BlobstoreFSProvider) Stop(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, s := range p.roots {
		_ = s.root.Close()
		delete(p.roots, k)
	}
	return nil
}

// OpenBlobstore serves a call through link (BlobstoreOpener).
func (p *BlobstoreFSProvider) OpenBlobstore(_ context.Context, link InterfaceLinkDefinition) (BlobBackend, error) {
	s, err := p.Open(link)
	if err != nil {
		return nil, err
	}
	return fsBackend{s}, nil
}

// Open returns the store for a link from a component to this provider: the directory named by
// the link's target config "root" (created when missing).
func (p *BlobstoreFSProvider) Open(link InterfaceLinkDefinition) (*BlobStore, error) {
	dir := configValue(link.TargetConfig, "root")
	if dir == "" {
		return nil, fmt.Errorf("blobstore-fs: the link from %s to %s has no \"root\" in its target config; add one naming the directory to serve", link.SourceID, link.Target)
	}
	return p.openRoot(dir)
}

func (p *BlobstoreFSProvider) openRoot(dir string) (*BlobStore, error) {
	dir = filepath.Clean(dir)
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.roots[dir]; ok {
		return s, nil
	}
	s, err := OpenBlobStore(dir)
	if err != nil {
		return nil, err
	}
	p.roots[dir] = s
	return s, nil
}

// BlobStore is a directory served as a blobstore.
type BlobStore struct {
	dir  string
	root *os.Root
}

// OpenBlobStore serves dir (created when missing).
func OpenBlobStore(dir string) (*BlobStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("blobstore-fs: creating root %s: %w", dir, err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("blobstore-fs: opening root %s: %w", dir, err)
	}
	return &BlobStore{dir: dir, root: r}, nil
}

// tmpPrefix marks files being written; they are invisible to list-objects.
const tmpPrefix = ".wash-blob-"

// containerPath checks a container name: one path element, no "." or "..".
func containerPath(name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
		return "", fmt.Errorf("invalid container name %q: use one path element without '/', '\\' or NUL", name)
	}
	return name, nil
}

// objectPath checks an object name (relative, '/'-separated, no empty, "." or ".." parts)
// and returns its path below the root.
func objectPath(container, object string) (string, error) {
	c, err := containerPath(container)
	if err != nil {
		return "", err
	}
	if object == "" || strings.ContainsAny(object, "\\\x00") || strings.HasPrefix(object, "/") {
		return "", fmt.Errorf("invalid object name %q: use a relative '/'-separated name", object)
	}
	for _, part := range strings.Split(object, "/") {
		if part == "" || part == "." || part == ".." || strings.HasPrefix(part, tmpPrefix) {
			return "", fmt.Errorf("invalid object name %q: no empty, \".\" or \"..\" parts", object)
		}
	}
	return c + "/" + object, nil
}

// fsErr turns a filesystem error into a message without the host's absolute paths.
func fsErr(what string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist", what)
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s already exists", what)
	case strings.Contains(err.Error(), "escapes from parent"):
		return fmt.Errorf("%s is outside the blobstore root (a symlink or \"..\" leads out)", what)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %s: %v", what, pe.Op, pe.Err)
	}
	return fmt.Errorf("%s: %v", what, err)
}

func (s *BlobStore) containerDir(name string) error {
	c, err := containerPath(name)
	if err != nil {
		return err
	}
	fi, err := s.root.Stat(c)
	if err != nil {
		return fsErr(fmt.Sprintf("container %q", name), err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("container %q is not a directory", name)
	}
	return nil
}

// CreateContainer makes an empty container.
func (s *BlobStore) CreateContainer(name string) error {
	c, err := containerPath(name)
	if err != nil {
		return err
	}
	if err := s.root.Mkdir(c, 0o755); err != nil {
		return fsErr(fmt.Sprintf("container %q", name), err)
	}
	return nil
}

// ContainerExists reports whether the container is there.
func (s *BlobStore) ContainerExists(name string) (bool, error) {
	err := s.containerDir(name)
	if err == nil {
		return true, nil
	}
	if _, statErr := s.root.Stat(name); errors.Is(statErr, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}

// DeleteContainer removes a container and everything in it.
func (s *BlobStore) DeleteContainer(name string) error {
	if err := s.containerDir(name); err != nil {
		return err
	}
	if err := s.root.RemoveAll(name); err != nil {
		return fsErr(fmt.Sprintf("container %q", name), err)
	}
	return nil
}

// ContainerInfo is the container's name and creation time (its directory's mtime, seconds).
func (s *BlobStore) ContainerInfo(name string) (uint64, error) {
	if err := s.containerDir(name); err != nil {
		return 0, err
	}
	fi, err := s.root.Stat(name)
	if err != nil {
		return 0, fsErr(fmt.Sprintf("container %q", name), err)
	}
	return uint64(max(fi.ModTime().Unix(), 0)), nil
}

// Read returns bytes start..end (inclusive, clamped to the object) of an object.
func (s *BlobStore) Read(container, object string, start, end uint64) ([]byte, error) {
	p, err := objectPath(container, object)
	if err != nil {
		return nil, err
	}
	if err := s.containerDir(container); err != nil {
		return nil, err
	}
	f, err := s.root.Open(p)
	if err != nil {
		return nil, fsErr(fmt.Sprintf("object %q in container %q", object, container), err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		return nil, fmt.Errorf("object %q in container %q is not a file", object, container)
	}
	size := uint64(fi.Size())
	if size == 0 || start >= size || start > end {
		return []byte{}, nil
	}
	end = min(end, size-1)
	buf := make([]byte, end-start+1)
	n, err := f.ReadAt(buf, int64(start))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fsErr(fmt.Sprintf("object %q in container %q", object, container), err)
	}
	return buf[:n], nil
}

// Write creates or replaces an object; the data appears at once (temp file, then rename).
func (s *BlobStore) Write(container, object string, data []byte) error {
	return s.WriteFrom(container, object, bytes.NewReader(data))
}

// WriteFrom streams r into an object; readers see the old or the new object, never part of
// it (a temporary file renamed into place once r is done).
func (s *BlobStore) WriteFrom(container, object string, r io.Reader) error {
	p, err := objectPath(container, object)
	if err != nil {
		return err
	}
	if err := s.containerDir(container); err != nil {
		return err
	}
	what := fmt.Sprintf("object %q in container %q", object, container)
	if dir := path.Dir(p); dir != container {
		if err := s.root.MkdirAll(dir, 0o755); err != nil {
			return fsErr(what, err)
		}
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(path.Dir(p), tmpPrefix+path.Base(p)+"-"+hex.EncodeToString(rnd[:]))
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fsErr(what, err)
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.root.Rename(tmp, p)
	}
	if err != nil {
		_ = s.root.Remove(tmp)
		return fsErr(what, err)
	}
	return nil
}

// Delete removes an object; a missing object is no error.
func (s *BlobStore) Delete(container, object string) error {
	p, err := objectPath(container, object)
	if err != nil {
		return err
	}
	if err := s.containerDir(container); err != nil {
		return err
	}
	if err := s.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fsErr(fmt.Sprintf("object %q in container %q", object, container), err)
	}
	return nil
}

// Stat is an object's size and creation time (mtime, seconds); ok is false when it is absent.
func (s *BlobStore) Stat(container, object string) (size, created uint64, ok bool, err error) {
	p, err := objectPath(container, object)
	if err != nil {
		return 0, 0, false, err
	}
	if err := s.containerDir(container); err != nil {
		return 0, 0, false, err
	}
	fi, err := s.root.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fsErr(fmt.Sprintf("object %q in container %q", object, container), err)
	}
	if fi.IsDir() {
		return 0, 0, false, nil
	}
	return uint64(fi.Size()), uint64(max(fi.ModTime().Unix(), 0)), true, nil
}

// List returns the container's object names, sorted.
func (s *BlobStore) List(container string) ([]string, error) {
	if err := s.containerDir(container); err != nil {
		return nil, err
	}
	var out []string
	err := fs.WalkDir(s.root.FS(), container, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), tmpPrefix) {
			return nil
		}
		out = append(out, strings.TrimPrefix(p, container+"/"))
		return nil
	})
	if err != nil {
		return nil, fsErr(fmt.Sprintf("listing container %q", container), err)
	}
	slices.Sort(out)
	return out, nil
}

// Clear removes every object of a container.
func (s *BlobStore) Clear(container string) error {
	if err := s.containerDir(container); err != nil {
		return err
	}
	entries, err := fs.ReadDir(s.root.FS(), container)
	if err != nil {
		return fsErr(fmt.Sprintf("container %q", container), err)
	}
	for _, e := range entries {
		if err := s.root.RemoveAll(container + "/" + e.Name()); err != nil {
			return fsErr(fmt.Sprintf("container %q", container), err)
		}
	}
	return nil
}

// Copy duplicates an object; the destination container must exist.
func (s *BlobStore) Copy(srcC, srcO, dstC, dstO string) error {
	data, err := s.Read(srcC, srcO, 0, ^uint64(0))
	if err != nil {
		return err
	}
	return s.Write(dstC, dstO, data)
}

// Move renames an object; the destination container must exist.
func (s *BlobStore) Move(srcC, srcO, dstC, dstO string) error {
	src, err := objectPath(srcC, srcO)
	if err != nil {
		return err
	}
	dst, err := objectPath(dstC, dstO)
	if err != nil {
		return err
	}
	if err := s.containerDir(srcC); err != nil {
		return err
	}
	if err := s.containerDir(dstC); err != nil {
		return err
	}
	what := fmt.Sprintf("object %q in container %q", srcO, srcC)
	if _, err := s.root.Stat(src); err != nil {
		return fsErr(what, err)
	}
	if dir := path.Dir(dst); dir != dstC {
		if err := s.root.MkdirAll(dir, 0o755); err != nil {
			return fsErr(what, err)
		}
	}
	if err := s.root.Rename(src, dst); err != nil {
		return fsErr(what, err)
	}
	return nil
}
