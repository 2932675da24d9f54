package model

import (
	"strings"
	"testing"
)

func TestManifestNameLengths(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, doc := range []string{
		"apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata:\n  name: " + long + "\n  annotations: {}\nspec:\n  components: []\n",
		"apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata:\n  name: app\n  annotations: {}\nspec:\n  components:\n    - name: " + long + "\n      type: component\n      properties:\n        image: file:///x.wasm\n",
	} {
		m, err := ParseManifest([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if msg := CheckPut(m); !strings.Contains(msg, "at most 255 bytes") {
			t.Fatalf("CheckPut = %q", msg)
		}
	}
}
