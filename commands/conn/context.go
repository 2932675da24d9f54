package conn

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wasmlattice/wash/commands/home"
)

// DefaultContextName is the context created with every default, as upstream.
const DefaultContextName = "host_config"

// Context is a saved set of connection settings, with upstream's file fields.
type Context struct {
	Name         string  `json:"name"`
	ClusterSeed  string  `json:"cluster_seed,omitempty"`
	CtlHost      string  `json:"ctl_host"`
	CtlPort      int     `json:"ctl_port"`
	CtlJWT       string  `json:"ctl_jwt,omitempty"`
	CtlSeed      string  `json:"ctl_seed,omitempty"`
	CtlCredsfile *string `json:"ctl_credsfile"`
	CtlTimeout   int     `json:"ctl_timeout"`
	CtlTLSCAFile *string `json:"ctl_tls_ca_file"`
	CtlTLSFirst  *bool   `json:"ctl_tls_first"`
	Lattice      string  `json:"lattice"`
	JSDomain     *string `json:"js_domain"`
	RPCHost      string  `json:"rpc_host"`
	RPCPort      int     `json:"rpc_port"`
	RPCJWT       string  `json:"rpc_jwt,omitempty"`
	RPCSeed      string  `json:"rpc_seed,omitempty"`
	RPCCredsfile *string `json:"rpc_credsfile"`
	RPCTimeout   int     `json:"rpc_timeout"`
	RPCTLSCAFile *string `json:"rpc_tls_ca_file"`
	RPCTLSFirst  *bool   `json:"rpc_tls_first"`
}

// DefaultContext has upstream's defaults.
func DefaultContext(name string) Context {
	return Context{Name: name, CtlHost: "127.0.0.1", CtlPort: 4222, CtlTimeout: 2000, Lattice: "default",
		RPCHost: "127.0.0.1", RPCPort: 4222, RPCTimeout: 2000}
}

// UnmarshalJSON accepts the legacy lattice_prefix key.
func (c *Context) UnmarshalJSON(b []byte) error {
	type plain Context
	aux := struct {
		plain
		LatticePrefix string `json:"lattice_prefix"`
	}{plain: plain(DefaultContext(""))}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*c = Context(aux.plain)
	if c.Lattice == "" && aux.LatticePrefix != "" {
		c.Lattice = aux.LatticePrefix
	}
	return nil
}

// Store reads and writes contexts under a directory.
type Store struct{ Dir string }

// StoreFor returns the context store of a state directory (WASH_CONTEXT_DIR overrides it).
func StoreFor(d home.Dir) Store {
	if p := os.Getenv("WASH_CONTEXT_DIR"); p != "" {
		return Store{Dir: p}
	}
	return Store{Dir: d.ContextsDir()}
}

// DefaultName returns the name in the "default" file, or host_config.
func (s Store) DefaultName() string {
	b, err := os.ReadFile(filepath.Join(s.Dir, "default"))
	if err != nil {
		return DefaultContextName
	}
	if n := strings.TrimSpace(string(b)); n != "" {
		return n
	}
	return DefaultContextName
}

// Load reads a context; the host_config context exists implicitly with defaults.
func (s Store) Load(name string) (Context, error) {
	if name == "" {
		name = s.DefaultName()
	}
	b, err := os.ReadFile(filepath.Join(s.Dir, name+".json"))
	if errors.Is(err, os.ErrNotExist) {
		if name == DefaultContextName {
			return DefaultContext(name), nil
		}
		return Context{}, fmt.Errorf("context %q not found in %s: list contexts with `wash ctx list`", name, s.Dir)
	}
	if err != nil {
		return Context{}, err
	}
	var c Context
	if err := json.Unmarshal(b, &c); err != nil {
		return Context{}, fmt.Errorf("context file %s is not valid JSON: %v", filepath.Join(s.Dir, name+".json"), err)
	}
	if c.Name == "" {
		c.Name = name
	}
	return c, nil
}

// Save writes a context atomically.
func (s Store) Save(c Context) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return home.WriteFileAtomic(filepath.Join(s.Dir, c.Name+".json"), b, 0o600)
}
