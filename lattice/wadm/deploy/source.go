// Package deploy is what a client does to deploy an application to wadm: read the manifest from
// a file, URL or stdin and check it locally (source.go), then store it, deploy it and wait until
// wadm reports it deployed or failed, with the providers' health reasons when it failed
// (deploy.go). `wash app` and `wash dev` use it; it talks to wadm only through its client.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/wasmlattice/wash/internal/bounded"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// Source is a manifest read from a file, a URL or stdin.
type Source struct {
	Data []byte
	Dir  string // directory relative file:// refs resolve against ("" for URLs)
	Name string // what the user named, for messages
}

// IsSource reports whether arg names a manifest rather than a stored app name.
func IsSource(arg string) bool {
	if arg == "-" || strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
		return true
	}
	if st, err := os.Stat(arg); err == nil && !st.IsDir() {
		return true
	}
	ext := strings.ToLower(filepath.Ext(arg))
	return ext == ".yaml" || ext == ".yml" || ext == ".json"
}

// MaxManifestSize bounds a manifest read from a file, URL or stdin; real manifests are a few
// kilobytes, and what wadm stores must fit in one NATS message anyway.
const MaxManifestSize = 16 << 20

// ReadSource reads a manifest from a path, a URL (fetched with httpc) or "-" (stdin).
func ReadSource(ctx context.Context, stdin io.Reader, httpc *http.Client, arg string) (Source, error) {
	switch {
	case arg == "-":
		b, err := bounded.ReadAll(stdin, MaxManifestSize, "the manifest on stdin")
		if err != nil {
			return Source{}, err
		}
		wd, _ := os.Getwd()
		return Source{Data: b, Dir: wd, Name: "stdin"}, nil
	case strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://"):
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, arg, nil)
		if err != nil {
			return Source{}, fmt.Errorf("invalid manifest URL %s: %w", arg, err)
		}
		resp, err := httpc.Do(req)
		if err != nil {
			return Source{}, fmt.Errorf("fetching manifest %s: %w", arg, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return Source{}, fmt.Errorf("fetching manifest %s: HTTP %s", arg, resp.Status)
		}
		b, err := bounded.ReadAll(resp.Body, MaxManifestSize, "manifest "+arg)
		if err != nil {
			return Source{}, fmt.Errorf("fetching manifest %s: %w", arg, err)
		}
		return Source{Data: b, Name: arg}, nil
	}
	b, err := bounded.ReadFile(arg, MaxManifestSize)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Source{}, fmt.Errorf("manifest file %s does not exist", arg)
		}
		if errors.Is(err, bounded.ErrTooLarge) {
			return Source{}, fmt.Errorf("manifest %w", err)
		}
		return Source{}, fmt.Errorf("reading manifest %s: %w", arg, err)
	}
	abs, _ := filepath.Abs(arg)
	return Source{Data: b, Dir: filepath.Dir(abs), Name: arg}, nil
}

// Prepare parses and checks a manifest locally (so bad input is reported before anything is
// stored), resolves relative file:// images against the manifest's directory and checks that
// file:// images exist. It returns the manifest as JSON for model.put.
func Prepare(src Source) (*model.Manifest, []byte, error) {
	m, err := model.ParseManifest(src.Data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %s", src.Name, oneLine(err.Error()))
	}
	if msg := model.CheckPut(m); msg != "" {
		return nil, nil, fmt.Errorf("%s: invalid manifest: %s", src.Name, msg)
	}
	for i := range m.Spec.Components {
		c := &m.Spec.Components[i]
		if c.Properties.Image == nil {
			continue
		}
		img := *c.Properties.Image
		path, ok := strings.CutPrefix(img, "file://")
		if !ok {
			continue
		}
		if !filepath.IsAbs(path) && src.Dir != "" {
			path = filepath.Join(src.Dir, path)
			img = "file://" + path
			c.Properties.Image = &img
		}
		if _, err := os.Stat(path); err != nil {
			return nil, nil, fmt.Errorf("%s: component %q: image %s does not exist", src.Name, c.Name, img)
		}
	}
	b, err := m.MarshalCanonical()
	if err != nil {
		return nil, nil, err
	}
	return m, b, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Load reads a manifest from a path, URL or "-" and prepares it (ReadSource, then Prepare).
func Load(ctx context.Context, stdin io.Reader, httpc *http.Client, arg string) (*model.Manifest, []byte, error) {
	src, err := ReadSource(ctx, stdin, httpc, arg)
	if err != nil {
		return nil, nil, err
	}
	return Prepare(src)
}
