package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmlattice/wash/oci/par"
)

// ComponentInfo is the WIT world summary written into a component's config blob.
type ComponentInfo struct {
	Exports []string
	Imports []string
}

// PushRequest is an artifact to push.
type PushRequest struct {
	// Data is a wasm component or a provider archive, exactly as on disk.
	Data []byte
	// Kind is detected from Data when KindUnknown.
	Kind Kind
	// Component fills the config blob of a component (exports/imports of its world). The
	// caller decodes the world; nil lists are written as [].
	Component ComponentInfo
	// ProviderConfig is the config blob of a provider archive (wash -c); nil means "{}".
	ProviderConfig []byte
	// Annotations go on the manifest only.
	Annotations map[string]string
	// Created is the config's creation time; zero means now.
	Created time.Time
	// Progress, if set, is called as layer bytes are uploaded.
	Progress func(Progress)
}

// PushResult describes what was pushed.
type PushResult struct {
	Ref      Reference
	Digest   digest.Digest // manifest digest, computed locally as wash does
	Manifest []byte
	Config   []byte
	Layer    ocispec.Descriptor
}

// descriptor has its fields in sorted JSON-key order: wash sends canonical (sorted, compact) JSON.
type descriptor struct {
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	Size      int64         `json:"size"`
}

type manifest struct {
	Annotations   map[string]string `json:"annotations,omitempty"`
	Config        descriptor        `json:"config"`
	Layers        []descriptor      `json:"layers"`
	MediaType     string            `json:"mediaType,omitempty"`
	SchemaVersion int               `json:"schemaVersion"`
}

// wasmConfig keeps oci-wasm's struct order (this blob is not canonicalised upstream).
type wasmConfig struct {
	Created      chronoTime     `json:"created"`
	Author       *string        `json:"author"`
	Architecture string         `json:"architecture"`
	OS           string         `json:"os"`
	LayerDigests []string       `json:"layerDigests"`
	Component    *componentJSON `json:"component"`
}

type componentJSON struct {
	Exports []string `json:"exports"`
	Imports []string `json:"imports"`
	Target  *string  `json:"target"`
}

// chronoTime formats like Rust chrono's serde for DateTime<Utc>: RFC 3339 in UTC with "Z" and
// 0, 3, 6 or 9 fractional digits (Go's RFC3339Nano would trim to any length).
type chronoTime time.Time

func (t chronoTime) MarshalJSON() ([]byte, error) {
	u := time.Time(t).UTC()
	s := u.Format("2006-01-02T15:04:05")
	switch ns := u.Nanosecond(); {
	case ns == 0:
	case ns%1_000_000 == 0:
		s += fmt.Sprintf(".%03d", ns/1_000_000)
	case ns%1_000 == 0:
		s += fmt.Sprintf(".%06d", ns/1_000)
	default:
		s += fmt.Sprintf(".%09d", ns)
	}
	return json.Marshal(s + "Z")
}

// BuildManifest returns the manifest and config bytes wash would push for req (req.Kind must be
// set or detectable). It does no I/O, so tests can compare the bytes with upstream's.
func BuildManifest(req PushRequest) (manifestBytes, configBytes []byte, layer ocispec.Descriptor, err error) {
	kind := req.Kind
	if kind == KindUnknown {
		kind = Identify(req.Data)
	}
	layerDigest := digest.FromBytes(req.Data)
	var m manifest
	switch kind {
	case KindComponent:
		created := req.Created
		if created.IsZero() {
			created = time.Now()
		}
		cfg := wasmConfig{
			Created:      chronoTime(created),
			Architecture: "wasm",
			OS:           "wasip2",
			LayerDigests: []string{layerDigest.String()},
			Component: &componentJSON{
				Exports: nonNil(req.Component.Exports),
				Imports: nonNil(req.Component.Imports),
			},
		}
		if configBytes, err = json.Marshal(cfg); err != nil {
			return nil, nil, layer, err
		}
		layer = ocispec.Descriptor{MediaType: MediaTypeWasmLayer, Digest: layerDigest, Size: int64(len(req.Data))}
		m.MediaType = MediaTypeManifest
		m.Config = descriptor{Digest: digest.FromBytes(configBytes), MediaType: MediaTypeWasmConfig, Size: int64(len(configBytes))}
	case KindProvider:
		configBytes = req.ProviderConfig
		if configBytes == nil {
			configBytes = []byte("{}")
		}
		layer = ocispec.Descriptor{MediaType: MediaTypePARLayer, Digest: layerDigest, Size: int64(len(req.Data))}
		// Upstream leaves mediaType unset in PAR manifests.
		m.Config = descriptor{Digest: digest.FromBytes(configBytes), MediaType: MediaTypePARConfig, Size: int64(len(configBytes))}
	default:
		what := "neither a wasm component nor a provider archive"
		if kind == KindModule {
			what = "a core wasm module; only components and provider archives can be pushed"
		}
		return nil, nil, layer, fmt.Errorf("%w: the file is %s", ErrUnsupported, what)
	}
	m.SchemaVersion = 2
	m.Layers = []descriptor{{Digest: layer.Digest, MediaType: layer.MediaType, Size: layer.Size}}
	if len(req.Annotations) > 0 {
		m.Annotations = maps.Clone(req.Annotations)
	}
	manifestBytes, err = json.Marshal(m)
	return manifestBytes, configBytes, layer, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// CheckPushLatest applies the allow-latest rule for a push to r.
func (c *Client) CheckPushLatest(r Reference) error {
	if r.IsLatest() && !c.opts.AllowLatest {
		return sentinelError{ErrLatestProhibited, "pushing artifacts with tag 'latest' is prohibited; use a version tag or " + c.latestHint()}
	}
	return nil
}

// Push uploads req to ref: the layer, then the config, then the manifest under the tag (or by
// digest for a digest reference). Provider archives are loaded and hash-checked first.
func (c *Client) Push(ctx context.Context, ref string, req PushRequest) (*PushResult, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, &Error{Op: "push", Ref: strings.TrimSpace(ref), Err: err}
	}
	return c.PushReference(ctx, r, req)
}

// PushReference is Push for a parsed reference.
func (c *Client) PushReference(ctx context.Context, r Reference, req PushRequest) (*PushResult, error) {
	wrap := func(err error) error { return &Error{Op: "push", Ref: r.String(), Err: c.cause(r.Registry, err)} }
	if err := c.CheckPushLatest(r); err != nil {
		return nil, wrap(err)
	}
	if req.Kind == KindUnknown {
		req.Kind = Identify(req.Data)
	}
	if req.Kind == KindProvider {
		if _, err := par.Load(req.Data); err != nil {
			return nil, wrap(fmt.Errorf("%w: not a valid provider archive: %v", ErrUnsupported, err))
		}
	}
	mb, cb, layer, err := BuildManifest(req)
	if err != nil {
		return nil, wrap(err)
	}
	md := digest.FromBytes(mb)
	if r.Digest != "" && digest.Digest(r.Digest) != md {
		return nil, wrap(fmt.Errorf("%w: the manifest to push hashes to %s, not the digest in the reference", ErrDigestMismatch, md))
	}
	repo := c.repository(r)
	var body io.Reader = bytes.NewReader(req.Data)
	if req.Progress != nil {
		body = &progressReader{r: body, p: Progress{Digest: layer.Digest.String(), MediaType: layer.MediaType, Total: layer.Size}, fn: req.Progress}
	}
	if err := repo.Blobs().Push(ctx, layer, body); err != nil {
		return nil, wrap(fmt.Errorf("uploading layer: %w", c.cause(r.Registry, err)))
	}
	cdesc := ocispec.Descriptor{Digest: digest.FromBytes(cb), Size: int64(len(cb))}
	if req.Kind == KindComponent {
		cdesc.MediaType = MediaTypeWasmConfig
	} else {
		cdesc.MediaType = MediaTypePARConfig
	}
	if err := repo.Blobs().Push(ctx, cdesc, bytes.NewReader(cb)); err != nil {
		return nil, wrap(fmt.Errorf("uploading config: %w", c.cause(r.Registry, err)))
	}
	mdesc := ocispec.Descriptor{MediaType: MediaTypeManifest, Digest: md, Size: int64(len(mb))}
	if err := repo.PushReference(ctx, mdesc, bytes.NewReader(mb), r.Target()); err != nil {
		return nil, wrap(fmt.Errorf("uploading manifest: %w", c.cause(r.Registry, err)))
	}
	// What we pushed is now known-good content: a later pull by digest needs no network.
	if c.cache != nil {
		_ = c.cache.Put(layer.Digest, req.Data)
		_ = c.cache.Put(md, mb)
	}
	return &PushResult{Ref: r, Digest: md, Manifest: mb, Config: cb, Layer: layer}, nil
}
