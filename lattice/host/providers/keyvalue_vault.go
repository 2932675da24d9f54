package providers

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// KeyValueVault is the builtin name (wasmcloud+builtin://keyvalue-vault).
const KeyValueVault = "keyvalue-vault"

// DefaultVaultAddr is upstream's default server.
const DefaultVaultAddr = "http://127.0.0.1:8200"

// maxVaultResponse bounds what the provider reads of one Vault answer.
const maxVaultResponse = 64 << 20

// VaultKVProvider is the built-in keyvalue-vault provider: wasi:keyvalue on a HashiCorp
// Vault (or OpenBao) KV v2 secrets engine, laid out as upstream's provider lays it out: a
// bucket (the identifier given to store.open) is a secret path under the mount, a key is a
// field of that secret, a value is stored base64 (standard alphabet, no padding). Link target
// config: token (required), addr (default http://127.0.0.1:8200), mount (default secret),
// certs (comma-separated CA files; TLS then). VAULT_TOKEN, VAULT_ADDR, VAULT_MOUNT and
// VAULT_CACERT of the host fill in what a link leaves out. Every write is a check-and-set on
// the secret's version, retried on conflict, so concurrent writers and increment (which
// upstream lacks) lose no update.
type VaultKVProvider struct {
	configPerCall // DeleteLink: clients are kept per settings
	mu            sync.Mutex
	clients       map[string]*vaultKV
}

func newVaultKV() *VaultKVProvider { return &VaultKVProvider{clients: map[string]*vaultKV{}} }

// PutLink reports a link without a token now (the host logs it).
func (p *VaultKVProvider) PutLink(_ context.Context, l Link) error {
	return checkTargetConfig(l, "wasi", "keyvalue", vaultConfig)
}

// Stop forgets every client.
func (p *VaultKVProvider) Stop(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.clients {
		c.http.CloseIdleConnections()
	}
	p.clients = map[string]*vaultKV{}
	return nil
}

type vaultSettings struct {
	addr, token, mount string
	certs              []string
}

func vaultConfig(link InterfaceLinkDefinition) (vaultSettings, error) {
	get := func(key, env, def string) string {
		if v := strings.TrimSpace(configValue(link.TargetConfig, key)); v != "" {
			return v
		}
		if v := strings.TrimSpace(os.Getenv(env)); v != "" {
			return v
		}
		return def
	}
	s := vaultSettings{addr: strings.TrimRight(get("addr", "VAULT_ADDR", DefaultVaultAddr), "/"), token: get("token", "VAULT_TOKEN", ""),
		mount: strings.Trim(get("mount", "VAULT_MOUNT", "secret"), "/")}
	for _, c := range strings.Split(get("certs", "VAULT_CACERT", ""), ",") {
		if c = strings.TrimSpace(c); c != "" {
			s.certs = append(s.certs, c)
		}
	}
	if s.token == "" {
		return s, fmt.Errorf("keyvalue-vault: the link from %s to %s has no token in its target config (nor VAULT_TOKEN for the host); add one", link.SourceID, link.Target)
	}
	if u, err := url.Parse(s.addr); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return s, fmt.Errorf("keyvalue-vault: addr %q is not an http(s) URL", s.addr)
	}
	return s, nil
}

// Open returns the store for store.open(identifier) through link (KeyValueOpener).
func (p *VaultKVProvider) Open(_ context.Context, link InterfaceLinkDefinition, identifier string) (KVStore, string, error) {
	s, err := vaultConfig(link)
	if err != nil {
		return nil, "", &KVError{Case: kvCaseOther, Msg: err.Error()}
	}
	if strings.Trim(identifier, "/") == "" || slices.Contains(strings.Split(identifier, "/"), "..") {
		return nil, "", &KVError{Case: kvCaseOther, Msg: fmt.Sprintf("keyvalue-vault: %q is not a secret path", identifier)}
	}
	key := strings.Join([]string{s.addr, s.token, s.mount, strings.Join(s.certs, ",")}, "\x00")
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.clients[key]
	if c == nil {
		hc := &http.Client{Timeout: 30 * time.Second}
		if len(s.certs) > 0 {
			pool := x509.NewCertPool()
			for _, f := range s.certs {
				pem, err := os.ReadFile(f)
				if err != nil || !pool.AppendCertsFromPEM(pem) {
					return nil, "", &KVError{Case: kvCaseOther, Msg: fmt.Sprintf("keyvalue-vault: CA certificates %s cannot be read: %v", f, err)}
				}
			}
			hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
		}
		c = &vaultKV{http: hc, settings: s}
		p.clients[key] = c
	}
	return c, strings.Trim(identifier, "/"), nil
}

// vaultKV talks to one Vault with one token.
type vaultKV struct {
	http     *http.Client
	settings vaultSettings
}

// vaultSecret is a KV v2 secret: its fields and its version (0: none).
type vaultSecret struct {
	data    map[string]string
	version int
}

func (c *vaultKV) url(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return c.settings.addr + "/v1/" + c.settings.mount + "/data/" + strings.Join(parts, "/")
}

// do sends one request and decodes a JSON answer into out; 404 is found=false.
func (c *vaultKV) do(ctx context.Context, method, path string, body any, out any) (found bool, err error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), rd)
	if err != nil {
		return false, err
	}
	req.Header.Set("X-Vault-Token", c.settings.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return false, fmt.Errorf("keyvalue-vault: cannot reach Vault at %s: %v", c.settings.addr, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxVaultResponse))
	if err != nil {
		return false, fmt.Errorf("keyvalue-vault: reading Vault's answer: %v", err)
	}
	if res.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if res.StatusCode >= 300 {
		var e struct {
			Errors []string `json:"errors"`
		}
		_ = json.Unmarshal(raw, &e)
		msg := strings.Join(e.Errors, "; ")
		if msg == "" {
			msg = strings.TrimSpace(string(raw))
		}
		switch {
		case res.StatusCode == http.StatusForbidden:
			return false, &KVError{Case: kvCaseAccessDenied, Msg: msg} // access-denied
		case res.StatusCode == http.StatusBadRequest && strings.Contains(msg, "check-and-set"):
			return false, errCASConflict
		}
		return false, fmt.Errorf("keyvalue-vault: %s %s/%s: %d %s", method, c.settings.mount, path, res.StatusCode, msg)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return false, fmt.Errorf("keyvalue-vault: Vault's answer is not JSON: %v", err)
		}
	}
	return true, nil
}

var errCASConflict = errors.New("keyvalue-vault: the secret changed meanwhile")

func (c *vaultKV) read(ctx context.Context, path string) (vaultSecret, error) {
	var out struct {
		Data struct {
			Data     map[string]any `json:"data"`
			Metadata struct {
				Version int `json:"version"`
			} `json:"metadata"`
		} `json:"data"`
	}
	found, err := c.do(ctx, http.MethodGet, path, nil, &out)
	if err != nil {
		return vaultSecret{}, err
	}
	s := vaultSecret{data: map[string]string{}}
	if !found {
		// a deleted latest version answers 404 with its metadata: writing needs that version
		return c.deletedVersion(ctx, path, s)
	}
	s.version = out.Data.Metadata.Version
	for k, v := range out.Data.Data {
		if str, ok := v.(string); ok {
			s.data[k] = str
		}
	}
	return s, nil
}

// deletedVersion reads the current version of a path whose latest version is deleted (or
// that never existed: version 0).
func (c *vaultKV) deletedVersion(ctx context.Context, path string, s vaultSecret) (vaultSecret, error) {
	var meta struct {
		Data struct {
			CurrentVersion int `json:"current_version"`
		} `json:"data"`
	}
	req := strings.Replace(c.url(path), "/"+c.settings.mount+"/data/", "/"+c.settings.mount+"/metadata/", 1)
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, req, nil)
	if err != nil {
		return s, err
	}
	r.Header.Set("X-Vault-Token", c.settings.token)
	res, err := c.http.Do(r)
	if err != nil {
		return s, fmt.Errorf("keyvalue-vault: cannot reach Vault at %s: %v", c.settings.addr, err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusOK {
		_ = json.NewDecoder(io.LimitReader(res.Body, maxVaultResponse)).Decode(&meta)
		s.version = meta.Data.CurrentVersion
	}
	return s, nil
}

func (c *vaultKV) write(ctx context.Context, path string, s vaultSecret) error {
	_, err := c.do(ctx, http.MethodPost, path, map[string]any{"options": map[string]int{"cas": s.version}, "data": s.data}, nil)
	return err
}

// update applies change to the secret at path with check-and-set, retrying on conflicts.
func (c *vaultKV) update(ctx context.Context, path string, change func(map[string]string) (bool, error)) error {
	for attempt := 0; ; attempt++ {
		s, err := c.read(ctx, path)
		if err != nil {
			return err
		}
		write, err := change(s.data)
		if err != nil || !write {
			return err
		}
		err = c.write(ctx, path, s)
		if !errors.Is(err, errCASConflict) {
			return err
		}
		if attempt > 1000 {
			return errors.New("keyvalue-vault: too many concurrent writers of this secret; try again")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt%10) * time.Millisecond):
		}
	}
}

var b64 = base64.StdEncoding.WithPadding(base64.NoPadding)

func (c *vaultKV) Get(ctx context.Context, bucket, key string) ([]byte, bool, error) {
	s, err := c.read(ctx, bucket)
	if err != nil {
		return nil, false, err
	}
	v, ok := s.data[key]
	if !ok {
		return nil, false, nil
	}
	b, err := b64.DecodeString(strings.TrimRight(v, "="))
	if err != nil {
		return nil, false, fmt.Errorf("keyvalue-vault: field %q of %s is not a base64 value this provider wrote", key, bucket)
	}
	return b, true, nil
}

func (c *vaultKV) Set(ctx context.Context, bucket, key string, value []byte) error {
	enc := b64.EncodeToString(value)
	return c.update(ctx, bucket, func(m map[string]string) (bool, error) {
		if old, ok := m[key]; ok && old == enc {
			return false, nil
		}
		m[key] = enc
		return true, nil
	})
}

func (c *vaultKV) Delete(ctx context.Context, bucket, key string) error {
	return c.update(ctx, bucket, func(m map[string]string) (bool, error) {
		if _, ok := m[key]; !ok {
			return false, nil
		}
		delete(m, key)
		return true, nil
	})
}

func (c *vaultKV) Exists(ctx context.Context, bucket, key string) (bool, error) {
	s, err := c.read(ctx, bucket)
	if err != nil {
		return false, err
	}
	_, ok := s.data[key]
	return ok, nil
}

// ListKeys returns every field name from cursor on (sorted), in one page.
func (c *vaultKV) ListKeys(ctx context.Context, bucket string, cursor uint64) ([]string, *uint64, error) {
	s, err := c.read(ctx, bucket)
	if err != nil {
		return nil, nil, err
	}
	keys := make([]string, 0, len(s.data))
	for k := range s.data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if cursor >= uint64(len(keys)) {
		return []string{}, nil, nil
	}
	return keys[cursor:], nil, nil
}

// Increment reads the field as a decimal number (missing: 0), adds delta and writes it back
// with check-and-set; the value is stored as the number's text, like keyvalue-redis.
func (c *vaultKV) Increment(ctx context.Context, bucket, key string, delta uint64) (uint64, error) {
	var n uint64
	err := c.update(ctx, bucket, func(m map[string]string) (bool, error) {
		n = 0
		if v, ok := m[key]; ok {
			raw, err := b64.DecodeString(strings.TrimRight(v, "="))
			if err == nil {
				n, err = strconv.ParseUint(string(raw), 10, 64)
			}
			if err != nil {
				return false, &KVError{Case: kvCaseOther, Msg: fmt.Sprintf("keyvalue-vault: increment: field %q of %s is not a number", key, bucket)}
			}
		}
		n += delta
		m[key] = b64.EncodeToString([]byte(strconv.FormatUint(n, 10)))
		return true, nil
	})
	return n, err
}
