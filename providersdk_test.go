package wash

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The embedded SDK must build on its own: every package of this module it imports is
// embedded too, and its other imports are the standard library or the modules that the
// provider templates' go.mod files require.
func TestProviderSDKIsClosed(t *testing.T) {
	const module = "github.com/wasmlattice/wash/"
	external := []string{"github.com/nats-io/nats.go", "github.com/nats-io/nkeys", "github.com/nats-io/nuid"}
	sdk := ProviderSDK()
	files := 0
	for _, pkg := range ProviderSDKPackages {
		entries, err := fs.ReadDir(sdk, pkg)
		if err != nil {
			t.Fatalf("%s is not embedded: %v", pkg, err)
		}
		goFiles := 0
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
				continue
			}
			if strings.HasSuffix(e.Name(), "_test.go") {
				t.Errorf("%s/%s: test files must not be copied into projects", pkg, e.Name())
			}
			goFiles++
			name := path.Join(pkg, e.Name())
			src, err := fs.ReadFile(sdk, name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				switch {
				case strings.HasPrefix(p, module):
					if !slices.Contains(ProviderSDKPackages, strings.TrimPrefix(p, module)) {
						t.Errorf("%s imports %s, which is not embedded: add it to the go:embed lines and ProviderSDKPackages", name, p)
					}
				case !strings.Contains(strings.Split(p, "/")[0], "."):
					// standard library
				default:
					ok := false
					for _, m := range external {
						ok = ok || p == m || strings.HasPrefix(p, m+"/")
					}
					if !ok {
						t.Errorf("%s imports %s: add its module to the provider templates' go.mod and wash-sdk/go.mod", name, p)
					}
				}
			}
		}
		if goFiles == 0 {
			t.Errorf("%s has no Go files embedded", pkg)
		}
		files += goFiles
	}
	if _, err := fs.ReadFile(sdk, "provider/provider_test.go"); err == nil {
		t.Error("a test file can be read")
	}
	t.Logf("%d source files embedded", files)
}
