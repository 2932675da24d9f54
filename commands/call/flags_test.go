package call

import (
	"slices"
	"testing"

	"github.com/wasmlattice/wash/commands/cli/clitest"
)

// Flag parsing → options, without a lattice.
func TestCallFlags(t *testing.T) {
	clitest.Check(t, newCmd, clitest.Args("back", "wash:edgecore/backend.summarize", `"edge"`, "3"), func(o *Options) bool {
		// the synthesized HTTP request's defaults too
		h := o.HTTP
		return o.Component == "back" && o.Function == "wash:edgecore/backend.summarize" && slices.Equal(o.Args, []string{`"edge"`, "3"}) &&
			h.Scheme == "http" && h.Host == "localhost" && h.Port == 8080 && h.Method == "GET" && h.Path == "/" && !o.ExtractJSON
	})
	clitest.Check(t, newCmd, clitest.Args("front", "wasi:http/incoming-handler.handle", "--http-method", "POST", "--http-path", "/x?y=1",
		"--http-body", "hi", "--http-content-type", "text/plain", "--http-response-extract-json"), func(o *Options) bool {
		return o.HTTP.Method == "POST" && o.HTTP.Path == "/x?y=1" && o.HTTP.Body == "hi" && o.HTTP.ContentType == "text/plain" && o.ExtractJSON && len(o.Args) == 0
	})
	clitest.WantUsage(t, newCmd, clitest.Args("front"))
}
