package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/wasmlattice/wash/internal/bounded"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/oci"
	"github.com/wasmlattice/wash/oci/par"
	"github.com/wasmlattice/wash/runtime"
	"github.com/wasmlattice/wash/wascap"
)

// Default artifact size limits. MaxComponentSize mirrors upstream's WASMCLOUD_MAX_COMPONENT_SIZE;
// upstream has no provider limit, and a multi-platform archive holds several binaries, hence the
// larger bound. Config.MaxComponentSize and Config.MaxProviderSize override them.
const (
	MaxComponentSize = 50 << 20
	MaxProviderSize  = 512 << 20
)

// latestProhibited is upstream's text for a :latest reference on a host without allow-latest.
const latestProhibited = "fetching images tagged 'latest' is currently prohibited in this host. This can be overridden with WASMCLOUD_OCI_ALLOW_LATEST (wash up --allow-latest)"

// fileLoadDisabled is upstream's text for a file:// reference on a host without allow-file-load.
const fileLoadDisabled = "file loading is disabled (start the host with --allow-file-load, env WASMCLOUD_ALLOW_FILE_LOAD)"

// newOCIClient builds the host's registry client: one per host, so concurrent pulls of the same
// reference share one transfer and every pull shares the on-disk cache. Credentials come from
// registry.put first (they change at run time), then the start-up configuration, else
// anonymous; the user's Docker config and wash's own WASH_REG_* variables are not consulted,
// as a wasmCloud host does not read them either.
func (h *Host) newOCIClient() error {
	dir := h.cfg.OCICacheDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "wash-host-oci-")
		if err != nil {
			return fmt.Errorf("creating the OCI cache: %w", err)
		}
		dir, h.ociTempDir = tmp, tmp
	}
	h.ociDir = dir
	c, err := oci.New(oci.Options{
		CacheDir:            dir,
		AllowLatest:         h.cfg.AllowLatest,
		LatestHint:          "WASMCLOUD_OCI_ALLOW_LATEST",
		CredentialHint:      "send working credentials with the registry.put control request, or start the host with --oci-registry, --oci-user and --oci-password (WASMCLOUD_OCI_REGISTRY, _REGISTRY_USER, _REGISTRY_PASSWORD)",
		InsecureRegistries:  h.cfg.AllowedInsecure,
		DisableEnv:          true,
		DisableDockerConfig: true,
		CredentialFunc:      h.registryCredential,
		UserAgent:           "wash-host/" + Version,
	})
	if err != nil {
		h.removeOCITemp()
		return err
	}
	h.ociClient = c
	return nil
}

func (h *Host) removeOCITemp() {
	if h.ociTempDir != "" {
		_ = os.RemoveAll(h.ociTempDir)
	}
}

// registryCredential answers the OCI client for one registry authority.
func (h *Host) registryCredential(_ context.Context, registry string) (oci.Credential, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for name, rc := range h.registries {
		if oci.SameRegistry(name, registry) {
			return basicOnly(rc), true
		}
	}
	for name, c := range h.cfg.OCICredentials {
		if oci.SameRegistry(name, registry) {
			return c, true
		}
	}
	return oci.Credential{}, false
}

// basicOnly keeps what upstream passes to its OCI client: username and password (HTTP Basic).
// A token-only entry becomes anonymous, as in wasmCloud 1.x.
func basicOnly(rc ctl.RegistryCredential) oci.Credential {
	if rc.Username == nil || rc.Password == nil {
		return oci.Credential{}
	}
	return oci.Credential{Username: *rc.Username, Password: *rc.Password}
}

// parseRef classifies a component or provider reference and applies the host's reference rules
// (latest, file loading) that do not need the network.
func (h *Host) parseRef(ref string) (oci.ResourceRef, error) {
	rr, err := oci.ParseResourceRef(ref)
	if err != nil {
		return rr, err
	}
	switch rr.Kind {
	case oci.RefFile:
		if !h.cfg.AllowFileLoad {
			return rr, errors.New(fileLoadDisabled)
		}
	case oci.RefOCI:
		if rr.OCI.IsLatest() && !h.cfg.AllowLatest {
			return rr, errors.New(latestProhibited)
		}
	}
	return rr, nil
}

// pull fetches an OCI artifact through the host's client. The error names the reference once
// and the cause (the client's own "pull <ref>:" prefix is dropped for that).
func (h *Host) pull(ctx context.Context, what string, rr oci.ResourceRef, o oci.PullOptions) (*oci.Artifact, error) {
	a, err := h.ociClient.PullReference(ctx, rr.OCI, o)
	if err != nil {
		var oe *oci.Error
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return nil, fmt.Errorf("failed to fetch %s %s: %w", what, rr.Raw, err)
	}
	h.log.Debug("pulled artifact", "ref", rr.Raw, "digest", a.Digest, "cached", a.FromCache || a.ManifestCached)
	return a, nil
}

// fetchArtifact returns a component's bytes: from a file (when allowed) or an OCI registry
// (through the host's cache). Embedded claims, if any, must be valid.
func (h *Host) fetchArtifact(ctx context.Context, ref string) ([]byte, error) {
	wasm, err := h.fetchBytes(ctx, ref, componentArtifact(h.cfg.MaxComponentSize))
	if err != nil {
		return nil, err
	}
	if err := checkComponentClaims(wasm); err != nil {
		return nil, fmt.Errorf("failed to fetch component %s: %w", ref, err)
	}
	return wasm, nil
}

// artifactKind is what fetchBytes fetches: the layer types a registry may serve, the size
// limit and the host flag that raises it, and why a builtin reference has nothing to fetch.
type artifactKind struct {
	what    string // "component" or "provider", for errors
	accept  []string
	limit   int64
	flag    string
	builtin string
}

func componentArtifact(limit int64) artifactKind {
	return artifactKind{what: "component", accept: oci.AcceptComponent, limit: limit, flag: "--max-component-size-bytes",
		builtin: "nothing to fetch for a builtin; wasmcloud+builtin:// names providers, not components"}
}

func providerArchive(limit int64) artifactKind {
	return artifactKind{what: "provider", accept: oci.AcceptProvider, limit: limit, flag: "--max-provider-size-bytes",
		builtin: "builtin providers have no archive to fetch"}
}

// fetchBytes reads a file:// reference (when allowed) or pulls an OCI one through the host's
// cache, at most k.limit bytes either way.
func (h *Host) fetchBytes(ctx context.Context, ref string, k artifactKind) ([]byte, error) {
	fail := func(err error) ([]byte, error) {
		return nil, fmt.Errorf("failed to fetch %s %s: %w", k.what, ref, err)
	}
	rr, err := h.parseRef(ref)
	if err != nil {
		return fail(err)
	}
	switch rr.Kind {
	case oci.RefBuiltin:
		return fail(errors.New(k.builtin))
	case oci.RefFile:
		b, err := readArtifactFile(rr.Path, k.limit, k.flag)
		if err != nil {
			return fail(err)
		}
		return b, nil
	}
	a, err := h.pull(ctx, k.what, rr, oci.PullOptions{Accept: k.accept, SingleLayer: true, MaxSize: k.limit})
	if err != nil {
		return nil, sizeHint(err, k.flag)
	}
	return a.Bytes(), nil
}

// readArtifactFile reads a file:// artifact of at most limit bytes: /dev/zero or a huge file
// costs the host at most the limit, and the error names the file, the limit and flag.
func readArtifactFile(path string, limit int64, flag string) ([]byte, error) {
	b, err := bounded.ReadFile(path, limit)
	var pe *os.PathError
	switch {
	case err == nil:
		return b, nil
	case errors.As(err, &pe):
		return nil, fmt.Errorf("unable to read %s: %w", path, pe.Err)
	}
	return nil, sizeHint(err, flag)
}

// sizeHint names the host flag that raises a size limit; other errors pass unchanged.
func sizeHint(err error, flag string) error {
	if errors.Is(err, bounded.ErrTooLarge) || errors.Is(err, oci.ErrTooLarge) {
		return fmt.Errorf("%w (raise it with the host's %s)", err, flag)
	}
	return err
}

// checkComponentClaims validates an embedded JWT (signature, dates, module hash); unsigned
// binaries pass, as upstream.
func checkComponentClaims(wasm []byte) error {
	tok, err := wascap.ExtractClaims(wasm)
	if err != nil {
		if errors.Is(err, wascap.ErrNotWasm) {
			return fmt.Errorf("the artifact is not a wasm binary")
		}
		return fmt.Errorf("invalid embedded claims: %w", err)
	}
	if tok == nil {
		return nil
	}
	if err := tok.Verify(time.Now()); err != nil {
		return fmt.Errorf("invalid embedded claims: %w", err)
	}
	return nil
}

// fetchedProvider is a provider archive fetched, checked and unpacked for this platform.
type fetchedProvider struct {
	binary  string // extracted native executable
	archive *par.Archive
}

// fetchProvider fetches a provider archive (file or OCI), checks its claims and hashes for this
// platform's target and extracts that binary into the cache, under
// <cache>/providers/<sha256 of the archive>/<target>, so hosts sharing the cache share the file.
// An existing binary is reused when it still hashes to the claims' value.
func (h *Host) fetchProvider(ctx context.Context, ref string) (*fetchedProvider, error) {
	fail := func(err error) (*fetchedProvider, error) {
		return nil, fmt.Errorf("failed to fetch provider %s: %w", ref, err)
	}
	data, err := h.fetchBytes(ctx, ref, providerArchive(h.cfg.MaxProviderSize))
	if err != nil {
		return nil, err
	}
	target := par.NativeTarget()
	sum := sha256.Sum256(data)
	dest := filepath.Join(h.ociDir, "providers", hex.EncodeToString(sum[:]), target)
	arch, err := par.LoadTargetLimit(data, target, h.cfg.MaxProviderSize)
	if errors.Is(err, bounded.ErrTooLarge) {
		return fail(sizeHint(err, "--max-provider-size-bytes"))
	}
	if err != nil {
		return fail(fmt.Errorf("invalid provider archive: %w", err))
	}
	if err := arch.Token.Verify(time.Now()); err != nil {
		return fail(fmt.Errorf("invalid provider archive claims: %w", err))
	}
	if bin, ok := existingBinary(dest, arch.Hashes()[target]); ok {
		return &fetchedProvider{binary: bin, archive: arch}, nil
	}
	path, err := arch.WriteBinary(target, dest)
	if err != nil {
		return fail(err)
	}
	return &fetchedProvider{binary: path, archive: arch}, nil
}

// existingBinary reports whether an extracted binary at dest (".exe" on Windows) matches hash
// (upper-case hex SHA-256, as in the claims).
func existingBinary(dest, hash string) (string, bool) {
	if strings.HasSuffix(par.NativeTarget(), "-windows") {
		dest += ".exe"
	}
	if hash == "" {
		return "", false
	}
	b, err := os.ReadFile(dest)
	if err != nil {
		return "", false
	}
	return dest, strings.EqualFold(wascap.Hash(b), hash)
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
