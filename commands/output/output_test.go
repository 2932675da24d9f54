package output

import (
	"bytes"
	"testing"
)

func TestPrintOutcome(t *testing.T) {
	var out bytes.Buffer
	o := Buffered(&out, &out)
	if err := o.PrintOutcome("result", "Component [x] stopped", Result{"component_id": "x"}); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "Component [x] stopped\n" {
		t.Fatalf("text: got %q", got)
	}
	out.Reset()
	o.Format = JSON
	if err := o.PrintOutcome("message", "done", Result{"name": "n"}); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "{\n  \"message\": \"done\",\n  \"name\": \"n\",\n  \"success\": true\n}\n"; got != want {
		t.Fatalf("json: got %q, want %q", got, want)
	}
}
