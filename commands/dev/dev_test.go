package dev

import (
	"path/filepath"
	"testing"

	"github.com/wasmlattice/wash/project"
)

func TestIgnoredPaths(t *testing.T) {
	dir := t.TempDir()
	cfg := &project.Config{ProjectDir: dir, BuildDir: filepath.Join(dir, "build")}
	cfg.Component.BuildArtifact = "out/app.wasm"
	cfg.Component.Destination = "signed/app_s.wasm"
	s := &session{cfg: cfg, o: &Options{IgnoreDirs: []string{"assets"}}}
	for p, want := range map[string]bool{
		"src/component.ts":           false,
		"wasmcloud.toml":             false,
		"wit/world.wit":              false,
		"build/app_s.wasm":           true,
		"out/app.wasm":               true,
		"signed/app_s.wasm":          true,
		"node_modules/x/index.js":    true,
		"target/release/app.wasm":    true,
		"assets/logo.png":            true,
		".git/index":                 true,
		"src/.component.ts.swp":      true,
		"src/component.ts~":          true,
		"src/.wasmcloud.toml.tmp-12": true,
	} {
		if got := s.ignored(filepath.Join(dir, p)); got != want {
			t.Errorf("ignored(%s) = %v, want %v", p, got, want)
		}
	}
}

func TestSessionIDStable(t *testing.T) {
	a, b := SessionID("/home/me/hello"), SessionID("/home/me/hello")
	if a != b || len(a) != 6 || SessionID("/home/me/other") == a {
		t.Errorf("session ids %s %s", a, b)
	}
}
