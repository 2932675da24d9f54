package wasi

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"sort"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmlattice/wash/runtime/cabi"
)

var monoBase = time.Now()

func cliFuncs() map[string]map[string]cabi.HostDecl {
	d := func(sig string, fn cabi.HostFunc) cabi.HostDecl { return cabi.Declare(cliTypes, sig, fn) }
	noTerminal := func(context.Context) (cabi.OptionValue, error) { return cabi.None(), nil }
	return map[string]map[string]cabi.HostDecl{
		"wasi:cli/environment@0.2.0": {
			"get-environment": d("func() -> list<tuple<string, string>>", cabi.Fn0(func(ctx context.Context) ([]cabi.Value, error) {
				return keyValuePairs(StateFrom(ctx).Env), nil
			})),
			"get-arguments": d("func() -> list<string>", cabi.Fn0(func(ctx context.Context) ([]string, error) {
				return append([]string(nil), StateFrom(ctx).Args...), nil
			})),
			"initial-cwd": d("func() -> option<string>", cabi.Fn0(func(context.Context) (cabi.OptionValue, error) {
				return cabi.None(), nil
			})),
		},
		"wasi:cli/exit@0.2.0": {
			"exit": d("func(status: result)", cabi.Fn1(func(_ context.Context, status cabi.ResultValue) (cabi.NoResult, error) {
				code := uint32(0)
				if status.IsErr {
					code = 1
				}
				panic(sys.NewExitError(code))
			})),
			"exit-with-code": d("func(status-code: u8)", cabi.Fn1(func(_ context.Context, code uint8) (cabi.NoResult, error) {
				panic(sys.NewExitError(uint32(code)))
			})),
		},
		"wasi:cli/stdin@0.2.0": {
			"get-stdin": d("func() -> input-stream", cabi.Fn0(func(ctx context.Context) (*InputStream, error) {
				return &InputStream{R: StateFrom(ctx).Stdin}, nil
			})),
		},
		"wasi:cli/stdout@0.2.0": {
			"get-stdout": d("func() -> output-stream", cabi.Fn0(func(ctx context.Context) (*OutputStream, error) {
				return &OutputStream{W: StateFrom(ctx).stdout()}, nil
			})),
		},
		"wasi:cli/stderr@0.2.0": {
			"get-stderr": d("func() -> output-stream", cabi.Fn0(func(ctx context.Context) (*OutputStream, error) {
				return &OutputStream{W: StateFrom(ctx).stderr()}, nil
			})),
		},
		"wasi:cli/terminal-input@0.2.0":  {},
		"wasi:cli/terminal-output@0.2.0": {},
		"wasi:cli/terminal-stdin@0.2.0":  {"get-terminal-stdin": d("func() -> option<terminal-input>", cabi.Fn0(noTerminal))},
		"wasi:cli/terminal-stdout@0.2.0": {"get-terminal-stdout": d("func() -> option<terminal-output>", cabi.Fn0(noTerminal))},
		"wasi:cli/terminal-stderr@0.2.0": {"get-terminal-stderr": d("func() -> option<terminal-output>", cabi.Fn0(noTerminal))},
	}
}

func clockFuncs() map[string]map[string]cabi.HostDecl {
	d := func(sig string, fn cabi.HostFunc) cabi.HostDecl { return cabi.Declare(clockTypes, sig, fn) }
	return map[string]map[string]cabi.HostDecl{
		"wasi:clocks/monotonic-clock@0.2.0": {
			"now": d("func() -> instant", cabi.Fn0(func(context.Context) (uint64, error) {
				return uint64(time.Since(monoBase)), nil
			})),
			"resolution": d("func() -> duration", cabi.Fn0(func(context.Context) (uint64, error) { return 1, nil })),
			"subscribe-instant": d("func(when: instant) -> pollable", cabi.Fn1(func(_ context.Context, when uint64) (Pollable, error) {
				return &timerPollable{at: monoBase.Add(time.Duration(when))}, nil
			})),
			"subscribe-duration": d("func(when: duration) -> pollable", cabi.Fn1(func(_ context.Context, when uint64) (Pollable, error) {
				if when > uint64(1<<62) {
					when = 1 << 62
				}
				return &timerPollable{at: time.Now().Add(time.Duration(when))}, nil
			})),
		},
		"wasi:clocks/wall-clock@0.2.0": {
			"now": d("func() -> datetime", cabi.Fn0(func(context.Context) ([]cabi.Value, error) {
				t := time.Now()
				return []cabi.Value{uint64(t.Unix()), uint32(t.Nanosecond())}, nil
			})),
			"resolution": d("func() -> datetime", cabi.Fn0(func(context.Context) ([]cabi.Value, error) {
				return []cabi.Value{uint64(0), uint32(1)}, nil
			})),
		},
	}
}

const maxRandom = 64 << 20

func randomBytes(_ context.Context, n uint64) ([]byte, error) {
	if n > maxRandom {
		return nil, &cabi.Trap{Msg: "get-random-bytes: length too large"}
	}
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b, nil
}

func randomU64(context.Context) (uint64, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]), nil
}

func randomFuncs() map[string]map[string]cabi.HostDecl {
	d := func(sig string, fn cabi.HostFunc) cabi.HostDecl { return cabi.Declare(nil, sig, fn) }
	return map[string]map[string]cabi.HostDecl{
		"wasi:random/random@0.2.0": {
			"get-random-bytes": d("func(len: u64) -> list<u8>", cabi.Fn1(randomBytes)),
			"get-random-u64":   d("func() -> u64", cabi.Fn0(randomU64)),
		},
		"wasi:random/insecure@0.2.0": {
			"get-insecure-random-bytes": d("func(len: u64) -> list<u8>", cabi.Fn1(randomBytes)),
			"get-insecure-random-u64":   d("func() -> u64", cabi.Fn0(randomU64)),
		},
		"wasi:random/insecure-seed@0.2.0": {
			"insecure-seed": d("func() -> tuple<u64, u64>", cabi.Fn0(func(ctx context.Context) ([]cabi.Value, error) {
				a, _ := randomU64(ctx)
				b, _ := randomU64(ctx)
				return []cabi.Value{a, b}, nil
			})),
		},
	}
}

// Filesystem: this host grants no preopens, so no descriptor can ever exist; every
// descriptor method fails with bad-descriptor should one be reached. The functions are
// declared all the same, so a guest importing another shape of wasi:filesystem fails to link.
var fsBadDescriptor = fsTypes.Case("error-code", "bad-descriptor")

// fsDescriptorSigs are the descriptor methods' WIT types (self: borrow<descriptor> first).
var fsDescriptorSigs = map[string]string{
	"read-via-stream":     "(offset: filesize) -> result<input-stream, error-code>",
	"write-via-stream":    "(offset: filesize) -> result<output-stream, error-code>",
	"append-via-stream":   "() -> result<output-stream, error-code>",
	"advise":              "(offset: filesize, length: filesize, advice: advice) -> result<_, error-code>",
	"sync-data":           "() -> result<_, error-code>",
	"get-flags":           "() -> result<descriptor-flags, error-code>",
	"get-type":            "() -> result<descriptor-type, error-code>",
	"set-size":            "(size: filesize) -> result<_, error-code>",
	"set-times":           "(data-access-timestamp: new-timestamp, data-modification-timestamp: new-timestamp) -> result<_, error-code>",
	"read":                "(length: filesize, offset: filesize) -> result<tuple<list<u8>, bool>, error-code>",
	"write":               "(buffer: list<u8>, offset: filesize) -> result<filesize, error-code>",
	"read-directory":      "() -> result<directory-entry-stream, error-code>",
	"sync":                "() -> result<_, error-code>",
	"create-directory-at": "(path: string) -> result<_, error-code>",
	"stat":                "() -> result<descriptor-stat, error-code>",
	"stat-at":             "(path-flags: path-flags, path: string) -> result<descriptor-stat, error-code>",
	"set-times-at":        "(path-flags: path-flags, path: string, data-access-timestamp: new-timestamp, data-modification-timestamp: new-timestamp) -> result<_, error-code>",
	"link-at":             "(old-path-flags: path-flags, old-path: string, new-descriptor: borrow<descriptor>, new-path: string) -> result<_, error-code>",
	"open-at":             "(path-flags: path-flags, path: string, open-flags: open-flags, flags: descriptor-flags) -> result<descriptor, error-code>",
	"readlink-at":         "(path: string) -> result<string, error-code>",
	"remove-directory-at": "(path: string) -> result<_, error-code>",
	"rename-at":           "(old-path: string, new-descriptor: borrow<descriptor>, new-path: string) -> result<_, error-code>",
	"symlink-at":          "(old-path: string, new-path: string) -> result<_, error-code>",
	"unlink-file-at":      "(path: string) -> result<_, error-code>",
	"metadata-hash":       "() -> result<metadata-hash-value, error-code>",
	"metadata-hash-at":    "(path-flags: path-flags, path: string) -> result<metadata-hash-value, error-code>",
}

func filesystemFuncs() map[string]map[string]cabi.HostDecl {
	d := func(sig string, fn cabi.HostFunc) cabi.HostDecl { return cabi.Declare(fsTypes, sig, fn) }
	bad := func(context.Context, []cabi.Value) (cabi.Value, error) { return errv(fsBadDescriptor) }
	types := map[string]cabi.HostDecl{
		"filesystem-error-code": d("func(err: borrow<error>) -> option<error-code>",
			func(context.Context, []cabi.Value) (cabi.Value, error) { return none() }),
		"[method]directory-entry-stream.read-directory-entry": d(
			"func(self: borrow<directory-entry-stream>) -> result<option<directory-entry>, error-code>", bad),
		"[method]descriptor.is-same-object": d("func(self: borrow<descriptor>, other: borrow<descriptor>) -> bool",
			func(context.Context, []cabi.Value) (cabi.Value, error) { return false, nil }),
	}
	for m, sig := range fsDescriptorSigs {
		params := "self: borrow<descriptor>"
		if !strings.HasPrefix(sig, "()") {
			params += ", "
		}
		types["[method]descriptor."+m] = d("func("+params+sig[1:], bad)
	}
	return map[string]map[string]cabi.HostDecl{
		"wasi:filesystem/types@0.2.0": types,
		"wasi:filesystem/preopens@0.2.0": {
			"get-directories": d("func() -> list<tuple<descriptor, string>>",
				func(context.Context, []cabi.Value) (cabi.Value, error) { return []cabi.Value{}, nil }),
		},
	}
}

var logLevels = loggingTypes.Type("level").Labels

func miscFuncs() map[string]map[string]cabi.HostDecl {
	get := cabi.Fn1(func(ctx context.Context, key string) (cabi.ResultValue, error) {
		if v, found := StateFrom(ctx).Config[key]; found {
			return cabi.Ok(cabi.Some(v)), nil
		}
		return cabi.Ok(cabi.None()), nil
	})
	getAll := cabi.Fn0(func(ctx context.Context) (cabi.ResultValue, error) {
		return cabi.Ok(keyValuePairs(StateFrom(ctx).Config)), nil
	})
	config := map[string]cabi.HostDecl{
		"get":     cabi.Declare(configTypes, "func(key: string) -> result<option<string>, error>", get),
		"get-all": cabi.Declare(configTypes, "func() -> result<list<tuple<string, string>>, error>", getAll),
	}
	return map[string]map[string]cabi.HostDecl{
		"wasi:logging/logging@0.1.0-draft": {
			"log": cabi.Declare(loggingTypes, "func(level: level, context: string, message: string)",
				cabi.Fn3(func(ctx context.Context, level uint32, logContext, message string) (cabi.NoResult, error) {
					name := "info"
					if int(level) < len(logLevels) {
						name = logLevels[level]
					}
					StateFrom(ctx).log(name, logContext, message)
					return cabi.NoResult{}, nil
				})),
		},
		"wasi:config/store@0.2.0-draft":   config,
		"wasi:config/runtime@0.2.0-draft": config,
	}
}

// keyValuePairs is m as a list<tuple<string, string>> in key order (environment variables,
// runtime config): the same map always reads the same to the guest.
func keyValuePairs(m map[string]string) []cabi.Value {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]cabi.Value, len(keys))
	for i, k := range keys {
		out[i] = []cabi.Value{k, m[k]}
	}
	return out
}
