package wasi

import "github.com/wasmlattice/wash/runtime/cabi"

// The WIT types the typed host functions are declared with (see cabi.Declare), as WASI 0.2.0
// defines them. A guest that imports a declared function with another type fails to link.

// ioTypes: wasi:io (error, poll, streams); the cli and clocks interfaces use them too.
var ioTypes = cabi.MustScope(nil, "wasi:io/streams@0.2.0", `
	resource error
	resource pollable
	resource input-stream
	resource output-stream
	variant stream-error { last-operation-failed(own<error>), closed }
`)

// stream-error's cases, named
var (
	streamErrorFailed = ioTypes.Case("stream-error", "last-operation-failed")
	streamErrorClosed = ioTypes.Case("stream-error", "closed")
)

var cliTypes = cabi.MustScope(ioTypes, "wasi:cli/terminal-input@0.2.0", `
	resource terminal-input
	resource terminal-output
`)

var clockTypes = cabi.MustScope(ioTypes, "wasi:clocks/wall-clock@0.2.0", `
	type instant = u64
	type duration = u64
	record datetime { seconds: u64, nanoseconds: u32 }
`)

var loggingTypes = cabi.MustScope(nil, "wasi:logging/logging@0.1.0-draft", `
	enum level { trace, debug, info, warn, error, critical }
`)

// the draft config interfaces name their error type differently; the cases are the same
var configTypes = cabi.MustScope(nil, "wasi:config/store@0.2.0-draft", `
	variant error { upstream(string), io(string) }
`)
