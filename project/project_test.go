package project

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/wasmlattice/wash/lattice/wadm/model"
)

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadUpstreamFields(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, FileName, `
name = "hello"
language = "TypeScript"
type = "component"
version = "0.2.0"
revision = 3
surprise = true

[component]
build_command = "npm run build"
build_artifact = "dist/hello.wasm"
destination = "out/hello_s.wasm"
wasm_target = "wasm32-wasip2"
tags = ["a"]

[[dev.overrides.imports]]
interface_spec = "wasi:keyvalue@0.2.0-draft"
image_ref = "wasmcloud+builtin://keyvalue-redis"
link_config = { values = { url = "redis://127.0.0.1:6379" } }
`)
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "hello" || c.Language != "typescript" || c.Version != "0.2.0" || c.Revision != 3 {
		t.Errorf("config: %+v", c)
	}
	if c.ArtifactPath() != filepath.Join(dir, "dist/hello.wasm") || c.SignedPath() != filepath.Join(dir, "out/hello_s.wasm") {
		t.Errorf("paths: %s %s", c.ArtifactPath(), c.SignedPath())
	}
	if c.Component.WasmTargetResolved != "wasm32-wasip2" || c.BuildDir != filepath.Join(dir, "build") {
		t.Errorf("target %s build %s", c.Component.WasmTargetResolved, c.BuildDir)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "surprise") {
		t.Errorf("warnings: %v", c.Warnings)
	}
	o := c.Dev.Overrides.Imports
	if len(o) != 1 || o[0].Image() != "wasmcloud+builtin://keyvalue-redis" || o[0].LinkConfig[0].Values["url"] != "redis://127.0.0.1:6379" {
		t.Errorf("overrides: %+v", o)
	}
}

func TestLoadRustFromCargo(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, FileName, "language = \"rust\"\ntype = \"component\"\n[component]\nwasm_target = \"wasm32-wasip2\"\n")
	write(t, dir, "Cargo.toml", "[package]\nname = \"http-hello\"\nversion = \"1.2.3\"\n")
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "http-hello" || c.Version != "1.2.3" || c.BinName() != "http_hello" {
		t.Errorf("%s %s %s", c.Name, c.Version, c.BinName())
	}
	if c.SignedPath() != filepath.Join(dir, "build", "http_hello_s.wasm") {
		t.Errorf("signed path %s", c.SignedPath())
	}
}

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"name = \"x\"\nlanguage = \"rust", "line 2"},
		{"name = \"x\"\ntype = \"component\"\nversion = \"0.1.0\"", `missing field "language"`},
		{"name = \"x\"\nlanguage = \"go\"\ntype = \"widget\"\nversion = \"0.1.0\"", "unknown project type"},
		{"name = \"x\"\nlanguage = \"go\"\ntype = \"component\"\nversion = \"one\"", "semantic version"},
		{"language = \"go\"\ntype = \"component\"\nversion = \"0.1.0\"", `missing field "name"`},
		{"name = \"x\"\nlanguage = \"go\"\ntype = \"component\"\nversion = \"0.1.0\"\n[component]\nwasm_target = \"x86\"", "wasm_target"},
	} {
		dir := t.TempDir()
		write(t, dir, FileName, c.text)
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: err = %v, want one line containing %q", c.text, err, c.want)
		}
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no wasmcloud.toml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestDependenciesUpstreamMapping(t *testing.T) {
	imports := []string{"wasi:keyvalue/store@0.2.0-draft", "wasi:keyvalue/atomics@0.2.0-draft", "wasi:io/streams@0.2.0",
		"wasi:http/types@0.2.0", "wasi:http/outgoing-handler@0.2.0", "wasi:blobstore/blobstore@0.2.0-draft",
		"wasmcloud:messaging/consumer@0.2.0", "wasi:logging/logging@0.1.0-draft", "acme:custom/thing@1.0.0"}
	exports := []string{"wasi:http/incoming-handler@0.2.0", "wasmcloud:messaging/handler@0.2.0"}
	deps, err := Dependencies(imports, exports, Dev{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range deps {
		names = append(names, d.Name())
	}
	want := []string{"keyvalue-nats", "http-client", "blobstore-fs", "messaging-nats", "custom-acme-custom-thing", "http-server", "messaging-nats"}
	if !slices.Equal(names, want) {
		t.Errorf("deps = %v, want %v", names, want)
	}
	if !slices.Equal(deps[0].Interfaces, []string{"store", "atomics"}) {
		t.Errorf("keyvalue interfaces %v", deps[0].Interfaces)
	}
	if deps[0].LinkConfig[0].Properties["bucket"] != "wasmcloud" || deps[5].LinkConfig[0].Properties["address"] != DefaultHTTPAddress {
		t.Errorf("default link configs: %+v %+v", deps[0].LinkConfig, deps[5].LinkConfig)
	}
}

func TestDependenciesOverridesAndManifest(t *testing.T) {
	var dev Dev
	dev.Overrides.Imports = []Override{{InterfaceSpec: "wasi:keyvalue", ImageRef: "wasmcloud+builtin://keyvalue-redis",
		LinkConfig: oneOrMoreCfg{{Values: map[string]string{"url": "redis://127.0.0.1:6390"}}}}}
	dev.Overrides.Exports = []Override{{InterfaceSpec: "wasi:http/incoming-handler", LinkConfig: oneOrMoreCfg{{Values: map[string]string{"address": "127.0.0.1:9999"}}}}}
	deps, err := Dependencies([]string{"wasi:keyvalue/atomics@0.2.0-draft"}, []string{"wasi:http/incoming-handler@0.2.10"}, dev)
	if err != nil {
		t.Fatal(err)
	}
	m := DevManifest(DevComponent{Name: "counter", ID: "abc123-counter", Image: "file:///p/build/counter_s.wasm", Session: "abc123"}, deps)
	if m.Metadata.Name != "dev-counter" || m.HTTPAddress() != "127.0.0.1:9999" {
		t.Errorf("name %s address %s", m.Metadata.Name, m.HTTPAddress())
	}
	y, err := m.YAML()
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := yaml.Unmarshal(y, &back); err != nil {
		t.Fatal(err)
	}
	// the generated manifest passes wadm's own validation
	if _, fails, err := model.ValidateBytes(y); err != nil || len(fails) > 0 {
		t.Errorf("wadm validation: %v %v\n%s", err, fails, y)
	}
	for _, want := range []string{"wasmcloud+builtin://keyvalue-redis", "redis://127.0.0.1:6390", "abc123-dep-keyvalue-redis", "abc123-dep-http-server", "id: abc123-counter"} {
		if !strings.Contains(string(y), want) {
			t.Errorf("manifest lacks %q:\n%s", want, y)
		}
	}
	if _, err := Dependencies(nil, nil, Dev{Overrides: struct {
		Imports []Override `toml:"imports"`
		Exports []Override `toml:"exports"`
	}{Imports: []Override{{InterfaceSpec: "not a spec"}}}}); err == nil {
		t.Error("a bad interface spec was accepted")
	}
}

func TestAugmentManifest(t *testing.T) {
	in := []byte(`apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: shop
spec:
  components:
    - name: api
      type: component
      properties:
        image: ghcr.io/acme/api:1.0.0
    - name: kv
      type: capability
      properties:
        image: wasmcloud+builtin://keyvalue-nats
    - name: front
      type: component
      properties:
        image: file://../front/build/front_s.wasm
`)
	dir := filepath.Join(t.TempDir(), "api")
	front := filepath.Join(filepath.Dir(dir), "front", "build", "front_s.wasm")
	c := DevComponent{Name: "api", ID: "abc123-api", Image: "file:///p/build/api_s.wasm", Session: "abc123"}
	// a relative file:// image resolves against the manifest's directory and must exist
	if _, _, err := AugmentManifest(in, dir, DevManifestRef{ComponentName: "api"}, c); err == nil ||
		err.Error() != `component "front": image file://`+front+` does not exist (build it first)` {
		t.Fatalf("missing front: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(front), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(front, []byte("\x00asm"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, name, err := AugmentManifest(in, dir, DevManifestRef{ComponentName: "api"}, c)
	if err != nil || name != "shop" {
		t.Fatal(name, err)
	}
	if !strings.Contains(string(out), "image: file:///p/build/api_s.wasm") || !strings.Contains(string(out), "id: abc123-api") ||
		!strings.Contains(string(out), "wasmcloud+builtin://keyvalue-nats") || !strings.Contains(string(out), "image: file://"+front) {
		t.Errorf("augmented:\n%s", out)
	}
	if _, _, err := AugmentManifest(in, dir, DevManifestRef{ComponentRef: "nope"}, c); err == nil {
		t.Error("a manifest without the component was accepted")
	}
}
