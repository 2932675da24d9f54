package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"
)

// maxManifestBytes bounds a manifest read; wasmCloud manifests are a few hundred bytes.
const maxManifestBytes = 4 << 20

// PullOptions tune one pull.
type PullOptions struct {
	// Accept lists the layer media types allowed; nil means AcceptAny.
	Accept []string
	// Digest, when set, must equal the manifest digest ("sha256:" prefix optional).
	Digest string
	// SingleLayer rejects manifests with more than one layer (the host's rule).
	SingleLayer bool
	// MaxSize, when positive, rejects manifests whose layers add up to more bytes, before any
	// layer is downloaded (the host's component size limit).
	MaxSize int64
	// Progress, if set, is called as layer bytes arrive from the network.
	Progress func(Progress)
	// NoData, when the client has a cache, streams each layer into its cache file without
	// holding it in memory: Layer.Data stays nil and callers read the verified Layer.Path (see
	// Artifact.WriteTo and Artifact.Content). Without a cache it has no effect.
	NoData bool
}

// Progress reports a transfer.
type Progress struct {
	Digest    string
	MediaType string
	Done      int64
	Total     int64
}

// Layer is one pulled layer.
type Layer struct {
	Descriptor ocispec.Descriptor
	// Data is the layer's content; nil when pulled with PullOptions.NoData into a cache.
	Data []byte
	// Path is the cached blob file, "" without a cache.
	Path string
}

// Artifact is a pulled artifact.
type Artifact struct {
	Ref            Reference
	Digest         digest.Digest // manifest digest
	Manifest       ocispec.Manifest
	ManifestBytes  []byte
	Layers         []Layer
	Kind           Kind
	FromCache      bool // no network request was made
	ManifestCached bool // the manifest (and layers) came from the cache after a tag lookup
}

// Bytes returns the layers concatenated in manifest order (upstream's "joined" content). It is
// nil for an artifact pulled with PullOptions.NoData; use Content or WriteTo then.
func (a *Artifact) Bytes() []byte {
	if len(a.Layers) == 1 {
		return a.Layers[0].Data
	}
	var b bytes.Buffer
	for _, l := range a.Layers {
		b.Write(l.Data)
	}
	return b.Bytes()
}

// Content is Bytes, reading layers pulled with PullOptions.NoData from their cache files.
func (a *Artifact) Content() ([]byte, error) {
	if !a.streamed() {
		return a.Bytes(), nil
	}
	var b bytes.Buffer
	if _, err := a.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// streamed reports whether some layer's content is only in its cache file.
func (a *Artifact) streamed() bool {
	for _, l := range a.Layers {
		if l.Data == nil && l.Path != "" {
			return true
		}
	}
	return false
}

// WriteTo writes the layers concatenated in manifest order to w. Layers held only in the cache
// are copied from their files, which the pull verified; when w is an *os.File the kernel copies
// them (copy_file_range on Linux) without passing through this process.
func (a *Artifact) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for _, l := range a.Layers {
		if l.Data != nil || l.Path == "" {
			n, err := w.Write(l.Data)
			total += int64(n)
			if err != nil {
				return total, err
			}
			continue
		}
		n, err := copyFile(w, l.Path, l.Descriptor.Size)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func copyFile(w io.Writer, path string, size int64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("reading OCI cache: %w", err)
	}
	defer f.Close()
	// io.Copy hands an *os.File pair to the kernel; the LimitedReader keeps that path
	// (os.File.ReadFrom accepts one) and stops at the verified size.
	n, err := io.Copy(w, &io.LimitedReader{R: f, N: size})
	if err != nil {
		return n, fmt.Errorf("copying %s: %w", path, err)
	}
	if n != size {
		return n, fmt.Errorf("%w: cached blob %s changed size", ErrDigestMismatch, path)
	}
	return n, nil
}

// head returns up to n leading bytes of the concatenated layers.
func (a *Artifact) head(n int) []byte {
	if !a.streamed() {
		b := a.Bytes()
		return b[:min(n, len(b))]
	}
	var out []byte
	for _, l := range a.Layers {
		if len(out) >= n {
			break
		}
		if l.Data != nil || l.Path == "" {
			out = append(out, l.Data[:min(n-len(out), len(l.Data))]...)
			continue
		}
		f, err := os.Open(l.Path)
		if err != nil {
			break
		}
		buf := make([]byte, min(int64(n-len(out)), l.Descriptor.Size))
		k, _ := io.ReadFull(f, buf)
		f.Close()
		out = append(out, buf[:k]...)
	}
	return out
}

// CheckLatest applies the allow-latest rule for a pull of r.
func (c *Client) CheckLatest(r Reference) error {
	if r.IsLatest() && !c.opts.AllowLatest {
		return sentinelError{ErrLatestProhibited, "pulling artifacts tagged 'latest' is prohibited; this can be overridden with " + c.latestHint()}
	}
	return nil
}

// Pull fetches an artifact. ref is parsed with ParseReference. Digest-pinned references are
// accepted without AllowLatest (they are the safest kind); references resolving through the
// tag "latest", explicit or implied, are refused unless AllowLatest.
func (c *Client) Pull(ctx context.Context, ref string, o PullOptions) (*Artifact, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, &Error{Op: "pull", Ref: strings.TrimSpace(ref), Err: err}
	}
	return c.PullReference(ctx, r, o)
}

// PullReference is Pull for a parsed reference.
func (c *Client) PullReference(ctx context.Context, r Reference, o PullOptions) (*Artifact, error) {
	wrap := func(err error) error { return &Error{Op: "pull", Ref: r.String(), Err: c.cause(r.Registry, err)} }
	if err := c.CheckLatest(r); err != nil {
		return nil, wrap(err)
	}
	if o.Accept == nil {
		o.Accept = AcceptAny
	}
	key := r.String() + "|" + strings.Join(o.Accept, ",") + "|" + o.Digest + fmt.Sprint(o.SingleLayer, o.MaxSize, o.NoData)
	// Concurrent pulls of the same reference share one transfer; each caller gets its own
	// Artifact value (the layer bytes are shared and must not be modified).
	v, err, _ := c.flights.Do(key, func() (any, error) {
		// The shared pull must not die with the first caller's context.
		return c.pull(context.WithoutCancel(ctx), r, o)
	})
	if err != nil {
		return nil, wrap(err)
	}
	a := *v.(*Artifact)
	return &a, nil
}

func (c *Client) pull(ctx context.Context, r Reference, o PullOptions) (*Artifact, error) {
	a := &Artifact{Ref: r}
	var repo *remote.Repository
	repoFor := func() *remote.Repository {
		if repo == nil {
			repo = c.repository(r)
		}
		return repo
	}

	// 1. The manifest: from the cache when the digest is known, else from the registry.
	var want digest.Digest
	switch {
	case r.Digest != "":
		want = digest.Digest(r.Digest)
	case c.cache != nil && c.opts.TagPolicy == TagCacheFirst:
		if d, ok := c.cache.RefDigest(r.String()); ok {
			want = d
		}
	}
	if want != "" && c.cache != nil {
		if b, ok, err := c.cache.Read(want); err != nil {
			return nil, err
		} else if ok {
			a.ManifestBytes, a.Digest, a.FromCache = b, want, true
		}
	}
	if a.ManifestBytes == nil {
		target := r.Target()
		if want != "" {
			target = want.String()
		}
		b, d, err := c.fetchManifest(ctx, repoFor(), target)
		if err != nil {
			return nil, err
		}
		if want != "" && d != want {
			return nil, fmt.Errorf("%w: manifest content hashes to %s, expected %s", ErrDigestMismatch, d, want)
		}
		a.ManifestBytes, a.Digest = b, d
		if c.cache != nil && c.cache.Has(d) {
			a.ManifestCached = true
		}
	}

	// 2. Check it.
	if err := parseManifest(a, o); err != nil {
		return nil, err
	}
	if o.Digest != "" {
		expect := o.Digest
		if !strings.Contains(expect, ":") {
			expect = "sha256:" + expect
		}
		if digest.Digest(strings.ToLower(expect)) != a.Digest {
			return nil, fmt.Errorf("%w: manifest digest is %s, expected %s", ErrDigestMismatch, a.Digest, expect)
		}
	}

	// 3. The layers.
	for _, desc := range a.Manifest.Layers {
		l, network, err := c.layer(ctx, repoFor, desc, o.Progress, o.NoData)
		if err != nil {
			return nil, err
		}
		if network {
			a.FromCache = false
		}
		a.Layers = append(a.Layers, l)
	}
	a.Kind = kindOf(a)

	// 4. Commit the manifest last, so a failed pull leaves no manifest pointing at missing blobs.
	if c.cache != nil {
		if err := c.cache.Put(a.Digest, a.ManifestBytes); err != nil {
			return nil, err
		}
		if r.Digest == "" {
			if err := c.cache.SetRef(r.String(), a.Digest); err != nil {
				return nil, err
			}
		}
	}
	return a, nil
}

func (c *Client) fetchManifest(ctx context.Context, repo *remote.Repository, target string) ([]byte, digest.Digest, error) {
	desc, rc, err := repo.FetchReference(ctx, target)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxManifestBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("reading manifest: %w", err)
	}
	if len(b) > maxManifestBytes {
		return nil, "", fmt.Errorf("%w: manifest larger than %d bytes", ErrMediaType, maxManifestBytes)
	}
	d := digest.FromBytes(b)
	if desc.Digest != "" && desc.Digest != d {
		return nil, "", fmt.Errorf("%w: manifest content hashes to %s, the registry says %s", ErrDigestMismatch, d, desc.Digest)
	}
	return b, d, nil
}

func parseManifest(a *Artifact, o PullOptions) error {
	var probe struct {
		MediaType string          `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(a.ManifestBytes, &probe); err != nil {
		return fmt.Errorf("%w: manifest is not JSON: %v", ErrMediaType, err)
	}
	if probe.MediaType == MediaTypeIndex || probe.MediaType == MediaTypeDockerList || probe.Manifests != nil {
		return fmt.Errorf("%w: the reference names an image index; wasmCloud artifacts are single manifests", ErrMediaType)
	}
	if probe.MediaType != "" && probe.MediaType != MediaTypeManifest && probe.MediaType != MediaTypeDockerManifest {
		return fmt.Errorf("%w: manifest media type %q", ErrMediaType, probe.MediaType)
	}
	if err := json.Unmarshal(a.ManifestBytes, &a.Manifest); err != nil {
		return fmt.Errorf("%w: malformed manifest: %v", ErrMediaType, err)
	}
	if len(a.Manifest.Layers) == 0 {
		return fmt.Errorf("%w: manifest has no layers", ErrMediaType)
	}
	if o.SingleLayer && len(a.Manifest.Layers) > 1 {
		return fmt.Errorf("%w: expected a single layer, found %d layers", ErrMediaType, len(a.Manifest.Layers))
	}
	var total int64
	for _, l := range a.Manifest.Layers {
		total += max(l.Size, 0)
		if !slices.Contains(o.Accept, l.MediaType) {
			return fmt.Errorf("%w: layer media type %q is not one of %s", ErrMediaType, l.MediaType, strings.Join(o.Accept, ", "))
		}
		if err := l.Digest.Validate(); err != nil {
			return fmt.Errorf("%w: layer digest %q: %v", ErrDigestMismatch, l.Digest, err)
		}
		if l.Size < 0 {
			return fmt.Errorf("%w: negative layer size", ErrMediaType)
		}
	}
	if o.MaxSize > 0 && total > o.MaxSize {
		return fmt.Errorf("%w: the artifact is %d bytes, over the %d-byte limit", ErrTooLarge, total, o.MaxSize)
	}
	return nil
}

func kindOf(a *Artifact) Kind {
	if len(a.Layers) == 1 && a.Layers[0].Descriptor.MediaType == MediaTypePARLayer {
		return KindProvider
	}
	// Identify looks at most at the first 262 bytes (the tar magic).
	return Identify(a.head(identifyBytes))
}

// layer returns a layer from the cache or downloads it (once per digest across concurrent
// pulls), verifying digest and size. network reports whether the registry was asked.
func (c *Client) layer(ctx context.Context, repoFor func() *remote.Repository, desc ocispec.Descriptor, progress func(Progress), noData bool) (Layer, bool, error) {
	l := Layer{Descriptor: desc}
	if c.cache != nil && noData {
		ok, err := c.cache.verify(desc.Digest, desc.Size)
		if err != nil {
			return l, false, err
		}
		if ok {
			l.Path = c.cache.BlobPath(desc.Digest)
			return l, false, nil
		}
		// The key differs from the in-memory download's: that one's result carries the bytes.
		_, err, _ = c.blobs.Do(desc.Digest.String()+"|file", func() (any, error) {
			return c.download(ctx, repoFor(), desc, progress, true)
		})
		if err != nil {
			return l, true, err
		}
		l.Path = c.cache.BlobPath(desc.Digest)
		return l, true, nil
	}
	if c.cache != nil {
		b, ok, err := c.cache.Read(desc.Digest)
		if err != nil {
			return l, false, err
		}
		if ok && int64(len(b)) == desc.Size {
			l.Data, l.Path = b, c.cache.BlobPath(desc.Digest)
			return l, false, nil
		}
	}
	repo := repoFor()
	v, err, _ := c.blobs.Do(desc.Digest.String(), func() (any, error) {
		return c.download(ctx, repo, desc, progress, false)
	})
	if err != nil {
		return l, true, err
	}
	l.Data = v.([]byte)
	if c.cache != nil {
		l.Path = c.cache.BlobPath(desc.Digest)
	}
	return l, true, nil
}

// download fetches one blob with retries: the HTTP client retries failed requests, and this
// loop also restarts a transfer that broke mid-body, which an HTTP-level retry cannot see.
func (c *Client) download(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, progress func(Progress), noData bool) ([]byte, error) {
	pol := retryPolicy(c.opts.Retry)
	var lastErr error
	for attempt := 0; ; attempt++ {
		b, err := c.downloadOnce(ctx, repo, desc, progress, noData)
		if err == nil {
			return b, nil
		}
		lastErr = err
		if !midBodyError(err) {
			return nil, err
		}
		wait, perr := pol.Retry(attempt, nil, errTransient)
		if perr != nil || wait < 0 {
			return nil, lastErr
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// errTransient makes the retry policy treat a mid-body failure like a timeout.
var errTransient = transientError{}

type transientError struct{}

func (transientError) Error() string   { return "transient" }
func (transientError) Timeout() bool   { return true }
func (transientError) Temporary() bool { return true }

type bodyError struct{ err error }

func (e bodyError) Error() string { return "reading blob: " + e.err.Error() }
func (e bodyError) Unwrap() error { return e.err }

func midBodyError(err error) bool {
	var be bodyError
	return errors.As(err, &be)
}

// downloadOnce fetches a blob into the cache (when there is one) and, unless noData, memory.
func (c *Client) downloadOnce(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, progress func(Progress), noData bool) ([]byte, error) {
	rc, err := repo.Blobs().Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var src io.Reader = &bodyReader{r: rc}
	if progress != nil {
		src = &progressReader{r: src, p: Progress{Digest: desc.Digest.String(), MediaType: desc.MediaType, Total: desc.Size}, fn: progress}
	}
	if c.cache != nil && noData {
		if _, err := c.cache.ingest(desc.Digest, desc.Size, src, nil); err != nil {
			return nil, err
		}
		return nil, nil
	}
	var buf bytes.Buffer
	buf.Grow(int(min(desc.Size, 1<<30)))
	if c.cache != nil {
		if _, err := c.cache.ingest(desc.Digest, desc.Size, src, &buf); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	if err := copyVerified(&buf, src, desc.Digest, desc.Size); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// bodyReader marks read errors as mid-body so download can restart the transfer.
type bodyReader struct{ r io.Reader }

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = bodyError{err}
	}
	return n, err
}

type progressReader struct {
	r  io.Reader
	p  Progress
	fn func(Progress)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.p.Done += int64(n)
		p.fn(p.p)
	}
	return n, err
}

// sentinelError carries its own text but matches a sentinel with errors.Is.
type sentinelError struct {
	sentinel error
	msg      string
}

func (e sentinelError) Error() string        { return e.msg }
func (e sentinelError) Is(target error) bool { return target == e.sentinel }
