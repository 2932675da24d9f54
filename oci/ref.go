package oci

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"oras.land/oras-go/v2/registry"
)

// DockerHub is the registry a reference without a registry part resolves to.
const DockerHub = "docker.io"

// Reference is a parsed OCI reference. Tag and Digest may both be set ("repo:tag@sha256:…");
// then the digest is what is fetched.
type Reference struct {
	Registry   string // authority: host or host:port
	Repository string
	Tag        string
	Digest     string
	// ImpliedTag is true when the input had neither tag nor digest and Tag was set to "latest".
	ImpliedTag bool
}

// ErrInvalidReference is wrapped by every parse error.
var ErrInvalidReference = errors.New("invalid reference")

// ParseReference parses an OCI reference the way wash does: the whole string is lower-cased,
// "oci://", "http://" and "https://" prefixes are stripped, and the Docker grammar applies — the
// first path component is the registry only if it contains '.' or ':' or is "localhost";
// otherwise the registry is docker.io (and single names get "library/"). A reference with
// neither tag nor digest gets tag "latest" (ImpliedTag).
func ParseReference(s string) (Reference, error) { return ParseReferenceDefault(s, "") }

// ParseReferenceDefault is ParseReference with a default registry used instead of docker.io
// when the reference has no registry part (wash's --registry / WASH_REG_URL).
func ParseReferenceDefault(s, defaultRegistry string) (Reference, error) {
	orig := s
	bad := func(why string) (Reference, error) {
		return Reference{}, fmt.Errorf("%w %q: %s; expected [registry/]repository[:tag][@sha256:digest]", ErrInvalidReference, orig, why)
	}
	s = strings.ToLower(strings.TrimSpace(s))
	for _, p := range []string{"oci://", "http://", "https://"} {
		if strings.HasPrefix(s, p) {
			s = s[len(p):]
			break
		}
	}
	if s == "" {
		return bad("empty")
	}
	if strings.Contains(s, "://") {
		return bad("unsupported scheme")
	}
	var r Reference
	if i := strings.IndexByte(s, '@'); i >= 0 {
		r.Digest = s[i+1:]
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 && !strings.Contains(s[i:], "/") {
		r.Tag = s[i+1:]
		s = s[:i]
		if r.Tag == "" {
			return bad("empty tag")
		}
	}
	if strings.Contains(s, "@") || (r.Digest == "" && strings.HasSuffix(orig, "@")) {
		return bad("empty or repeated digest")
	}
	name := s
	if i := strings.IndexByte(name, '/'); i >= 0 && looksLikeRegistry(name[:i]) {
		r.Registry, r.Repository = name[:i], name[i+1:]
	} else if defaultRegistry != "" {
		r.Registry, r.Repository = strings.ToLower(strings.TrimSuffix(defaultRegistry, "/")), name
		for _, p := range []string{"oci://", "http://", "https://"} {
			r.Registry = strings.TrimPrefix(r.Registry, p)
		}
	} else {
		r.Registry, r.Repository = DockerHub, name
		if !strings.Contains(name, "/") {
			r.Repository = "library/" + name
		}
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag, r.ImpliedTag = "latest", true
	}
	o := registry.Reference{Registry: r.Registry, Repository: r.Repository}
	if err := o.ValidateRegistry(); err != nil {
		return bad("bad registry " + r.Registry)
	}
	if err := o.ValidateRepository(); err != nil {
		return bad("bad repository name " + r.Repository)
	}
	if r.Tag != "" {
		o.Reference = r.Tag
		if err := o.ValidateReferenceAsTag(); err != nil {
			return bad("bad tag " + r.Tag)
		}
	}
	if r.Digest != "" {
		o.Reference = r.Digest
		if err := o.ValidateReferenceAsDigest(); err != nil {
			return bad("bad digest " + r.Digest)
		}
	}
	return r, nil
}

func looksLikeRegistry(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost"
}

// String renders registry/repository[:tag][@digest].
func (r Reference) String() string {
	s := r.Registry + "/" + r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Target is what to resolve in the registry: the digest if any, else the tag.
func (r Reference) Target() string {
	if r.Digest != "" {
		return r.Digest
	}
	return r.Tag
}

// IsLatest reports whether the reference resolves through the tag "latest" (explicit or implied).
func (r Reference) IsLatest() bool { return r.Digest == "" && r.Tag == "latest" }

// RefKind says what a host resource reference points at.
type RefKind int

// Resource reference kinds.
const (
	RefOCI RefKind = iota
	RefFile
	RefBuiltin
)

func (k RefKind) String() string {
	return [...]string{"oci", "file", "builtin"}[k]
}

// BuiltinScheme marks the built-in providers.
const BuiltinScheme = "wasmcloud+builtin://"

// ResourceRef is a component or provider reference as the host accepts it.
type ResourceRef struct {
	Kind RefKind
	// Raw is the input as given.
	Raw string
	// OCI is the parsed reference for RefOCI.
	OCI Reference
	// Path is the absolute file path for RefFile.
	Path string
	// Builtin is the provider name for RefBuiltin ("http-server", …).
	Builtin string
}

// ParseResourceRef classifies a host reference: file:///abs/path, wasmcloud+builtin://name, or
// OCI (with oci://, http:// and https:// stripped; other schemes and bare refs taken as OCI).
// A plain local path (relative or absolute, e.g. "./build/x.wasm") is NOT accepted here: the
// CLI turns paths into file:// URLs before sending, as wash does.
func ParseResourceRef(s string) (ResourceRef, error) {
	raw := s
	s = strings.TrimSpace(s)
	low := strings.ToLower(s)
	switch {
	case strings.HasPrefix(low, "file://"):
		u, err := url.Parse(s)
		if err != nil || u.Path == "" {
			return ResourceRef{}, fmt.Errorf("%w %q: expected file:///absolute/path", ErrInvalidReference, raw)
		}
		if u.Host != "" && u.Host != "localhost" {
			return ResourceRef{}, fmt.Errorf("%w %q: file URLs must not name a host; use file:///absolute/path", ErrInvalidReference, raw)
		}
		return ResourceRef{Kind: RefFile, Raw: raw, Path: filepath.FromSlash(u.Path)}, nil
	case strings.HasPrefix(low, BuiltinScheme):
		name := low[len(BuiltinScheme):]
		if name == "" || strings.ContainsAny(name, "/:@") {
			return ResourceRef{}, fmt.Errorf("%w %q: expected wasmcloud+builtin://<name>", ErrInvalidReference, raw)
		}
		return ResourceRef{Kind: RefBuiltin, Raw: raw, Builtin: name}, nil
	}
	r, err := ParseReference(s)
	if err != nil {
		return ResourceRef{}, err
	}
	return ResourceRef{Kind: RefOCI, Raw: raw, OCI: r}, nil
}

// FileRef turns a local path into the absolute file:// URL the host expects.
func FileRef(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}
