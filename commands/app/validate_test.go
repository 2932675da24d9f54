package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/commands/app"
	"github.com/wasmlattice/wash/lattice/wadm/deploy"
)

// TestValidateBuiltins (#12.7): validate and deploy agree on wasmcloud+builtin:// providers; the
// repository's example manifests validate.
func TestValidateBuiltins(t *testing.T) {
	examples, _ := filepath.Glob("../../examples/*/*.yaml")
	if len(examples) == 0 {
		t.Fatal("no example manifests found")
	}
	for _, path := range examples {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if errs, _, err := app.Validate(deploy.Source{Data: data, Dir: filepath.Dir(path), Name: path}); err != nil || len(errs) > 0 {
			t.Errorf("%s: %v %v", path, errs, err)
		}
	}
	manifest := func(typ, image string) deploy.Source {
		return deploy.Source{Name: "m", Data: []byte(`apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: b
  annotations: {}
spec:
  components:
    - name: p
      type: ` + typ + `
      properties:
        image: ` + image + `
`)}
	}
	for _, c := range []struct{ typ, image, err, warn string }{
		{"capability", "wasmcloud+builtin://http-server", "", ""},
		{"capability", "wasmcloud+builtin://keyvalue-inmemory", "", "runs on wash hosts only"},
		{"capability", "wasmcloud+builtin://http-servr", `unknown built-in provider "http-servr" (built in: `, ""},
		{"component", "wasmcloud+builtin://http-server", "is a built-in provider; give it type: capability", ""},
		{"capability", "ghcr.io/wasmcloud/http-server:0.23.0", "", ""},
		{"capability", "not a ref", "is not a valid OCI reference", ""},
	} {
		errs, warns, err := app.Validate(manifest(c.typ, c.image))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(errs, "|"); (c.err == "") != (got == "") || !strings.Contains(got, c.err) {
			t.Errorf("%s %s: errors %q, want %q", c.typ, c.image, got, c.err)
		}
		if got := strings.Join(warns, "|"); (c.warn == "") != (got == "") || !strings.Contains(got, c.warn) {
			t.Errorf("%s %s: warnings %q, want %q", c.typ, c.image, got, c.warn)
		}
	}
}
