// Package ui implements `wash ui`: the browser dashboard (package ui) served by wash itself.
package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/ui"
)

// DefaultPort is upstream's washboard port.
const DefaultPort = 3030

// Options are the flags of `wash ui`.
type Options struct {
	Conn    conn.Options
	Port    int
	Address string
	// OnListen, if set, gets the URL once the server listens (tests).
	OnListen func(url string)
}

// NewCmd builds `wash ui`.
func NewCmd(env *cli.Env) *cobra.Command { return newCmd(env, nil) }

func newCmd(env *cli.Env, runF func(*Options) error) *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Open a live web dashboard of the lattice, served by wash itself",
		Long: `Serve a web dashboard of one lattice on http://127.0.0.1:3030: hosts with their labels,
components and providers, apps with their status and per-scaler detail, links, config names and
a live event feed. The page updates by itself as the lattice changes (server-sent events); it
is part of the wash binary, so nothing is downloaded. It only shows: it changes nothing.

The server listens on loopback only unless --address says otherwise. Stop it with Ctrl+C.`,
		Example: `  wash ui
  wash ui --port 8000 -x prod`,
		Args: cli.Args(cobra.NoArgs),
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return cli.BindEnv(cmd.Flags(), map[string]string{"port": "WASMCLOUD_WASH_UI_PORT"})
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cli.RunUntilSignal(cmd.Context(), env, o, runF, Run)
		},
	}
	// Upstream's wash ui has -p for its port; here -p stays the NATS port, as on every other
	// command that connects, and the page's port is --port.
	o.Conn.AddFlags(cmd.Flags())
	cmd.Flags().IntVar(&o.Port, "port", DefaultPort, "port to serve the dashboard on (env WASMCLOUD_WASH_UI_PORT; 0 picks a free one)")
	cmd.Flags().StringVar(&o.Address, "address", "127.0.0.1", "address to listen on; anything but loopback exposes the lattice's state to the network")
	return cmd
}

// Run serves the dashboard until ctx ends.
func Run(ctx context.Context, env *cli.Env, o *Options) error {
	if o.Port < 0 || o.Port > 65535 {
		return cli.Usage(fmt.Errorf("invalid --port %d: use 1-65535 (or 0 for a free port)", o.Port))
	}
	if net.ParseIP(o.Address) == nil && o.Address != "localhost" {
		return cli.Usage(fmt.Errorf("invalid --address %q: give an IP address such as 127.0.0.1", o.Address))
	}
	r, err := env.Resolve(&o.Conn)
	if err != nil {
		return err
	}
	nc, err := r.Connect("wash ui", nats.MaxReconnects(-1), nats.ReconnectWait(time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	srv, err := ui.New(ctx, ui.Options{Conn: nc, Lattice: r.Lattice, TopicPrefix: ctl.TopicPrefixFromEnv(),
		JSDomain: r.JSDomain, Timeout: r.Timeout, ServerURL: r.URL()})
	if err != nil {
		return err
	}
	defer srv.Close()
	addr := net.JoinHostPort(o.Address, strconv.Itoa(o.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot serve the dashboard on %s: %v; pick another port with --port", addr, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String() + "/"
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if env.IO.JSON() {
		_ = env.IO.PrintResult(map[string]any{"url": url, "lattice": r.Lattice, "nats_url": r.URL()})
	} else {
		env.IO.Printf("%s dashboard of lattice %q at %s\n", env.IO.OK("✓"), r.Lattice, url)
		if ip := net.ParseIP(o.Address); ip != nil && !ip.IsLoopback() {
			env.IO.Printf("%s listening on %s: anyone who can reach it sees the lattice's state\n", env.IO.Warn("!"), o.Address)
		}
		env.IO.Printf("Press Ctrl+C to stop.\n")
	}
	if o.OnListen != nil {
		o.OnListen(url)
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("dashboard server on %s: %w", addr, err)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Close() // ends the event streams so Shutdown need not wait for them
	_ = hs.Shutdown(sctx)
	return nil
}
