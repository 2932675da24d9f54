package oci

import (
	"context"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Resolve asks the registry which manifest ref names, downloading nothing else: it checks that
// a reference exists and is readable (wash app validate --check-image-refs).
func (c *Client) Resolve(ctx context.Context, ref string) (digest.Digest, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return "", &Error{Op: "resolve", Ref: strings.TrimSpace(ref), Err: err}
	}
	desc, err := c.repository(r).Resolve(ctx, r.Target())
	if err != nil {
		return "", &Error{Op: "resolve", Ref: r.String(), Err: c.cause(r.Registry, err)}
	}
	return desc.Digest, nil
}
