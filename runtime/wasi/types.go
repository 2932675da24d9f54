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

// fsTypes: wasi:filesystem/types (fields WIT writes %type are named type in the component).
var fsTypes = cabi.MustScope(clockTypes, "wasi:filesystem/types@0.2.0", `
	type filesize = u64
	type link-count = u64
	enum descriptor-type { unknown, block-device, character-device, directory, fifo, symbolic-link, regular-file, socket }
	flags descriptor-flags { read, write, file-integrity-sync, data-integrity-sync, requested-write-sync, mutate-directory }
	record descriptor-stat {
		type: descriptor-type,
		link-count: link-count,
		size: filesize,
		data-access-timestamp: option<datetime>,
		data-modification-timestamp: option<datetime>,
		status-change-timestamp: option<datetime>,
	}
	flags path-flags { symlink-follow }
	flags open-flags { create, directory, exclusive, truncate }
	variant new-timestamp { no-change, now, timestamp(datetime) }
	record directory-entry { type: descriptor-type, name: string }
	enum error-code {
		access, would-block, already, bad-descriptor, busy, deadlock, quota, exist, file-too-large,
		illegal-byte-sequence, in-progress, interrupted, invalid, io, is-directory, loop,
		too-many-links, message-size, name-too-long, no-device, no-entry, no-lock,
		insufficient-memory, insufficient-space, not-directory, not-empty, not-recoverable,
		unsupported, no-tty, no-such-device, overflow, not-permitted, pipe, read-only,
		invalid-seek, text-file-busy, cross-device,
	}
	enum advice { normal, sequential, random, will-need, dont-need, no-reuse }
	record metadata-hash-value { lower: u64, upper: u64 }
	resource descriptor
	resource directory-entry-stream
`)

// httpTypes: wasi:http/types. Hosts resources here are named by their interface's own
// names; headers and trailers are fields.
var httpTypes = cabi.MustScope(clockTypes, "wasi:http/types@0.2.0", `
	type io-error = error
	variant method { get, head, post, put, delete, connect, options, trace, patch, other(string) }
	variant scheme { HTTP, HTTPS, other(string) }
	record DNS-error-payload { rcode: option<string>, info-code: option<u16> }
	record TLS-alert-received-payload { alert-id: option<u8>, alert-message: option<string> }
	record field-size-payload { field-name: option<string>, field-size: option<u32> }
	variant error-code {
		DNS-timeout, DNS-error(DNS-error-payload), destination-not-found, destination-unavailable,
		destination-IP-prohibited, destination-IP-unroutable, connection-refused,
		connection-terminated, connection-timeout, connection-read-timeout,
		connection-write-timeout, connection-limit-reached, TLS-protocol-error,
		TLS-certificate-error, TLS-alert-received(TLS-alert-received-payload),
		HTTP-request-denied, HTTP-request-length-required, HTTP-request-body-size(option<u64>),
		HTTP-request-method-invalid, HTTP-request-URI-invalid, HTTP-request-URI-too-long,
		HTTP-request-header-section-size(option<u32>),
		HTTP-request-header-size(option<field-size-payload>),
		HTTP-request-trailer-section-size(option<u32>),
		HTTP-request-trailer-size(field-size-payload), HTTP-response-incomplete,
		HTTP-response-header-section-size(option<u32>),
		HTTP-response-header-size(field-size-payload), HTTP-response-body-size(option<u64>),
		HTTP-response-trailer-section-size(option<u32>),
		HTTP-response-trailer-size(field-size-payload),
		HTTP-response-transfer-coding(option<string>),
		HTTP-response-content-coding(option<string>), HTTP-response-timeout,
		HTTP-upgrade-failed, HTTP-protocol-error, loop-detected, configuration-error,
		internal-error(option<string>)
	}
	variant header-error { invalid-syntax, forbidden, immutable }
	type field-key = string
	type field-name = field-key
	type field-value = list<u8>
	resource fields
	type headers = fields
	type trailers = fields
	resource incoming-request
	resource outgoing-request
	resource request-options
	resource response-outparam
	type status-code = u16
	resource incoming-response
	resource incoming-body
	resource future-trailers
	resource outgoing-response
	resource outgoing-body
	resource future-incoming-response
`)

// the cases of wasi:http/types variants this package produces, named
var (
	methodGet             = httpTypes.Case("method", "get")
	methodOther           = httpTypes.Case("method", "other")
	schemeHTTP            = httpTypes.Case("scheme", "HTTP")
	schemeHTTPS           = httpTypes.Case("scheme", "HTTPS")
	schemeOther           = httpTypes.Case("scheme", "other")
	hdrInvalid            = cabi.VariantValue{Case: httpTypes.Case("header-error", "invalid-syntax")}
	hdrForbidden          = cabi.VariantValue{Case: httpTypes.Case("header-error", "forbidden")}
	hdrImmutable          = cabi.VariantValue{Case: httpTypes.Case("header-error", "immutable")}
	ecDestinationNotFound = httpTypes.Case("error-code", "destination-not-found")
	ecConnectionRefused   = httpTypes.Case("error-code", "connection-refused")
	ecConnectionTimeout   = httpTypes.Case("error-code", "connection-timeout")
	ecHTTPRequestDenied   = httpTypes.Case("error-code", "HTTP-request-denied")
	ecHTTPRequestURI      = httpTypes.Case("error-code", "HTTP-request-URI-invalid")
	ecHTTPProtocolError   = httpTypes.Case("error-code", "HTTP-protocol-error")
	ecInternalError       = httpTypes.Case("error-code", "internal-error")
)

// httpSigs declares the WIT type of every wasi:http function httpFuncs implements.
var httpSigs = map[string]map[string]string{
	"wasi:http/types@0.2.0": {
		"http-error-code":                                   "func(err: borrow<io-error>) -> option<error-code>",
		"[constructor]fields":                               "func() -> fields",
		"[static]fields.from-list":                          "func(entries: list<tuple<field-name, field-value>>) -> result<fields, header-error>",
		"[method]fields.get":                                "func(self: borrow<fields>, name: field-name) -> list<field-value>",
		"[method]fields.has":                                "func(self: borrow<fields>, name: field-name) -> bool",
		"[method]fields.set":                                "func(self: borrow<fields>, name: field-name, value: list<field-value>) -> result<_, header-error>",
		"[method]fields.delete":                             "func(self: borrow<fields>, name: field-name) -> result<_, header-error>",
		"[method]fields.append":                             "func(self: borrow<fields>, name: field-name, value: field-value) -> result<_, header-error>",
		"[method]fields.entries":                            "func(self: borrow<fields>) -> list<tuple<field-name, field-value>>",
		"[method]fields.clone":                              "func(self: borrow<fields>) -> fields",
		"[method]incoming-request.method":                   "func(self: borrow<incoming-request>) -> method",
		"[method]incoming-request.path-with-query":          "func(self: borrow<incoming-request>) -> option<string>",
		"[method]incoming-request.scheme":                   "func(self: borrow<incoming-request>) -> option<scheme>",
		"[method]incoming-request.authority":                "func(self: borrow<incoming-request>) -> option<string>",
		"[method]incoming-request.headers":                  "func(self: borrow<incoming-request>) -> headers",
		"[method]incoming-request.consume":                  "func(self: borrow<incoming-request>) -> result<incoming-body>",
		"[constructor]outgoing-request":                     "func(headers: headers) -> outgoing-request",
		"[method]outgoing-request.body":                     "func(self: borrow<outgoing-request>) -> result<outgoing-body>",
		"[method]outgoing-request.method":                   "func(self: borrow<outgoing-request>) -> method",
		"[method]outgoing-request.set-method":               "func(self: borrow<outgoing-request>, method: method) -> result",
		"[method]outgoing-request.path-with-query":          "func(self: borrow<outgoing-request>) -> option<string>",
		"[method]outgoing-request.set-path-with-query":      "func(self: borrow<outgoing-request>, path-with-query: option<string>) -> result",
		"[method]outgoing-request.scheme":                   "func(self: borrow<outgoing-request>) -> option<scheme>",
		"[method]outgoing-request.set-scheme":               "func(self: borrow<outgoing-request>, scheme: option<scheme>) -> result",
		"[method]outgoing-request.authority":                "func(self: borrow<outgoing-request>) -> option<string>",
		"[method]outgoing-request.set-authority":            "func(self: borrow<outgoing-request>, authority: option<string>) -> result",
		"[method]outgoing-request.headers":                  "func(self: borrow<outgoing-request>) -> headers",
		"[constructor]request-options":                      "func() -> request-options",
		"[method]request-options.connect-timeout":           "func(self: borrow<request-options>) -> option<duration>",
		"[method]request-options.set-connect-timeout":       "func(self: borrow<request-options>, duration: option<duration>) -> result",
		"[method]request-options.first-byte-timeout":        "func(self: borrow<request-options>) -> option<duration>",
		"[method]request-options.set-first-byte-timeout":    "func(self: borrow<request-options>, duration: option<duration>) -> result",
		"[method]request-options.between-bytes-timeout":     "func(self: borrow<request-options>) -> option<duration>",
		"[method]request-options.set-between-bytes-timeout": "func(self: borrow<request-options>, duration: option<duration>) -> result",
		"[static]response-outparam.set":                     "func(param: response-outparam, response: result<outgoing-response, error-code>)",
		"[method]incoming-response.status":                  "func(self: borrow<incoming-response>) -> status-code",
		"[method]incoming-response.headers":                 "func(self: borrow<incoming-response>) -> headers",
		"[method]incoming-response.consume":                 "func(self: borrow<incoming-response>) -> result<incoming-body>",
		"[method]incoming-body.stream":                      "func(self: borrow<incoming-body>) -> result<input-stream>",
		"[static]incoming-body.finish":                      "func(this: incoming-body) -> future-trailers",
		"[method]future-trailers.subscribe":                 "func(self: borrow<future-trailers>) -> pollable",
		"[method]future-trailers.get":                       "func(self: borrow<future-trailers>) -> option<result<result<option<trailers>, error-code>>>",
		"[constructor]outgoing-response":                    "func(headers: headers) -> outgoing-response",
		"[method]outgoing-response.status-code":             "func(self: borrow<outgoing-response>) -> status-code",
		"[method]outgoing-response.set-status-code":         "func(self: borrow<outgoing-response>, status-code: status-code) -> result",
		"[method]outgoing-response.headers":                 "func(self: borrow<outgoing-response>) -> headers",
		"[method]outgoing-response.body":                    "func(self: borrow<outgoing-response>) -> result<outgoing-body>",
		"[method]outgoing-body.write":                       "func(self: borrow<outgoing-body>) -> result<output-stream>",
		"[static]outgoing-body.finish":                      "func(this: outgoing-body, trailers: option<trailers>) -> result<_, error-code>",
		"[method]future-incoming-response.subscribe":        "func(self: borrow<future-incoming-response>) -> pollable",
		"[method]future-incoming-response.get":              "func(self: borrow<future-incoming-response>) -> option<result<result<incoming-response, error-code>>>",
	},
	"wasi:http/outgoing-handler@0.2.0": {
		"handle": "func(request: outgoing-request, options: option<request-options>) -> result<future-incoming-response, error-code>",
	},
}

// declareHTTP pairs httpFuncs' functions with httpSigs; a function without a signature (or a
// signature without a function) is a bug.
func declareHTTP(funcs map[string]map[string]cabi.HostFunc) map[string]map[string]cabi.HostDecl {
	out := map[string]map[string]cabi.HostDecl{}
	for iface, fs := range funcs {
		sigs := httpSigs[iface]
		if len(sigs) != len(fs) {
			panic("wasi: " + iface + ": functions and signatures differ")
		}
		out[iface] = map[string]cabi.HostDecl{}
		for n, f := range fs {
			sig, ok := sigs[n]
			if !ok {
				panic("wasi: no signature for " + iface + "#" + n)
			}
			out[iface][n] = cabi.Declare(httpTypes, sig, f)
		}
	}
	return out
}
