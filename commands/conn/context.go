package conn

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/lattice/ctl"
)

// DefaultContextName is the context created with every default, as upstream.
const DefaultContextName = "host_config"

// Context is a saved set of connection settings, with upstream's file fields.
type Context struct {
	Name         string  `json:"name"`
	ClusterSeed  string  `json:"cluster_seed"`
	CtlHost      string  `json:"ctl_host"`
	CtlPort      int     `json:"ctl_port"`
	CtlJWT       string  `json:"ctl_jwt"`
	CtlSeed      string  `json:"ctl_seed"`
	CtlCredsfile *string `json:"ctl_credsfile"`
	CtlTimeout   int     `json:"ctl_timeout"`
	CtlTLSCAFile *string `json:"ctl_tls_ca_file"`
	CtlTLSFirst  *bool   `json:"ctl_tls_first"`
	Lattice      string  `json:"lattice"`
	JSDomain     *string `json:"js_domain"`
	RPCHost      string  `json:"rpc_host"`
	RPCPort      int     `json:"rpc_port"`
	RPCJWT       string  `json:"rpc_jwt"`
	RPCSeed      string  `json:"rpc_seed"`
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

// StoreFor returns the context store of a state directory; WASH_CONTEXT_DIR (or upstream's
// WASH_CONTEXTS) overrides it.
func StoreFor(d home.Dir) Store {
	for _, env := range []string{"WASH_CONTEXT_DIR", "WASH_CONTEXTS"} {
		if p := os.Getenv(env); p != "" {
			return Store{Dir: p}
		}
	}
	return Store{Dir: d.ContextsDir()}
}

// Path is the file of a context.
func (s Store) Path(name string) string { return filepath.Join(s.Dir, name+".json") }

// ValidateName accepts names that are safe as file names: letters, digits, '-', '_' and '.'
// (not leading).
func ValidateName(name string) error {
	if name == "" {
		return errors.New("empty context name")
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || (r == '.' && i > 0)
		if !ok {
			return fmt.Errorf("invalid context name %q: use letters, digits, '-', '_' and '.'", name)
		}
	}
	if name == "default" || name == "index" {
		return fmt.Errorf("invalid context name %q: the name is reserved", name)
	}
	return nil
}

// Ensure creates the directory, the host_config context and the default pointer if missing,
// as upstream does on first use.
func (s Store) Ensure() error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("creating context directory %s: %w", s.Dir, err)
	}
	if _, err := os.Stat(s.Path(DefaultContextName)); errors.Is(err, os.ErrNotExist) {
		if err := s.Save(DefaultContext(DefaultContextName)); err != nil {
			return err
		}
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "default")); errors.Is(err, os.ErrNotExist) {
		return home.WriteFileAtomic(filepath.Join(s.Dir, "default"), []byte(DefaultContextName), 0o600)
	}
	return nil
}

// Exists reports whether a context file exists (host_config always exists implicitly).
func (s Store) Exists(name string) bool {
	if name == DefaultContextName {
		return true
	}
	_, err := os.Stat(s.Path(name))
	return err == nil
}

// List returns the context names, sorted.
func (s Store) List() ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".json") || strings.HasPrefix(n, ".") || n == "index.json" {
			continue
		}
		out = append(out, strings.TrimSuffix(n, ".json"))
	}
	sort.Strings(out)
	return out, nil
}

// SetDefault makes name the default context.
func (s Store) SetDefault(name string) error {
	if !s.Exists(name) {
		return fmt.Errorf("context %q not found in %s: list contexts with `wash ctx list`", name, s.Dir)
	}
	return home.WriteFileAtomic(filepath.Join(s.Dir, "default"), []byte(name), 0o600)
}

// Delete removes a context; if it was the default, host_config becomes the default again.
func (s Store) Delete(name string) error {
	if err := os.Remove(s.Path(name)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("context %q not found in %s: list contexts with `wash ctx list`", name, s.Dir)
		}
		return err
	}
	if s.DefaultName() == name {
		return home.WriteFileAtomic(filepath.Join(s.Dir, "default"), []byte(DefaultContextName), 0o600)
	}
	return nil
}

// Validate checks the values a context file may hold.
func (c Context) Validate() error {
	if c.Lattice != "" && !ctl.ValidLatticeName(c.Lattice) {
		return fmt.Errorf("invalid lattice %q: use letters, digits, '-' and '_' only", c.Lattice)
	}
	if c.CtlPort < 0 || c.CtlPort > 65535 {
		return fmt.Errorf("invalid ctl_port %d", c.CtlPort)
	}
	if c.RPCPort < 0 || c.RPCPort > 65535 {
		return fmt.Errorf("invalid rpc_port %d", c.RPCPort)
	}
	if c.CtlTimeout < 0 || c.RPCTimeout < 0 {
		return errors.New("timeouts must not be negative")
	}
	return nil
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
		return Context{}, fmt.Errorf("context file %s is not valid JSON: %v (fix it with `wash ctx edit %s`)", s.Path(name), err, name)
	}
	if err := c.Validate(); err != nil {
		return Context{}, fmt.Errorf("context file %s: %v (fix it with `wash ctx edit %s`)", s.Path(name), err, name)
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
