// Package runtime executes WebAssembly on wazero, in pure Go (CGO_ENABLED=0): WASI preview1
// core modules, and WASI 0.2 components through its own component-model layer. It knows
// nothing about NATS or the lattice; the host hands it bytes and gets back programs.
//
// # Engine and programs
//
// One Engine serves a whole host (safe for concurrent use). Engine.Compile detects the
// binary kind (Detect) and returns a *Program:
//
//   - core modules (KindCoreModule) compile as before; RunCommand runs _start.
//   - components (KindComponent, binary version 0x0d) are decoded, linked and compiled once:
//     every nested core module is compiled with its import section rewritten to point at the
//     exact core instance or host function that satisfies it, so instantiating is just
//     running a flat list of core instantiations. Pre-standard component binaries (0x0c)
//     are refused with "unsupported component binary version".
//
// Program.Imports and Program.Exports list interface names for components
// ("wasi:http/types@0.2.0", "wasi:http/incoming-handler@0.2.0").
//
// # Calling components
//
// Each call gets a fresh instance, bounded by Options.MaxExecutionTime (the guest is
// interrupted) and Options.MaxMemoryBytes (memory.grow fails past it). A trap fails only
// that call; the Program stays usable.
//
//   - Program.HandleHTTP(ctx, w, r, cfg) runs wasi:http/incoming-handler. On error nothing
//     was written unless the error wraps ErrResponseStarted; the caller answers 500.
//   - Program.RunCommand(ctx, cfg) runs wasi:cli/run (or a core module's _start) and returns
//     the exit code.
//   - Program.Invoke(ctx, cfg, iface, fn, args...) calls any exported function, e.g. a
//     messaging handler; iface "" names a top-level function.
//   - Program.Instantiate + Instance.Call keep one instance for several calls (the caller
//     bounds them with its ctx).
//
// Exported interfaces are matched semver-compatibly: asking for
// "wasi:http/incoming-handler@0.2.0" finds an export of @0.2.10.
//
// # Host interfaces (the extension point)
//
// Imports are satisfied by HostInterface values: an interface name plus functions keyed by
// their component names ("get", "[method]bucket.get", "[constructor]fields",
// "[static]outgoing-body.finish"). A HostFunc receives lifted component values and returns
// one value (see package cabi for the Go representation: OptionValue, ResultValue,
// VariantValue, []Value for records/tuples/lists, []byte for list<u8>, any Go value as a
// resource representation; resources whose representation implements cabi.Dropper are told
// when the guest drops them). Returning an error traps the guest.
//
// Resolution order per instance: InstanceConfig.HostInterfaces (function by function), then
// Options.HostInterfaces, then the built-in WASI 0.2 implementations (package wasi). A host
// providing pkg:ns/iface@0.2.x serves an import of @0.2.y (same major, or same minor for
// 0.x; pre-releases such as 0.2.0-draft match exactly). A component that needs a function
// nobody provides fails instantiation with an error wrapping ErrUnsatisfiedImport that
// names the functions; the host process is never affected.
//
// Capability providers added later (wasi:keyvalue/store@0.2.0-draft, wasi:blobstore,
// wasmcloud:messaging, …) are just more HostInterfaces supplied per instance, built with
// closures over the provider's connection; the decoder and linker need no change.
//
// # Built-in WASI 0.2
//
// wasi:cli (environment, exit, stdin/stdout/stderr, terminal-* returning none), wasi:clocks,
// wasi:random, wasi:io (error, poll with timer and future pollables, streams),
// wasi:filesystem with no preopens, wasi:http types + incoming-handler bridge +
// outgoing-handler (only to InstanceConfig.AllowedHosts, through InstanceConfig.HTTPClient),
// wasi:logging/logging@0.1.0-draft (InstanceConfig.Log) and wasi:config/store@0.2.0-draft
// (InstanceConfig.Config). Everything a component sees of the world is in InstanceConfig.
//
// # Limits of the component layer
//
// No async (streams/futures/async lifts), no component-level start or value definitions,
// only the utf8 string encoding (utf16 and latin1+utf16 fail the call with a clear error),
// and one resource table per top-level instance rather than one per nested component
// instance (nested components produced by wit-component only ascribe types).
package runtime
