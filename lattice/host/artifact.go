package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/wasmlattice/wash/runtime"
)

// MaxComponentSize mirrors WASMCLOUD_MAX_COMPONENT_SIZE.
const MaxComponentSize = 50 << 20

// RefKind classifies an image reference the way the host does.
type RefKind int

const (
	RefOCI RefKind = iota
	RefFile
	RefBuiltin
)

// ParseRef classifies a reference: file:///abs, wasmcloud+builtin://name, or OCI (oci://,
// http(s):// prefixes stripped; anything else taken as an OCI reference).
func ParseRef(ref string) (RefKind, string) {
	switch {
	case strings.HasPrefix(ref, "file://"):
		return RefFile, ref
	case strings.HasPrefix(ref, "wasmcloud+builtin://"):
		return RefBuiltin, strings.TrimPrefix(ref, "wasmcloud+builtin://")
	case strings.HasPrefix(ref, "oci://"):
		return RefOCI, strings.ToLower(strings.TrimPrefix(ref, "oci://"))
	case strings.HasPrefix(ref, "https://"):
		return RefOCI, strings.ToLower(strings.TrimPrefix(ref, "https://"))
	case strings.HasPrefix(ref, "http://"):
		return RefOCI, strings.ToLower(strings.TrimPrefix(ref, "http://"))
	}
	return RefOCI, strings.ToLower(ref)
}

// ErrOCIUnsupported is returned for OCI references until this host can pull them.
var ErrOCIUnsupported = errors.New("pulling from OCI registries is not supported by this host yet; use a file:// reference")

// fetchArtifact loads the bytes behind a reference.
func (h *Host) fetchArtifact(ctx context.Context, ref string) ([]byte, error) {
	kind, rest := ParseRef(ref)
	switch kind {
	case RefFile:
		if !h.cfg.AllowFileLoad {
			return nil, fmt.Errorf("unable to load %s: file loading is disabled (start the host with --allow-file-load)", ref)
		}
		u, err := url.Parse(ref)
		if err != nil || u.Path == "" {
			return nil, fmt.Errorf("invalid file reference %q: expected file:///absolute/path", ref)
		}
		st, err := os.Stat(u.Path)
		if err != nil {
			return nil, fmt.Errorf("unable to read %s: %w", u.Path, err)
		}
		if st.Size() > MaxComponentSize {
			return nil, fmt.Errorf("%s is %d bytes, over the %d-byte component size limit", u.Path, st.Size(), MaxComponentSize)
		}
		return os.ReadFile(u.Path)
	case RefBuiltin:
		return nil, fmt.Errorf("%s is a builtin provider, not a component", ref)
	}
	if strings.HasSuffix(rest, ":latest") && !h.cfg.AllowLatest {
		return nil, fmt.Errorf("fetching images tagged 'latest' is currently prohibited in this host. This option can be overridden with WASMCLOUD_OCI_ALLOW_LATEST (wash up --allow-latest)")
	}
	return nil, fmt.Errorf("%s: %w", ref, ErrOCIUnsupported)
}

// programCache compiles each distinct binary once, keyed by its sha256 digest; concurrent scale
// requests for the same bytes wait for one compilation.
type programCache struct {
	mu      sync.Mutex
	entries map[string]*programEntry
}

type programEntry struct {
	ready chan struct{}
	prog  *runtime.Program
	err   error
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func (pc *programCache) get(ctx context.Context, eng *runtime.Engine, wasm []byte) (*runtime.Program, string, error) {
	d := digestOf(wasm)
	pc.mu.Lock()
	if pc.entries == nil {
		pc.entries = map[string]*programEntry{}
	}
	e, ok := pc.entries[d]
	if !ok {
		e = &programEntry{ready: make(chan struct{})}
		pc.entries[d] = e
		pc.mu.Unlock()
		e.prog, e.err = eng.Compile(ctx, wasm)
		close(e.ready)
		if e.err != nil {
			pc.mu.Lock()
			delete(pc.entries, d) // do not cache failures: a later fix of the file must work
			pc.mu.Unlock()
		}
		return e.prog, d, e.err
	}
	pc.mu.Unlock()
	select {
	case <-e.ready:
	case <-ctx.Done():
		return nil, d, ctx.Err()
	}
	return e.prog, d, e.err
}

func (pc *programCache) closeAll(ctx context.Context) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for d, e := range pc.entries {
		select {
		case <-e.ready:
			if e.prog != nil {
				_ = e.prog.Close(ctx)
			}
		default:
		}
		delete(pc.entries, d)
	}
}
