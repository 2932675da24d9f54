package oci

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wasmlattice/wash/internal/atomicfile"
)

// Cache is a content-addressed store of manifests and layers on disk:
//
//	<dir>/blobs/sha256/<hex>   every verified blob (manifests and layers alike)
//	<dir>/refs/<sha256(ref)>   JSON {"ref","digest","time"}: the manifest digest a tag resolved to
//
// Blobs are written to a temp file beside their place (atomicfile), checked against their digest and size, then renamed into
// place, so a reader never sees a partial blob and a failed download leaves nothing behind.
// A blob is hashed when first read by a process; later reads skip the hash while the file is
// the same one (device, inode, size and modification time unchanged) — this keeps a cached
// 10 MB pull at a few milliseconds. A corrupt blob is deleted and treated as a miss.
type Cache struct {
	dir string
	// verified maps a digest to the os.FileInfo of the blob file that last hashed correctly.
	verified sync.Map
}

// OpenCache creates (if needed) and opens a cache rooted at dir.
func OpenCache(dir string) (*Cache, error) {
	for _, d := range []string{"blobs/sha256", "refs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("opening OCI cache: %w", err)
		}
	}
	return &Cache{dir: dir}, nil
}

// Dir returns the cache root.
func (c *Cache) Dir() string { return c.dir }

// BlobPath is where the blob with digest d lives (whether or not it exists).
func (c *Cache) BlobPath(d digest.Digest) string {
	return filepath.Join(c.dir, "blobs", d.Algorithm().String(), d.Encoded())
}

// Has reports whether the blob is present (not verified).
func (c *Cache) Has(d digest.Digest) bool {
	if d.Validate() != nil {
		return false
	}
	_, err := os.Stat(c.BlobPath(d))
	return err == nil
}

// Read returns the blob's bytes after checking them against d. ok is false on a miss; a blob
// that no longer matches its digest is removed and reported as a miss.
func (c *Cache) Read(d digest.Digest) (b []byte, ok bool, err error) {
	if d.Validate() != nil {
		return nil, false, nil
	}
	f, err := os.Open(c.BlobPath(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading OCI cache: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("reading OCI cache: %w", err)
	}
	b = make([]byte, st.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, false, fmt.Errorf("reading OCI cache: %w", err)
	}
	if c.knownGood(d, st) {
		return b, true, nil
	}
	if d.Algorithm().FromBytes(b) != d {
		c.verified.Delete(d)
		_ = os.Remove(c.BlobPath(d))
		return nil, false, nil
	}
	c.verified.Store(d, st)
	return b, true, nil
}

// verify checks the blob file for d against d and size without holding it in memory. ok is
// false on a miss; a blob that no longer matches is removed and reported as a miss.
func (c *Cache) verify(d digest.Digest, size int64) (ok bool, err error) {
	if d.Validate() != nil {
		return false, nil
	}
	f, err := os.Open(c.BlobPath(d))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading OCI cache: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("reading OCI cache: %w", err)
	}
	if st.Size() != size {
		return false, nil // a different blob's size: fetch again (ingest replaces it)
	}
	if c.knownGood(d, st) {
		return true, nil
	}
	if err := copyVerified(io.Discard, f, d, size); err != nil {
		if !errors.Is(err, ErrDigestMismatch) {
			return false, fmt.Errorf("reading OCI cache: %w", err)
		}
		c.verified.Delete(d)
		_ = os.Remove(c.BlobPath(d))
		return false, nil
	}
	c.verified.Store(d, st)
	return true, nil
}

// knownGood reports whether st is the same file that last hashed to d in this process.
func (c *Cache) knownGood(d digest.Digest, st os.FileInfo) bool {
	v, ok := c.verified.Load(d)
	if !ok {
		return false
	}
	prev := v.(os.FileInfo)
	return os.SameFile(prev, st) && prev.Size() == st.Size() && prev.ModTime().Equal(st.ModTime())
}

// Ingest streams r into the cache, verifying that it has exactly size bytes (size < 0: any)
// and the digest d. Nothing is left behind on error.
func (c *Cache) Ingest(d digest.Digest, size int64, r io.Reader) (string, error) {
	return c.ingest(d, size, r, nil)
}

// ingest is Ingest that also copies the content to also (when not nil).
func (c *Cache) ingest(d digest.Digest, size int64, r io.Reader, also io.Writer) (string, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("%w: %v", ErrDigestMismatch, err)
	}
	dst := c.BlobPath(d)
	var fillErr error
	err := atomicfile.Write(dst, 0o600, func(w io.Writer) error {
		if also != nil {
			w = io.MultiWriter(w, also)
		}
		fillErr = copyVerified(w, r, d, size)
		return fillErr
	})
	if fillErr != nil {
		return "", fillErr
	}
	if err != nil {
		return "", fmt.Errorf("writing OCI cache: %w", err)
	}
	if st, err := os.Stat(dst); err == nil {
		c.verified.Store(d, st) // hashed while written
	}
	return dst, nil
}

// Put stores bytes already in memory; they are verified against d.
func (c *Cache) Put(d digest.Digest, b []byte) error {
	if c.Has(d) {
		return nil
	}
	_, err := c.Ingest(d, int64(len(b)), bytes.NewReader(b))
	return err
}

type refEntry struct {
	Ref    string    `json:"ref"`
	Digest string    `json:"digest"`
	Time   time.Time `json:"time"`
}

func (c *Cache) refPath(ref string) string {
	sum := sha256.Sum256([]byte(ref))
	return filepath.Join(c.dir, "refs", hex.EncodeToString(sum[:]))
}

// RefDigest returns the manifest digest ref last resolved to, if recorded.
func (c *Cache) RefDigest(ref string) (digest.Digest, bool) {
	b, err := os.ReadFile(c.refPath(ref))
	if err != nil {
		return "", false
	}
	var e refEntry
	if json.Unmarshal(b, &e) != nil || e.Ref != ref {
		return "", false
	}
	d := digest.Digest(e.Digest)
	return d, d.Validate() == nil
}

// SetRef records that ref resolved to manifest digest d (atomically). An unchanged record is
// not rewritten.
func (c *Cache) SetRef(ref string, d digest.Digest) error {
	if old, ok := c.RefDigest(ref); ok && old == d {
		return nil
	}
	b, _ := json.Marshal(refEntry{Ref: ref, Digest: d.String(), Time: time.Now().UTC()})
	if err := atomicfile.WriteFile(c.refPath(ref), b, 0o600); err != nil {
		return fmt.Errorf("writing OCI cache: %w", err)
	}
	return nil
}

// copyVerified copies r to w, failing with ErrDigestMismatch when the content does not hash to
// d or its length is not size.
func copyVerified(w io.Writer, r io.Reader, d digest.Digest, size int64) error {
	h := d.Algorithm().Hash()
	var src io.Reader = r
	if size >= 0 {
		// Read one byte past size to detect oversize content without reading it all.
		src = io.LimitReader(r, size+1)
	}
	// 1 MiB reads: a 10 MiB layer in tens of syscalls per writer instead of hundreds.
	n, err := io.CopyBuffer(io.MultiWriter(w, h), src, make([]byte, 1<<20))
	if err != nil {
		return err
	}
	if size >= 0 && n != size {
		return fmt.Errorf("%w: blob %s has %d bytes, the manifest says %d", ErrDigestMismatch, d, n, size)
	}
	if got := digest.NewDigest(d.Algorithm(), h); got != d {
		return fmt.Errorf("%w: blob content hashes to %s, expected %s", ErrDigestMismatch, got, d)
	}
	return nil
}
