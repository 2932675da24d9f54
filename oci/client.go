// Package oci pulls and pushes wasmCloud artifacts (components and provider archives) with
// oras-go v2.
//
// Pushes write the exact manifest bytes upstream wash writes (keys sorted, compact JSON, see
// BuildManifest). Pulls verify every blob against its digest, keep a content-addressed cache on
// disk (see Cache), share concurrent pulls of the same reference or blob within the process, and
// retry transient failures with exponential backoff.
//
// Cache policy for tags: with TagResolve (the default) a pull by tag always asks the registry
// what the tag points to (one manifest request), then takes the manifest and layers from the
// cache when that digest is present, so tag moves are seen at once; with TagCacheFirst a tag
// that was pulled before is served from the cache with no network at all (for immutable
// version tags and offline use). A pull by digest never touches the network once its manifest
// and layers are cached.
//
// Credentials are tried in upstream's order: explicit (Options.Credentials), environment
// (WASMCLOUD_OCI_REGISTRY + WASMCLOUD_OCI_REGISTRY_USER + WASMCLOUD_OCI_REGISTRY_PASSWORD for that
// registry, then WASH_REG_USER + WASH_REG_PASSWORD for any registry), the Docker config and its
// credential helpers, anonymous.
package oci

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/singleflight"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// Errors callers may test for with errors.Is.
var (
	ErrLatestProhibited = errors.New("tag 'latest' is prohibited")
	ErrUnauthorized     = errors.New("authentication failed")
	ErrNotFound         = errors.New("not found")
	ErrDigestMismatch   = errors.New("digest mismatch")
	ErrMediaType        = errors.New("incompatible media type")
	ErrUnreachable      = errors.New("registry unreachable")
	ErrUnsupported      = errors.New("unsupported artifact type")
	ErrTooLarge         = errors.New("artifact too large")
)

// Error is what Pull and Push return: the operation, the reference and the cause, on one line.
type Error struct {
	Op  string // "pull" or "push"
	Ref string
	Err error
}

func (e *Error) Error() string { return e.Op + " " + e.Ref + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Credential is a username/password pair (or an identity token) for one registry.
type Credential struct {
	Username string
	Password string
	// Token is an identity/refresh token (oras-go exchanges it for an access token).
	Token string
}

// TagPolicy says when a pull by tag may skip the registry.
type TagPolicy int

const (
	// TagResolve asks the registry for the tag's current manifest on every pull (default).
	TagResolve TagPolicy = iota
	// TagCacheFirst serves a previously pulled tag from the cache without any request.
	TagCacheFirst
)

// RetryPolicy bounds retries of transient failures (timeouts, connection resets, HTTP 408,
// 429 and 5xx). A refused connection is not retried: it almost always means a wrong address.
type RetryPolicy struct {
	MaxRetries int           // default 5; negative disables retries
	MinWait    time.Duration // default 200ms
	MaxWait    time.Duration // default 3s
}

// Options configure a Client. The zero value is usable: no cache, HTTPS everywhere, latest
// refused, environment and Docker credentials consulted.
type Options struct {
	// CacheDir is the content-addressed cache root (e.g. $WASH_HOME/oci-cache); "" disables it.
	CacheDir string
	// TagPolicy applies to pulls by tag when a cache is configured.
	TagPolicy TagPolicy
	// AllowLatest permits references that resolve through the tag "latest".
	AllowLatest bool
	// LatestHint names how to override the latest rule in the error text; default
	// "the flag '--allow-latest'" (a host passes "WASMCLOUD_OCI_ALLOW_LATEST").
	LatestHint string
	// CredentialHint tells what to do when a registry refuses the credentials; default
	// "check the username and password (or docker login)".
	CredentialHint string
	// Insecure uses plain HTTP for every registry (wash --insecure).
	Insecure bool
	// InsecureRegistries lists authorities ("host" or "host:port") that use plain HTTP.
	InsecureRegistries []string
	// InsecureSkipTLSVerify accepts any server certificate.
	InsecureSkipTLSVerify bool
	// CAFiles are extra PEM trust roots added to the system pool.
	CAFiles []string
	// Credentials are explicit credentials by registry authority; the key "*" applies to every
	// registry (wash's -u/-p).
	Credentials map[string]Credential
	// CredentialFunc, when set, is asked first for the registry authority about to be contacted
	// ("host" or "host:port"; Docker Hub is asked as registry-1.docker.io). It lets a long-lived
	// client see credentials that change at run time (a host's registry.put). ok=false falls
	// through to the rest of the order.
	CredentialFunc func(ctx context.Context, registry string) (cred Credential, ok bool)
	// Getenv reads the environment; nil means os.Getenv. DisableEnv skips the environment.
	Getenv     func(string) string
	DisableEnv bool
	// DisableDockerConfig skips ~/.docker/config.json and credential helpers.
	DisableDockerConfig bool
	Retry               RetryPolicy
	UserAgent           string
	// Transport replaces the base HTTP transport (TLS options are then the caller's business).
	Transport http.RoundTripper
}

// Client pulls and pushes artifacts. It is safe for concurrent use.
type Client struct {
	opts  Options
	cache *Cache
	http  *http.Client
	auth  *auth.Client
	// authCache holds Basic headers and bearer tokens per registry; ResetAuth empties it.
	authCache *resettableCache
	flights   singleflight.Group // pulls by reference
	blobs     singleflight.Group // layer downloads by digest

	dockerOnce  sync.Once
	dockerStore credentials.Store
}

// New returns a client.
func New(opts Options) (*Client, error) {
	c := &Client{opts: opts}
	if opts.CacheDir != "" {
		cache, err := OpenCache(opts.CacheDir)
		if err != nil {
			return nil, err
		}
		c.cache = cache
	}
	base := opts.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = ProxyFromEnvironment
		if opts.InsecureSkipTLSVerify || len(opts.CAFiles) > 0 {
			cfg := &tls.Config{InsecureSkipVerify: opts.InsecureSkipTLSVerify} //nolint:gosec // user asked for it
			if len(opts.CAFiles) > 0 {
				pool, err := x509.SystemCertPool()
				if err != nil {
					pool = x509.NewCertPool()
				}
				for _, f := range opts.CAFiles {
					pem, err := os.ReadFile(f)
					if err != nil {
						return nil, fmt.Errorf("reading CA file: %w", err)
					}
					if !pool.AppendCertsFromPEM(pem) {
						return nil, fmt.Errorf("CA file %s holds no PEM certificates", f)
					}
				}
				cfg.RootCAs = pool
			}
			t.TLSClientConfig = cfg
		}
		base = t
	}
	rt := retry.NewTransport(base)
	policy := retryPolicy(opts.Retry)
	rt.Policy = func() retry.Policy { return policy }
	c.http = &http.Client{Transport: rt}
	c.authCache = &resettableCache{inner: auth.NewCache()}
	c.auth = &auth.Client{
		Client:     c.http,
		Cache:      c.authCache,
		Credential: c.credential,
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "wash"
	}
	c.auth.SetUserAgent(ua)
	return c, nil
}

// ResetAuth forgets the Basic headers and tokens cached per registry, so the next request
// asks the credential order again. Call it when credentials change (a host's registry.put):
// otherwise a cached header keeps being sent for as long as the registry accepts it.
func (c *Client) ResetAuth() { c.authCache.reset() }

// resettableCache is an auth.Cache whose contents can be dropped at run time.
type resettableCache struct {
	mu    sync.RWMutex
	inner auth.Cache
}

func (r *resettableCache) get() auth.Cache {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.inner
}

func (r *resettableCache) reset() {
	r.mu.Lock()
	r.inner = auth.NewCache()
	r.mu.Unlock()
}

func (r *resettableCache) GetScheme(ctx context.Context, registry string) (auth.Scheme, error) {
	return r.get().GetScheme(ctx, registry)
}

func (r *resettableCache) GetToken(ctx context.Context, registry string, scheme auth.Scheme, key string) (string, error) {
	return r.get().GetToken(ctx, registry, scheme, key)
}

func (r *resettableCache) Set(ctx context.Context, registry string, scheme auth.Scheme, key string, fetch func(context.Context) (string, error)) (string, error) {
	return r.get().Set(ctx, registry, scheme, key, fetch)
}

// Cache returns the client's cache, or nil.
func (c *Client) Cache() *Cache { return c.cache }

func retryPolicy(p RetryPolicy) retry.Policy {
	g := &retry.GenericPolicy{
		Retryable: retry.DefaultPredicate,
		Backoff:   retry.DefaultBackoff,
		MinWait:   p.MinWait,
		MaxWait:   p.MaxWait,
		MaxRetry:  p.MaxRetries,
	}
	if g.MinWait == 0 {
		g.MinWait = 200 * time.Millisecond
	}
	if g.MaxWait == 0 {
		g.MaxWait = 3 * time.Second
	}
	if g.MaxRetry == 0 {
		g.MaxRetry = 5
	}
	if g.MaxRetry < 0 {
		g.MaxRetry = 0
	}
	return g
}

func (c *Client) getenv(k string) string {
	if c.opts.DisableEnv {
		return ""
	}
	if c.opts.Getenv != nil {
		return c.opts.Getenv(k)
	}
	return os.Getenv(k)
}

// credential implements the upstream order for one registry authority.
func (c *Client) credential(ctx context.Context, hostport string) (auth.Credential, error) {
	if c.opts.CredentialFunc != nil {
		if cr, ok := c.opts.CredentialFunc(ctx, hostport); ok {
			return toAuth(cr), nil
		}
	}
	if cr, ok := c.explicit(hostport); ok {
		return toAuth(cr), nil
	}
	if reg := c.getenv("WASMCLOUD_OCI_REGISTRY"); reg != "" && sameRegistry(normalizeRegistry(reg), hostport) {
		u, p := c.getenv("WASMCLOUD_OCI_REGISTRY_USER"), c.getenv("WASMCLOUD_OCI_REGISTRY_PASSWORD")
		if u != "" && p != "" {
			return auth.Credential{Username: u, Password: p}, nil
		}
	}
	if u, p := c.getenv("WASH_REG_USER"), c.getenv("WASH_REG_PASSWORD"); u != "" && p != "" {
		return auth.Credential{Username: u, Password: p}, nil
	}
	if !c.opts.DisableDockerConfig {
		c.dockerOnce.Do(func() {
			// A missing or broken Docker config must not stop anonymous pulls.
			if s, err := credentials.NewStoreFromDocker(credentials.StoreOptions{}); err == nil {
				c.dockerStore = s
			}
		})
		if c.dockerStore != nil {
			if cr, err := credentials.Credential(c.dockerStore)(ctx, hostport); err == nil && cr != auth.EmptyCredential {
				return cr, nil
			}
		}
	}
	return auth.EmptyCredential, nil
}

func (c *Client) explicit(hostport string) (Credential, bool) {
	for k, v := range c.opts.Credentials {
		if k != "*" && sameRegistry(normalizeRegistry(k), hostport) {
			return v, true
		}
	}
	v, ok := c.opts.Credentials["*"]
	return v, ok
}

func toAuth(c Credential) auth.Credential {
	return auth.Credential{Username: c.Username, Password: c.Password, RefreshToken: c.Token}
}

func normalizeRegistry(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, p := range []string{"oci://", "http://", "https://"} {
		s = strings.TrimPrefix(s, p)
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return s
}

var dockerHubAliases = []string{"docker.io", "registry-1.docker.io", "index.docker.io"}

// RegistryAuthority reduces a registry name as users write it ("https://Reg.io/", "oci://reg:5000/x")
// to the lower-cased authority credentials and insecure lists are keyed by.
func RegistryAuthority(s string) string { return normalizeRegistry(s) }

// SameRegistry reports whether two registry names denote the same registry (after
// RegistryAuthority; docker.io and its aliases are one registry).
func SameRegistry(a, b string) bool { return sameRegistry(normalizeRegistry(a), normalizeRegistry(b)) }

func sameRegistry(a, b string) bool {
	if a == b {
		return true
	}
	return slices.Contains(dockerHubAliases, a) && slices.Contains(dockerHubAliases, b)
}

func (c *Client) plainHTTP(reg string) bool {
	if c.opts.Insecure {
		return true
	}
	for _, r := range c.opts.InsecureRegistries {
		if normalizeRegistry(r) == reg {
			return true
		}
	}
	return false
}

func (c *Client) repository(r Reference) *remote.Repository {
	reg := r.Registry
	if reg == DockerHub {
		reg = "registry-1.docker.io"
	}
	return &remote.Repository{
		Client:    c.auth,
		Reference: registry.Reference{Registry: reg, Repository: r.Repository, Reference: r.Target()},
		PlainHTTP: c.plainHTTP(r.Registry),
		ManifestMediaTypes: []string{
			"application/vnd.oci.image.manifest.v1+json",
			"application/vnd.docker.distribution.manifest.v2+json",
			"application/vnd.oci.image.index.v1+json",
			"application/vnd.docker.distribution.manifest.list.v2+json",
		},
	}
}

func (c *Client) latestHint() string {
	if c.opts.LatestHint != "" {
		return c.opts.LatestHint
	}
	return "the flag '--allow-latest'"
}

func (c *Client) credentialHint() string {
	if c.opts.CredentialHint != "" {
		return c.opts.CredentialHint
	}
	return "check the username and password (or docker login)"
}

// cause turns transport and registry errors into one short line that names the cause.
func (c *Client) cause(reg string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	for _, known := range []error{ErrDigestMismatch, ErrMediaType, ErrNotFound, ErrUnauthorized, ErrUnreachable, ErrLatestProhibited, ErrUnsupported, ErrTooLarge} {
		if errors.Is(err, known) {
			return err
		}
	}
	var er *errcode.ErrorResponse
	if errors.As(err, &er) {
		detail := ""
		if len(er.Errors) > 0 {
			detail = ": " + strings.ToLower(er.Errors[0].Message)
		}
		switch er.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w: registry %s answered HTTP %d%s; %s", ErrUnauthorized, reg, er.StatusCode, detail, c.credentialHint())
		case http.StatusNotFound:
			return fmt.Errorf("%w: registry %s has no such repository, tag or blob%s", ErrNotFound, reg, detail)
		}
		return fmt.Errorf("registry %s answered %s %s with HTTP %d%s", reg, er.Method, er.URL.Path, er.StatusCode, detail)
	}
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return fmt.Errorf("%w: registry %s requires credentials and none were found (flags, environment, docker config)", ErrUnauthorized, reg)
	}
	if errors.Is(err, errdef.ErrNotFound) {
		return fmt.Errorf("%w: registry %s has no such repository, tag or blob", ErrNotFound, reg)
	}
	if strings.Contains(err.Error(), "digest mismatch") {
		return fmt.Errorf("%w: registry %s served content that does not match the requested digest", ErrDigestMismatch, reg)
	}
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ce) {
		return fmt.Errorf("registry %s: TLS certificate not trusted (%v); add a CA file or use the insecure-skip-TLS-verify option", reg, ce.Err)
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return fmt.Errorf("registry %s speaks plain HTTP; allow it as insecure (--insecure / --allowed-insecure)", reg)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) {
		inner := err
		if oe != nil {
			inner = oe
		}
		return fmt.Errorf("%w: %s: %v", ErrUnreachable, reg, inner)
	}
	return err
}
