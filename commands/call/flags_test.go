package call

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestCallFlags(t *testing.T) {
	o, err := clitest.Parse(newCmd, "back", "wash:edgecore/backend.summarize", `"edge"`, "3")
	if err != nil || o.Component != "back" || o.Function != "wash:edgecore/backend.summarize" || !slices.Equal(o.Args, []string{`"edge"`, "3"}) {
		t.Fatalf("call: %+v, %v", o, err)
	}
	// the synthesized HTTP request's defaults
	h := o.HTTP
	if h.Scheme != "http" || h.Host != "localhost" || h.Port != 8080 || h.Method != "GET" || h.Path != "/" || o.ExtractJSON {
		t.Fatalf("call HTTP defaults: %+v", h)
	}
	o, err = clitest.Parse(newCmd, "front", "wasi:http/incoming-handler.handle", "--http-method", "POST", "--http-path", "/x?y=1",
		"--http-body", "hi", "--http-content-type", "text/plain", "--http-response-extract-json")
	if err != nil || o.HTTP.Method != "POST" || o.HTTP.Path != "/x?y=1" || o.HTTP.Body != "hi" || o.HTTP.ContentType != "text/plain" || !o.ExtractJSON || len(o.Args) != 0 {
		t.Fatalf("call --http-*: %+v, %v", o, err)
	}
	if _, err := clitest.Parse(newCmd, "front"); !cli.IsUsage(err) {
		t.Fatalf("call without a function: want a usage error, got %v", err)
	}
}
