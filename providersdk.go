// Package wash carries part of wash's own source inside the binary: the Go provider SDK
// (provider/ and the wRPC transport it links), which `wash new provider` copies into a new
// provider project. The module github.com/wasmlattice/wash is not published, so a generated
// project gets the SDK as a local module of its own (go.mod: replace ... => ./wash-sdk) and
// builds with nothing but the Go module proxy (or a module cache that already holds nats.go).
//
// This package sits at the module root only because go:embed cannot reach into parent
// directories; it has no other job.
package wash

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

// The SDK packages and every package of this module they import. TestProviderSDKIsClosed
// fails when one of them starts importing another package of this module.
//
//go:embed provider/*.go provider/keyvalue/*.go
//go:embed lattice/wrpc/*.go lattice/wrpc/interfaces/*.go lattice/wrpc/internal/workers/*.go lattice/wrpc/wrpchttp/*.go
//go:embed internal/leb128/*.go
var sdkSource embed.FS

// ProviderSDKPackages are the import paths ProviderSDK holds, relative to the module.
var ProviderSDKPackages = []string{"provider", "provider/keyvalue", "lattice/wrpc", "lattice/wrpc/interfaces", "lattice/wrpc/internal/workers", "lattice/wrpc/wrpchttp", "internal/leb128"}

// ProviderSDK is the SDK's source tree as the module lays it out (provider/provider.go,
// lattice/wrpc/conn.go, …), without tests.
func ProviderSDK() fs.FS { return sourceFS{sdkSource} }

// sourceFS hides _test.go files.
type sourceFS struct{ fsys embed.FS }

func hidden(name string) bool { return strings.HasSuffix(path.Base(name), "_test.go") }

func (s sourceFS) Open(name string) (fs.File, error) {
	if hidden(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return s.fsys.Open(name)
}

func (s sourceFS) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := s.fsys.ReadDir(name)
	if err != nil {
		return nil, err
	}
	out := entries[:0:0]
	for _, e := range entries {
		if !hidden(e.Name()) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (s sourceFS) ReadFile(name string) ([]byte, error) {
	if hidden(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return s.fsys.ReadFile(name)
}
