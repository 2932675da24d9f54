package dev

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fsnotify/fsnotify"
)

// Watching the project for changes: every directory but the build outputs and ignored ones.

// watch watches the project tree, minus build outputs and ignored directories.
func (s *session) watch() (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching files: %w", err)
	}
	if err := s.addTree(w, s.cfg.ProjectDir); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

func (s *session) addTree(w *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if p != root && s.ignoredDir(p) {
			return filepath.SkipDir
		}
		if err := w.Add(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("watching %s: %w", p, err)
		}
		return nil
	})
}

func (s *session) ignoredDir(p string) bool {
	if skipDirs[filepath.Base(p)] {
		return true
	}
	for _, d := range s.outputDirs() {
		if p == d {
			return true
		}
	}
	return false
}

// outputDirs are the directories builds write into.
func (s *session) outputDirs() []string {
	dirs := []string{s.cfg.BuildDir, filepath.Dir(s.cfg.ArtifactPath()), filepath.Dir(s.cfg.SignedPath())}
	for _, d := range s.o.IgnoreDirs {
		if !filepath.IsAbs(d) {
			d = filepath.Join(s.cfg.ProjectDir, d)
		}
		dirs = append(dirs, filepath.Clean(d))
	}
	if s.o.ManifestOutputDir != "" {
		if abs, err := filepath.Abs(s.o.ManifestOutputDir); err == nil {
			dirs = append(dirs, abs)
		}
	}
	return dirs
}

// ignored says whether a changed path should not trigger a rebuild.
func (s *session) ignored(p string) bool {
	base := filepath.Base(p)
	if strings.HasPrefix(base, ".") && strings.Contains(base, ".tmp") || strings.HasSuffix(base, "~") ||
		strings.HasSuffix(base, ".swp") || strings.HasPrefix(base, ".#") {
		return true
	}
	for dir := filepath.Dir(p); ; dir = filepath.Dir(dir) {
		if dir != s.cfg.ProjectDir && s.ignoredDir(dir) {
			return true
		}
		if dir == s.cfg.ProjectDir || dir == filepath.Dir(dir) {
			break
		}
	}
	if s.o.ManifestOutputDir != "" && strings.HasSuffix(base, ".yaml") {
		if abs, err := filepath.Abs(s.o.ManifestOutputDir); err == nil && filepath.Dir(p) == abs {
			return true
		}
	}
	return false
}
