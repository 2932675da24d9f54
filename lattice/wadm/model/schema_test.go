package model

import (
	"bufio"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// schemaOutcomesFile records, for every schema fixture and each of its
// one-step mutations (schemaMutations), whether the document is accepted.
// The outcomes were produced with github.com/santhosh-tekuri/jsonschema/v6,
// the validator used before, so the current one is held to its verdicts.
const schemaOutcomesFile = "testdata/schema/outcomes.txt"

// schemaFixtures lists the documents the mutation corpus is built from.
func schemaFixtures(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.Walk("testdata", func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".json")) {
			files = append(files, filepath.ToSlash(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

func schemaDoc(t testing.TB, file string) any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	n, err := yamlToNode(data)
	if err != nil {
		if n, err = jsonToNode(data); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	return schemaValue(n)
}

// schemaMutations returns v followed by every variant of v with one local
// change: each value replaced by values of other JSON types, each key
// removed, an unknown key added to each object, each array element removed.
// The order is deterministic (keys sorted).
func schemaMutations(v any) []any {
	out := []any{v}
	replacements := []any{int64(1), int64(-1), 1.5, int64(4294967296), uint64(1 << 63), 2.0, -0.5, "x", "", true, nil, []any{}, map[string]any{}}
	var walk func(cur any, set func(any) any)
	walk = func(cur any, set func(any) any) {
		for _, r := range replacements {
			out = append(out, set(r))
		}
		switch x := cur.(type) {
		case map[string]any:
			m := cloneValue(x).(map[string]any)
			m["zzUnknown"] = "x"
			out = append(out, set(m))
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				m := cloneValue(x).(map[string]any)
				delete(m, k)
				out = append(out, set(m))
				walk(x[k], func(nv any) any {
					m := cloneValue(x).(map[string]any)
					m[k] = nv
					return set(m)
				})
			}
		case []any:
			for i := range x {
				a := cloneValue(x).([]any)
				out = append(out, set(slices.Delete(a, i, i+1)))
				walk(x[i], func(nv any) any {
					a := cloneValue(x).([]any)
					a[i] = nv
					return set(a)
				})
			}
		}
	}
	walk(v, func(nv any) any { return cloneValue(nv) })
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		o := make(map[string]any, len(x))
		for k, e := range x {
			o[k] = cloneValue(e)
		}
		return o
	case []any:
		o := make([]any, len(x))
		for i, e := range x {
			o[i] = cloneValue(e)
		}
		return o
	}
	return v
}

// outcomeBits packs accepted/rejected verdicts into a hex string (bit i set =
// document i accepted).
func outcomeBits(ok []bool) string {
	n := new(big.Int)
	for i, b := range ok {
		if b {
			n.SetBit(n, i, 1)
		}
	}
	return n.Text(16)
}

func readSchemaOutcomes(t testing.TB) map[string]string {
	t.Helper()
	f, err := os.Open(schemaOutcomesFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 {
			t.Fatalf("bad line in %s: %q", schemaOutcomesFile, line)
		}
		want[fields[0]] = fields[1] + " " + fields[2]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return want
}

// TestSchemaReferenceOutcomes holds the validator to the accept/reject
// verdicts of the previous validator on tens of thousands of documents.
func TestSchemaReferenceOutcomes(t *testing.T) {
	if testing.Short() {
		t.Skip("mutation corpus is slow")
	}
	s, err := compiledSchema()
	if err != nil {
		t.Fatal(err)
	}
	want := readSchemaOutcomes(t)
	files := schemaFixtures(t)
	if len(files) != len(want) {
		t.Errorf("%d fixtures, %s lists %d", len(files), schemaOutcomesFile, len(want))
	}
	total := 0
	for _, file := range files {
		docs := schemaMutations(schemaDoc(t, file))
		ok := make([]bool, len(docs))
		for i, d := range docs {
			ok[i] = s.full.Validate(d) == nil
		}
		total += len(docs)
		got := strconv.Itoa(len(docs)) + " " + outcomeBits(ok)
		if w, found := want[file]; !found {
			t.Errorf("%s: not in %s", file, schemaOutcomesFile)
		} else if got != w {
			wf := strings.Fields(w)
			wn, _ := strconv.Atoi(wf[0])
			wb, _ := new(big.Int).SetString(wf[1], 16)
			for i := range min(wn, len(ok)) {
				if (wb.Bit(i) == 1) != ok[i] {
					t.Errorf("%s mutation #%d: accepted = %v, reference says %v", file, i, ok[i], !ok[i])
					break
				}
			}
			if wn != len(docs) {
				t.Errorf("%s: %d mutations, reference has %d", file, len(docs), wn)
			}
		}
	}
	t.Logf("%d documents", total)
}

// TestSchemaErrorsOneLine checks every rejection in the mutation corpus of a
// few fixtures is one line naming a document path.
func TestSchemaErrorsOneLine(t *testing.T) {
	files := []string{"testdata/oam/simple1.yaml", "testdata/oam/config.yaml", "testdata/" + fixtureDir + "/simple.wadm.yaml"}
	if testing.Short() {
		files = files[:1]
	}
	for _, file := range files {
		for i, d := range schemaMutations(schemaDoc(t, file)) {
			err := validateSchemaValue(d)
			if err == nil {
				continue
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || len(msg) > 400 ||
				!strings.HasPrefix(msg, "manifest does not match the OAM schema at ") ||
				strings.Contains(msg, "does not match the schema") {
				t.Errorf("%s #%d: %q", file, i, msg)
			}
		}
	}
}

func TestSchemaErrorMessages(t *testing.T) {
	const base = `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: demo
  annotations: {version: v1}
spec:
  components:
    - name: hello
      type: component
      properties:
        image: ghcr.io/example/hello:1
      traits:
        - type: spreadscaler
          properties:
            instances: 1
`
	if err := ValidateSchema([]byte(base)); err != nil {
		t.Fatalf("base document: %v", err)
	}
	cases := []struct{ name, old, new, want string }{
		{"legacy actor type", "type: component", "type: actor",
			`at /spec/components/0/type: got "actor", want one of "component", "capability"`},
		{"unknown trait key", "        - type: spreadscaler\n", "        - type: spreadscaler\n          incorrect: true\n",
			`at /spec/components/0/traits/0: unknown key "incorrect"`},
		{"unknown top-level key", "kind: Application\n", "kind: Application\nextra: 1\n",
			`at the document root: unknown key "extra"`},
		{"missing name", "    - name: hello\n      type", "    - type",
			`at /spec/components/0: missing required key "name"`},
		{"missing annotations", "  annotations: {version: v1}\n", "",
			`at /metadata: missing required key "annotations"`},
		{"wrong scalar type", "image: ghcr.io/example/hello:1", "image: 7",
			`at /spec/components/0/properties/image: got integer, want one of string, null`},
		{"annotation value type", "{version: v1}", "{version: v1, n: 1.5}",
			`at /metadata/annotations/n: got number, want string`},
		{"unknown property key", "image: ghcr.io/example/hello:1", "image: ghcr.io/example/hello:1\n        imgae: x",
			`at /spec/components/0/properties: unknown key "imgae"`},
		{"traits not a list", "      traits:\n        - type: spreadscaler\n          properties:\n            instances: 1\n", "      traits: 3\n",
			`at /spec/components/0/traits: got integer, want one of array, null`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(base, tc.old, tc.new, 1)
			if doc == base {
				t.Fatal("replacement did not apply")
			}
			err := ValidateSchema([]byte(doc))
			want := "manifest does not match the OAM schema " + tc.want
			if err == nil || err.Error() != want {
				t.Errorf("got  %v\nwant %s", err, want)
			}
		})
	}
}

// TestSchemaOddNumbers: numbers JSON cannot carry and huge integers are
// judged as numbers, without panics.
func TestSchemaOddNumbers(t *testing.T) {
	for _, v := range []string{".inf", "-.Inf", ".nan", "1e400", "18446744073709551616", "-9223372036854775809", "0x1F", "1_000"} {
		doc := fmt.Sprintf("apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: x, annotations: {}}\nspec:\n  components:\n    - name: a\n      type: component\n      properties: {image: x}\n      traits:\n        - type: spreadscaler\n          properties: {instances: %s}\n", v)
		if err := ValidateSchema([]byte(doc)); err != nil {
			t.Errorf("instances %s: %v", v, err)
		}
		if v == "1e400" {
			continue // a YAML string, not a number
		}
		doc = strings.Replace(doc, "name: x,", "name: "+v+",", 1)
		if err := ValidateSchema([]byte(doc)); err == nil || !strings.Contains(err.Error(), "at /metadata/name: got ") {
			t.Errorf("name %s: %v", v, err)
		}
	}
}

func BenchmarkValidateSchema(b *testing.B) {
	data, err := os.ReadFile("testdata/" + fixtureDir + "/complex.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := ValidateSchema(data); err != nil {
			b.Fatal(err)
		}
	}
}
