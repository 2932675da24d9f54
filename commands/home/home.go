// Package home manages wash's state directory ($WASH_HOME, default ~/.wash): the JetStream
// store, records of the hosts and NATS servers `wash up` started, logs and contexts. Every write
// is atomic (temp file + rename) and the directory is private (0700).
package home

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wasmlattice/wash/internal/atomicfile"
)

// Dir is a state directory.
type Dir struct{ Path string }

// Resolve returns $WASH_HOME or ~/.wash.
func Resolve() (Dir, error) {
	if p := os.Getenv("WASH_HOME"); p != "" {
		if strings.HasPrefix(p, "~/") {
			if h, err := os.UserHomeDir(); err == nil {
				p = filepath.Join(h, p[2:])
			}
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return Dir{}, fmt.Errorf("WASH_HOME=%s: %w", p, err)
		}
		return Dir{Path: abs}, nil
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return Dir{}, fmt.Errorf("cannot find the home directory (%v): set WASH_HOME", err)
	}
	return Dir{Path: filepath.Join(h, ".wash")}, nil
}

// Ensure creates the directory tree with private permissions.
func (d Dir) Ensure() error {
	for _, sub := range []string{"", "hosts", "logs", "contexts"} {
		p := filepath.Join(d.Path, sub)
		if err := os.MkdirAll(p, 0o700); err != nil {
			return fmt.Errorf("creating state directory %s: %w", p, err)
		}
		_ = os.Chmod(p, 0o700)
	}
	return nil
}

// JetStreamDir is the store of the embedded NATS listening on port.
func (d Dir) JetStreamDir(port int) string {
	return filepath.Join(d.Path, "jetstream", strconv.Itoa(port))
}

// LogPath is the log file of one host.
func (d Dir) LogPath(hostID string) string {
	return filepath.Join(d.Path, "logs", "host-"+hostID+".log")
}

// NATSLogPath is the embedded NATS server log.
func (d Dir) NATSLogPath(port int) string {
	return filepath.Join(d.Path, "logs", "nats-"+strconv.Itoa(port)+".log")
}

// ContextsDir holds context files.
func (d Dir) ContextsDir() string { return filepath.Join(d.Path, "contexts") }

// WriteFileAtomic writes data to path atomically (see atomicfile), creating missing parent
// directories as private ones: the state directory holds credentials and process records.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, perm)
}

// HostRecord is what `wash up` remembers of each host it started.
type HostRecord struct {
	HostID       string    `json:"host_id"`
	FriendlyName string    `json:"friendly_name"`
	Lattice      string    `json:"lattice"`
	Process                // the wash process serving the host
	LogPath      string    `json:"log_path,omitempty"`
	NATSURL      string    `json:"nats_url"`
	OwnsNATS     bool      `json:"owns_nats"`
	StartedAt    time.Time `json:"started_at"`
}

// NATSRecord describes an embedded NATS server started by `wash up`.
type NATSRecord struct {
	Process             // the wash process running the server
	URL       string    `json:"url"`
	Host      string    `json:"host"`
	Port      int       `json:"port"`
	StoreDir  string    `json:"store_dir"`
	LogPath   string    `json:"log_path,omitempty"`
	StartedAt time.Time `json:"started_at"`
}

func (d Dir) hostRecordPath(id string) string { return filepath.Join(d.Path, "hosts", id+".json") }

func (d Dir) natsRecordPath(port int) string {
	return filepath.Join(d.Path, "nats-"+strconv.Itoa(port)+".json")
}

// SaveHost records a host.
func (d Dir) SaveHost(r HostRecord) error {
	b, _ := json.MarshalIndent(r, "", "  ")
	return WriteFileAtomic(d.hostRecordPath(r.HostID), b, 0o600)
}

// RemoveHost forgets a host.
func (d Dir) RemoveHost(id string) { _ = os.Remove(d.hostRecordPath(id)) }

// Hosts lists recorded hosts, dropping records whose process is gone (or whose pid now
// belongs to another process).
func (d Dir) Hosts() ([]HostRecord, error) {
	entries, err := os.ReadDir(filepath.Join(d.Path, "hosts"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []HostRecord
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(d.Path, "hosts", e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var r HostRecord
		if json.Unmarshal(b, &r) != nil || r.HostID == "" {
			continue
		}
		if !r.Running() {
			_ = os.Remove(p) // stale: the process died without cleaning up
			continue
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StartedAt.Before(out[j].StartedAt) })
	return out, nil
}

// SaveNATS records an embedded NATS server.
func (d Dir) SaveNATS(r NATSRecord) error {
	b, _ := json.MarshalIndent(r, "", "  ")
	return WriteFileAtomic(d.natsRecordPath(r.Port), b, 0o600)
}

// RemoveNATS forgets an embedded NATS server.
func (d Dir) RemoveNATS(port int) { _ = os.Remove(d.natsRecordPath(port)) }

// NATS returns the record of the embedded NATS on port, if its process still runs; a stale
// record is removed.
func (d Dir) NATS(port int) (*NATSRecord, bool) {
	b, err := os.ReadFile(d.natsRecordPath(port))
	if err != nil {
		return nil, false
	}
	var r NATSRecord
	if json.Unmarshal(b, &r) != nil || !r.Running() {
		_ = os.Remove(d.natsRecordPath(port))
		return nil, false
	}
	return &r, true
}

// AllNATS lists live embedded NATS records.
func (d Dir) AllNATS() []NATSRecord {
	matches, _ := filepath.Glob(filepath.Join(d.Path, "nats-*.json"))
	var out []NATSRecord
	for _, m := range matches {
		port, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "nats-"), ".json"))
		if err != nil {
			continue
		}
		if r, ok := d.NATS(port); ok {
			out = append(out, *r)
		}
	}
	return out
}

// Alive reports whether a process exists (and, on Linux, is not a zombie).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	return processAlive(pid) && !zombie(pid)
}

// zombie reports whether a process has exited but not been reaped yet (Linux /proc); a detached
// process whose reaper is slow must not look alive to `wash down`.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// Format: pid (comm) state ...; comm may contain spaces, so look after the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}

// AdoptUpstreamDirs lets wash read what upstream wash 0.43 keeps in its XDG directories when
// this wash has nothing of its own: the config dir ($WASH_CONFIG_DIR, else
// $XDG_CONFIG_HOME/wash, else ~/.config/wash) holds contexts, the data dir ($WASH_DATA_DIR,
// else $XDG_DATA_HOME/wash, else ~/.local/share/wash) holds keys. It points WASH_CONTEXT_DIR
// and WASH_KEYS there (upstream's WASH_KEYS_DIR is honoured too) unless they are set, and only
// when WASH_HOME is not set: an explicit state directory wins.
func AdoptUpstreamDirs() {
	if _, ok := os.LookupEnv("WASH_KEYS"); !ok {
		if v := os.Getenv("WASH_KEYS_DIR"); v != "" {
			os.Setenv("WASH_KEYS", expandHome(v))
		}
	}
	if os.Getenv("WASH_HOME") != "" {
		return
	}
	own, err := Resolve()
	if err != nil {
		return
	}
	userHome, _ := os.UserHomeDir()
	xdg := func(override, env, fallback string) string {
		if v := os.Getenv(override); v != "" {
			return expandHome(v)
		}
		if v := os.Getenv(env); v != "" {
			return filepath.Join(v, "wash")
		}
		return filepath.Join(userHome, fallback, "wash")
	}
	if os.Getenv("WASH_CONTEXT_DIR") == "" && os.Getenv("WASH_CONTEXTS") == "" {
		upstream := filepath.Join(xdg("WASH_CONFIG_DIR", "XDG_CONFIG_HOME", ".config"), "contexts")
		// host_config.json alone is what any first run creates: nothing of the user's yet
		ownCtx, _ := filepath.Glob(filepath.Join(own.ContextsDir(), "*.json"))
		mine := 0
		for _, f := range ownCtx {
			if filepath.Base(f) != "host_config.json" {
				mine++
			}
		}
		if mine == 0 && isDir(upstream) {
			os.Setenv("WASH_CONTEXT_DIR", upstream)
		}
	}
	if _, ok := os.LookupEnv("WASH_KEYS"); !ok {
		upstream := filepath.Join(xdg("WASH_DATA_DIR", "XDG_DATA_HOME", filepath.Join(".local", "share")), "keys")
		if !isDir(filepath.Join(own.Path, "keys")) && isDir(upstream) {
			os.Setenv("WASH_KEYS", upstream)
		}
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[2:])
		}
	}
	return p
}
