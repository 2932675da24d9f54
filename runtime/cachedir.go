package runtime

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"time"
)

// staleCacheAge is how long the compiled code of other wash builds is kept.
const staleCacheAge = 7 * 24 * time.Hour

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// CompilationCacheDir returns the directory under root for the compiled code of this build of
// wash: one per version (and VCS revision when the binary records one), so an upgrade never
// reads code compiled by another build. Within it, wazero keys code by the content digest of
// each compiled module. The directory is touched on every call, and the directories of other
// builds not touched for a week are removed (best effort).
func CompilationCacheDir(root, version string) string {
	name := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				name += "-" + s.Value[:12]
			}
		}
	}
	name = unsafeName.ReplaceAllString(name, "_")
	if name == "" {
		name = "unknown"
	}
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o700); err == nil {
		now := time.Now()
		_ = os.Chtimes(dir, now, now)
	}
	if entries, err := os.ReadDir(root); err == nil {
		for _, e := range entries {
			if !e.IsDir() || e.Name() == name {
				continue
			}
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleCacheAge {
				_ = os.RemoveAll(filepath.Join(root, e.Name()))
			}
		}
	}
	return dir
}
