// Package call implements `wash call COMPONENT FUNCTION [ARG...]`: one wRPC invocation of a
// running component's export, wherever in the lattice it runs.
package call

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/placement"
	"github.com/wasmlattice/wash/lattice/host/wrpcbridge"
	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/wrpchttp"
	"github.com/wasmlattice/wash/oci"
	"github.com/wasmlattice/wash/runtime"
)

// Options are the flags of `wash call`.
type Options struct {
	Conn      conn.Options
	Component string
	Function  string
	Args      []string

	HTTP        HTTPOptions
	ExtractJSON bool
}

// HTTPOptions build the request for wasi:http/incoming-handler.handle (upstream's flags, plus
// --http-path).
type HTTPOptions struct {
	Scheme, Host, Method, Body, BodyPath, ContentType, Path string
	Port                                                    int
}

// NewCmd builds `wash call`.
func NewCmd(env *cli.Env) *cobra.Command { return newCmd(env, nil) }

func newCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "call COMPONENT FUNCTION [ARG...]",
		Short: "Invoke a function a running component exports, over wRPC",
		Long: `Invoke one function exported by a running component, on whichever host runs it (instances
on several hosts share calls). FUNCTION is namespace:package/interface.function, with or
without the interface version, or a world-level function's name.

wasi:http/incoming-handler.handle sends an HTTP request built from the --http-* flags and
prints the response. Any other function takes its arguments as JSON values (one per
argument, typed by the component's own WIT: strings may be given bare) and prints its results
as JSON. The component's WIT is read from its artifact, as the inventory names it.`,
		Example: `  wash call back wash:edgecore/backend.summarize '"edge-and-core"' 3
  wash call front wasi:http/incoming-handler.handle --http-path /hello
  wash call back wash:edgecore/backend.summarize hello 2 -o json`,
		Args: cli.Args(cobra.MinimumNArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Component, o.Function, o.Args = args[0], args[1], args[2:]
			return cli.Run(cmd.Context(), env, o, runF, Run)
		},
	}
	f := cmd.Flags()
	o.Conn.AddFlags(f)
	// upstream's names for the connection flags of `wash call`
	f.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		switch name {
		case "rpc-host":
			name = "ctl-host"
		case "rpc-port":
			name = "ctl-port"
		case "rpc-timeout-ms":
			name = "timeout-ms"
		case "rpc-credsfile":
			name = "ctl-credsfile"
		case "rpc-jwt":
			name = "ctl-jwt"
		case "rpc-seed":
			name = "ctl-seed"
		case "rpc-ca-file":
			name = "ctl-tls-ca-file"
		}
		return pflag.NormalizedName(name)
	})
	f.StringVar(&o.HTTP.Scheme, "http-scheme", "http", "scheme of the synthesized HTTP request")
	f.StringVar(&o.HTTP.Host, "http-host", "localhost", "host (authority) of the synthesized HTTP request")
	f.IntVar(&o.HTTP.Port, "http-port", 8080, "port of the synthesized HTTP request")
	f.StringVar(&o.HTTP.Method, "http-method", "GET", "method of the synthesized HTTP request")
	f.StringVar(&o.HTTP.Path, "http-path", "/", "path and query of the synthesized HTTP request")
	f.StringVar(&o.HTTP.Body, "http-body", "", "body of the synthesized HTTP request")
	f.StringVar(&o.HTTP.BodyPath, "http-body-path", "", "file whose contents are the body of the synthesized HTTP request")
	f.StringVar(&o.HTTP.ContentType, "http-content-type", "", "content-type of the synthesized HTTP request")
	f.BoolVar(&o.ExtractJSON, "http-response-extract-json", false, "parse the HTTP response body as JSON and print only that")
	return cmd
}

// Run performs the call.
func Run(ctx context.Context, env *cli.Env, o *Options) error {
	if strings.TrimSpace(o.Component) == "" {
		return cli.Usage(errors.New("component id may not be empty"))
	}
	if o.HTTP.Body != "" && o.HTTP.BodyPath != "" {
		return cli.Usage(errors.New("give --http-body or --http-body-path, not both"))
	}
	s, err := placement.Open(env, &o.Conn)
	if err != nil {
		return err
	}
	defer s.Close()
	timeout := s.Resolved.Timeout
	running, err := s.FindRunning(ctx, "component", o.Component, "")
	if err != nil {
		return err
	}
	if len(running) == 0 {
		return s.NotRunningError("component", o.Component, "")
	}
	rpc, err := wrpc.NewConn(s.NC, wrpc.Options{})
	if err != nil {
		return err
	}
	defer rpc.Close()
	c := &caller{env: env, s: s, o: o, rpc: rpc, timeout: timeout, prefix: s.Lattice() + "." + o.Component}
	if isHTTPHandler(o.Function) {
		return c.http(ctx)
	}
	return c.typed(ctx, running[0].ImageRef)
}

type caller struct {
	env     *cli.Env
	s       *placement.Session
	o       *Options
	rpc     *wrpc.Conn
	timeout time.Duration
	prefix  string
}

func isHTTPHandler(fn string) bool {
	switch fn {
	case "wasi:http/incoming-handler.handle", "wrpc:http/incoming-handler.handle":
		return true
	}
	return strings.HasPrefix(fn, "wasi:http/incoming-handler@") && strings.HasSuffix(fn, ".handle") ||
		strings.HasPrefix(fn, "wrpc:http/incoming-handler@") && strings.HasSuffix(fn, ".handle")
}

// callError turns a failed invocation into one line that says what to do.
func (c *caller) callError(err error) error {
	switch {
	case errors.Is(err, wrpc.ErrNoResponders):
		return fmt.Errorf("no instance of component %s serves %s in lattice %q (is the function exported? see `wash get inventory`)", c.o.Component, c.o.Function, c.s.Lattice())
	case errors.Is(err, wrpc.ErrTimeout):
		return fmt.Errorf("component %s did not answer %s within %s (raise it with --rpc-timeout-ms)", c.o.Component, c.o.Function, c.timeout)
	case errors.Is(err, wrpc.ErrRemoteFailed):
		return fmt.Errorf("component %s failed while handling %s (the host's log has the reason)", c.o.Component, c.o.Function)
	}
	return err
}

func (c *caller) invocation() wrpc.Invocation {
	return wrpc.Invocation{Prefix: c.prefix, Header: nats.Header{"source-id": {"wash"}}, Timeout: c.timeout}
}

// http sends the synthesized request to wrpc:http/incoming-handler.handle.
func (c *caller) http(ctx context.Context) error {
	h := c.o.HTTP
	body := []byte(h.Body)
	if h.BodyPath != "" {
		b, err := os.ReadFile(h.BodyPath)
		if err != nil {
			return fmt.Errorf("reading --http-body-path: %w", err)
		}
		body = b
	}
	path := h.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	url := fmt.Sprintf("%s://%s:%d%s", h.Scheme, h.Host, h.Port, path)
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(h.Method), url, bytes.NewReader(body))
	if err != nil {
		return cli.Usage(fmt.Errorf("building the HTTP request: %w", err))
	}
	if h.ContentType != "" {
		req.Header.Set("Content-Type", h.ContentType)
	}
	t := &wrpchttp.Transport{Conn: c.rpc, Target: func(*http.Request) wrpc.Invocation { return c.invocation() }}
	resp, err := t.RoundTrip(req)
	if err != nil {
		return c.callError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading the response body: %w", err)
	}
	if c.o.ExtractJSON {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return fmt.Errorf("the response body is not JSON: %w", err)
		}
		return c.env.IO.PrintJSON(v)
	}
	if c.env.IO.JSON() {
		headers := map[string]string{}
		for k := range resp.Header {
			headers[strings.ToLower(k)] = resp.Header.Get(k)
		}
		return c.env.IO.PrintJSON(map[string]any{"status": resp.StatusCode, "headers": headers, "body": string(data)})
	}
	if resp.StatusCode >= 400 {
		c.env.IO.Printf("%s", data)
		return fmt.Errorf("the component answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	c.env.IO.Printf("%s", data)
	return nil
}

// typed calls any other export, typed by the component's WIT.
func (c *caller) typed(ctx context.Context, ref string) error {
	exports, err := c.exports(ctx, ref)
	if err != nil {
		return err
	}
	ex, err := findExport(exports, c.o.Function)
	if err != nil {
		return fmt.Errorf("component %s %w", c.o.Component, err)
	}
	ft := wrpcbridge.Func(ex.Type)
	if len(c.o.Args) != len(ft.Params) {
		return fmt.Errorf("%s takes %d argument(s) %s, got %d", c.o.Function, len(ft.Params), paramList(ft), len(c.o.Args))
	}
	args := make([]wrpc.Value, len(ft.Params))
	for i, p := range ft.Params {
		v, err := parseArg(p.Type, c.o.Args[i])
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), p.Type.String()+": ")
			return fmt.Errorf("argument %d (%s: %s): %s", i+1, p.Name, p.Type, msg)
		}
		args[i] = v
	}
	inv := c.invocation()
	inv.Instance, inv.Func = ex.Interface, rpcName(ex.Name)
	res, err := c.rpc.Invoke(ctx, inv, ft, args)
	if err != nil {
		return c.callError(err)
	}
	out := make([]any, len(res))
	for i, r := range res {
		if out[i], err = wrpc.ValueToJSON(ft.Results[i], r); err != nil {
			return err
		}
	}
	if c.env.IO.JSON() {
		return c.env.IO.PrintJSON(map[string]any{"component_id": c.o.Component, "function": ex.Interface + "." + rpcName(ex.Name), "results": out})
	}
	for _, r := range out {
		b, _ := json.MarshalIndent(r, "", "  ")
		c.env.IO.Printf("%s\n", b)
	}
	return nil
}

// parseArg reads one argument as JSON. Something that is not JSON at all is taken as a bare
// string: the value of a string (or list<u8>) parameter, else reported against the type.
func parseArg(t *wrpc.Type, arg string) (wrpc.Value, error) {
	v, err := wrpc.ValueFromJSON(t, []byte(arg))
	if err == nil {
		return v, nil
	}
	var probe any
	if json.Unmarshal([]byte(arg), &probe) == nil {
		return nil, err
	}
	quoted, _ := json.Marshal(arg)
	return wrpc.ValueFromJSON(t, quoted)
}

func paramList(ft *wrpc.FuncType) string {
	parts := make([]string, len(ft.Params))
	for i, p := range ft.Params {
		parts[i] = p.Name + ": " + p.Type.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func rpcName(name string) string {
	for _, p := range []string{"[constructor]", "[method]", "[static]"} {
		name = strings.TrimPrefix(name, p)
	}
	return name
}

// findExport matches FUNCTION against the component's exports: "ns:pkg/iface@ver.fn",
// "ns:pkg/iface.fn" (any version) or a world-level "fn".
func findExport(exports []runtime.ExportedFunc, want string) (runtime.ExportedFunc, error) {
	var names []string
	for _, e := range exports {
		fn := rpcName(e.Name)
		full := fn
		if e.Interface != "" {
			full = e.Interface + "." + fn
		}
		names = append(names, full)
		base := e.Interface
		if i := strings.IndexByte(base, '@'); i >= 0 {
			base = base[:i]
		}
		if want == full || (e.Interface != "" && want == base+"."+fn) {
			return e, nil
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return runtime.ExportedFunc{}, fmt.Errorf("exports no functions")
	}
	if len(names) > 8 {
		names = append(names[:8], "…")
	}
	return runtime.ExportedFunc{}, fmt.Errorf("exports no function %s; it exports %s", want, strings.Join(names, ", "))
}

// exports reads the component's artifact (as the inventory names it) and lists its exported
// functions with their types.
func (c *caller) exports(ctx context.Context, ref string) ([]runtime.ExportedFunc, error) {
	wasm, err := c.fetch(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("reading the WIT of component %s from %s: %w", c.o.Component, ref, err)
	}
	d, err := c.env.Home()
	if err != nil {
		return nil, err
	}
	eng, err := runtime.NewEngine(ctx, runtime.Options{CompilationCacheDir: filepath.Join(d.Path, "wasm-cache")})
	if err != nil {
		return nil, err
	}
	defer eng.Close(context.Background())
	prog, err := eng.Compile(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("reading the WIT of component %s: %w", c.o.Component, err)
	}
	defer prog.Close(context.Background())
	if prog.Kind() != runtime.KindComponent {
		return nil, fmt.Errorf("%s is a core module, not a component: it exports no typed functions", ref)
	}
	return prog.ExportedFuncs(), nil
}

func (c *caller) fetch(ctx context.Context, ref string) ([]byte, error) {
	rr, err := oci.ParseResourceRef(ref)
	if err != nil {
		return nil, err
	}
	switch rr.Kind {
	case oci.RefFile:
		return os.ReadFile(rr.Path)
	case oci.RefBuiltin:
		return nil, errors.New("a builtin has no artifact")
	}
	d, err := c.env.Home()
	if err != nil {
		return nil, err
	}
	client, err := oci.New(oci.Options{CacheDir: filepath.Join(d.Path, "oci-cache"), UserAgent: "wash/" + c.env.Version, AllowLatest: true})
	if err != nil {
		return nil, err
	}
	r, err := oci.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	a, err := client.PullReference(ctx, r, oci.PullOptions{})
	if err != nil {
		return nil, err
	}
	return a.Bytes(), nil
}
