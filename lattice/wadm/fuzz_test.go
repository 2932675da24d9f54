package wadm

import (
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParseManifest checks the parser never panics, errors are one line, and
// every accepted manifest validates, schedules and round-trips through its
// canonical JSON.
func FuzzParseManifest(f *testing.F) {
	_ = filepath.Walk(filepath.Join("model", "testdata"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".json")) && !strings.Contains(p, "fuzz") {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := model.ParseManifest(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		_ = model.Validate(m)
		_ = model.CheckPut(m)
		_ = model.ValidateSchema(data)
		s := NewLatticeState()
		s.AddHost("h1", map[string]string{"zone": "a"})
		s.AddHost("h2", nil)
		scalers := BuildScalers(m)
		if len(m.Spec.Components) < 50 {
			_, _ = ReconcileAll(scalers, s)
			_ = CleanupAll(scalers, s)
		}
		js, err := m.MarshalCanonical()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		m2, err := model.ParseStoredManifestJSON(js)
		if err != nil {
			t.Fatalf("canonical JSON does not parse: %v\n%s", err, js)
		}
		js2, err := m2.MarshalCanonical()
		if err != nil || string(js) != string(js2) {
			t.Fatalf("canonical JSON not stable:\n%s\n%s", js, js2)
		}
	})
}

func TestAliasBombIsBounded(t *testing.T) {
	doc := "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
	prev := "a"
	for i := 0; i < 9; i++ {
		name := string(rune('b' + i))
		doc += name + ": &" + name + " [" + strings.Repeat("*"+prev+",", 9) + "*" + prev + "]\n"
		prev = name
	}
	start := time.Now()
	_, err := model.ParseManifest([]byte(doc))
	if err == nil {
		t.Fatal("expected an error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("alias expansion took %v", d)
	}
	t.Log(time.Since(start), err)
}
