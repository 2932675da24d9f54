package wasi

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"sort"
	"time"

	"github.com/tetratelabs/wazero/sys"

	"github.com/wasmlattice/wash/runtime/cabi"
)

var monoBase = time.Now()

func cliFuncs() map[string]map[string]cabi.HostFunc {
	term := func(context.Context, []cabi.Value) (cabi.Value, error) { return none() }
	return map[string]map[string]cabi.HostFunc{
		"wasi:cli/environment@0.2.0": {
			"get-environment": func(ctx context.Context, _ []cabi.Value) (cabi.Value, error) {
				env := StateFrom(ctx).Env
				keys := make([]string, 0, len(env))
				for k := range env {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				out := make([]cabi.Value, len(keys))
				for i, k := range keys {
					out[i] = []cabi.Value{k, env[k]}
				}
				return out, nil
			},
			"get-arguments": func(ctx context.Context, _ []cabi.Value) (cabi.Value, error) {
				return append([]string(nil), StateFrom(ctx).Args...), nil
			},
			"initial-cwd": func(context.Context, []cabi.Value) (cabi.Value, error) { return none() },
		},
		"wasi:cli/exit@0.2.0": {
			"exit": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				code := uint32(0)
				if arg[cabi.ResultValue](a, 0).IsErr {
					code = 1
				}
				panic(sys.NewExitError(code))
			},
			"exit-with-code": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				panic(sys.NewExitError(uint32(arg[uint8](a, 0))))
			},
		},
		"wasi:cli/stdin@0.2.0": {
			"get-stdin": func(ctx context.Context, _ []cabi.Value) (cabi.Value, error) {
				return &InputStream{R: StateFrom(ctx).Stdin}, nil
			},
		},
		"wasi:cli/stdout@0.2.0": {
			"get-stdout": func(ctx context.Context, _ []cabi.Value) (cabi.Value, error) {
				return &OutputStream{W: StateFrom(ctx).stdout()}, nil
			},
		},
		"wasi:cli/stderr@0.2.0": {
			"get-stderr": func(ctx context.Context, _ []cabi.Value) (cabi.Value, error) {
				return &OutputStream{W: StateFrom(ctx).stderr()}, nil
			},
		},
		"wasi:cli/terminal-input@0.2.0":  {},
		"wasi:cli/terminal-output@0.2.0": {},
		"wasi:cli/terminal-stdin@0.2.0":  {"get-terminal-stdin": term},
		"wasi:cli/terminal-stdout@0.2.0": {"get-terminal-stdout": term},
		"wasi:cli/terminal-stderr@0.2.0": {"get-terminal-stderr": term},
	}
}

func clockFuncs() map[string]map[string]cabi.HostFunc {
	return map[string]map[string]cabi.HostFunc{
		"wasi:clocks/monotonic-clock@0.2.0": {
			"now": func(context.Context, []cabi.Value) (cabi.Value, error) {
				return uint64(time.Since(monoBase)), nil
			},
			"resolution": func(context.Context, []cabi.Value) (cabi.Value, error) { return uint64(1), nil },
			"subscribe-instant": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				return Pollable(&timerPollable{at: monoBase.Add(time.Duration(arg[uint64](a, 0)))}), nil
			},
			"subscribe-duration": func(_ context.Context, a []cabi.Value) (cabi.Value, error) {
				d := arg[uint64](a, 0)
				if d > uint64(1<<62) {
					d = 1 << 62
				}
				return Pollable(&timerPollable{at: time.Now().Add(time.Duration(d))}), nil
			},
		},
		"wasi:clocks/wall-clock@0.2.0": {
			"now": func(context.Context, []cabi.Value) (cabi.Value, error) {
				t := time.Now()
				return []cabi.Value{uint64(t.Unix()), uint32(t.Nanosecond())}, nil
			},
			"resolution": func(context.Context, []cabi.Value) (cabi.Value, error) {
				return []cabi.Value{uint64(0), uint32(1)}, nil
			},
		},
	}
}

const maxRandom = 64 << 20

func randomBytes(a []cabi.Value) (cabi.Value, error) {
	n := arg[uint64](a, 0)
	if n > maxRandom {
		return nil, &cabi.Trap{Msg: "get-random-bytes: length too large"}
	}
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b, nil
}

func randomU64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

func randomFuncs() map[string]map[string]cabi.HostFunc {
	return map[string]map[string]cabi.HostFunc{
		"wasi:random/random@0.2.0": {
			"get-random-bytes": func(_ context.Context, a []cabi.Value) (cabi.Value, error) { return randomBytes(a) },
			"get-random-u64":   func(context.Context, []cabi.Value) (cabi.Value, error) { return randomU64(), nil },
		},
		"wasi:random/insecure@0.2.0": {
			"get-insecure-random-bytes": func(_ context.Context, a []cabi.Value) (cabi.Value, error) { return randomBytes(a) },
			"get-insecure-random-u64":   func(context.Context, []cabi.Value) (cabi.Value, error) { return randomU64(), nil },
		},
		"wasi:random/insecure-seed@0.2.0": {
			"insecure-seed": func(context.Context, []cabi.Value) (cabi.Value, error) {
				return []cabi.Value{randomU64(), randomU64()}, nil
			},
		},
	}
}

// Filesystem: this host grants no preopens, so no descriptor can ever exist; every
// descriptor method fails with bad-descriptor should one be reached.
const fsBadDescriptor = uint32(3)

func filesystemFuncs() map[string]map[string]cabi.HostFunc {
	bad := func(context.Context, []cabi.Value) (cabi.Value, error) { return errv(fsBadDescriptor) }
	types := map[string]cabi.HostFunc{
		"filesystem-error-code":                               func(context.Context, []cabi.Value) (cabi.Value, error) { return none() },
		"[method]directory-entry-stream.read-directory-entry": bad,
	}
	for _, m := range []string{"read-via-stream", "write-via-stream", "append-via-stream", "advise", "sync-data",
		"get-flags", "get-type", "set-size", "set-times", "read", "write", "read-directory", "sync",
		"create-directory-at", "stat", "stat-at", "set-times-at", "link-at", "open-at", "readlink-at",
		"remove-directory-at", "rename-at", "symlink-at", "unlink-file-at", "metadata-hash", "metadata-hash-at"} {
		types["[method]descriptor."+m] = bad
	}
	types["[method]descriptor.is-same-object"] = func(context.Context, []cabi.Value) (cabi.Value, error) { return false, nil }
	return map[string]map[string]cabi.HostFunc{
		"wasi:filesystem/types@0.2.0": types,
		"wasi:filesystem/preopens@0.2.0": {
			"get-directories": func(context.Context, []cabi.Value) (cabi.Value, error) { return []cabi.Value{}, nil },
		},
	}
}

var logLevels = []string{"trace", "debug", "info", "warn", "error", "critical"}

func miscFuncs() map[string]map[string]cabi.HostFunc {
	get := func(ctx context.Context, a []cabi.Value) (cabi.Value, error) {
		if v, ok2 := StateFrom(ctx).Config[arg[string](a, 0)]; ok2 {
			return ok(cabi.Some(v))
		}
		return ok(cabi.None())
	}
	getAll := func(ctx context.Context, _ []cabi.Value) (cabi.Value, error) {
		cfg := StateFrom(ctx).Config
		keys := make([]string, 0, len(cfg))
		for k := range cfg {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make([]cabi.Value, len(keys))
		for i, k := range keys {
			out[i] = []cabi.Value{k, cfg[k]}
		}
		return ok(out)
	}
	return map[string]map[string]cabi.HostFunc{
		"wasi:logging/logging@0.1.0-draft": {
			"log": func(ctx context.Context, a []cabi.Value) (cabi.Value, error) {
				lv := arg[uint32](a, 0)
				name := "info"
				if int(lv) < len(logLevels) {
					name = logLevels[lv]
				}
				StateFrom(ctx).log(name, arg[string](a, 1), arg[string](a, 2))
				return nil, nil
			},
		},
		"wasi:config/store@0.2.0-draft":   {"get": get, "get-all": getAll},
		"wasi:config/runtime@0.2.0-draft": {"get": get, "get-all": getAll},
	}
}
