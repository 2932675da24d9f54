// Command vaultdev runs a real HashiCorp Vault core in memory for the keyvalue-vault tests:
// Vault 1.14.1, the last release under the MPL-2.0 (later ones are BUSL; OpenBao forked from
// this line), built from the Go module proxy. It initializes and unseals a fresh core with an
// in-memory storage backend, mounts the KV v2 engine at secret/, serves Vault's own HTTP API
// on a loopback address and prints "http://ADDR ROOT-TOKEN" once ready. It is its own Go
// module so Vault's dependencies stay out of wash's go.mod; providertest.StartVault builds
// and runs it.
//
//	vaultdev [127.0.0.1:PORT]
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	log "github.com/hashicorp/go-hclog"
	kv "github.com/hashicorp/vault-plugin-secrets-kv"
	vaulthttp "github.com/hashicorp/vault/http"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/physical/inmem"
	"github.com/hashicorp/vault/vault"
)

// noBuiltins: the core gets its one secrets engine (kv) through LogicalBackends; no plugin
// catalog is needed.
type noBuiltins struct{}

func (noBuiltins) Contains(string, consts.PluginType) bool { return false }
func (noBuiltins) Get(string, consts.PluginType) (func() (interface{}, error), bool) {
	return nil, false
}
func (noBuiltins) Keys(consts.PluginType) []string { return nil }
func (noBuiltins) DeprecationStatus(string, consts.PluginType) (consts.DeprecationStatus, bool) {
	return consts.Supported, false
}
func (noBuiltins) IsBuiltinEntPlugin(string, consts.PluginType) bool { return false }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vaultdev:", err)
		os.Exit(1)
	}
}

func run() error {
	logger := log.New(&log.LoggerOptions{Level: log.Warn, Output: os.Stderr})
	phys, err := inmem.NewInmem(nil, logger)
	if err != nil {
		return err
	}
	core, err := vault.NewCore(&vault.CoreConfig{
		Physical: phys, Logger: logger, DisableMlock: true, BuiltinRegistry: noBuiltins{},
		LogicalBackends: map[string]logical.Factory{"kv": kv.Factory},
	})
	if err != nil {
		return err
	}
	ctx := context.Background()
	res, err := core.Initialize(ctx, &vault.InitParams{
		BarrierConfig:  &vault.SealConfig{SecretShares: 1, SecretThreshold: 1},
		RecoveryConfig: &vault.SealConfig{},
	})
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if _, err := core.Unseal(res.SecretShares[0]); err != nil {
		return fmt.Errorf("unseal: %w", err)
	}
	addr := "127.0.0.1:0"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	h := vaulthttp.Handler.Handler(&vault.HandlerProperties{Core: core})
	go func() { _ = http.Serve(ln, h) }()
	base := "http://" + ln.Addr().String()
	// enable KV v2 at secret/, as `vault server -dev` does
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/sys/mounts/secret", stringsReader(`{"type":"kv","options":{"version":"2"}}`))
	req.Header.Set("X-Vault-Token", res.RootToken)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("mounting kv v2: %w", err)
	}
	r.Body.Close()
	if r.StatusCode >= 300 {
		return fmt.Errorf("mounting kv v2: %s", r.Status)
	}
	// a new KV v2 mount takes a moment before it accepts writes
	for i := 0; ; i++ {
		req, _ := http.NewRequest(http.MethodPost, base+"/v1/secret/data/vaultdev-ready", stringsReader(`{"data":{"ok":"yes"}}`))
		req.Header.Set("X-Vault-Token", res.RootToken)
		r, err := http.DefaultClient.Do(req)
		if err == nil {
			r.Body.Close()
			if r.StatusCode < 300 {
				break
			}
		}
		if i > 200 {
			return fmt.Errorf("kv v2 at secret/ does not accept writes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Printf("%s %s\n", base, res.RootToken)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
