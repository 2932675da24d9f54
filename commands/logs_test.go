package commands_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/wasmlattice/wash/commands/cli"
	logscmd "github.com/wasmlattice/wash/commands/logs"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/internal/hostlog"
	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/internal/testtool"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/logs"
)

// logHost starts a host whose log goes through a tap, as `wash up` sets it up.
func (l *lattice) logHost(t testing.TB, labels map[string]string) *host.Host {
	t.Helper()
	tap := logs.NewTap(slog.NewTextHandler(io.Discard, nil), logs.TapOptions{})
	return l.nats.StartHost(t, host.Config{Lattice: "default", Labels: labels, Logger: slog.New(tap), LogTap: tap})
}

// followLogs runs `wash logs -f` through its Run function and returns its lines as they arrive.
func followLogs(t *testing.T, l *lattice, format output.Format, args ...string) <-chan arrival {
	t.Helper()
	o := &logscmd.Options{}
	fs := pflag.NewFlagSet("logs", pflag.ContinueOnError)
	o.Conn.AddFlags(fs)
	fs.BoolVar(&o.All, "all", false, "")
	fs.StringArrayVar(&o.Components, "component", nil, "")
	fs.BoolVarP(&o.Follow, "follow", "f", false, "")
	fs.IntVar(&o.Tail, "tail", -1, "")
	if err := fs.Parse(append([]string{"-p", l.port, "-x", "default", "-f"}, args...)); err != nil {
		t.Fatal(err)
	}
	lines, _ := stream(t, "wash logs -f", format, &o.OnReady, func(ctx context.Context, env *cli.Env) error { return logscmd.Run(ctx, env, o) })
	return lines
}

// TestLogsFollowAcrossHosts is the acceptance check: on a three-host lattice, `wash logs -f`
// prints the stderr line a component writes for a request within 200 ms, from whichever host
// ran it; -o json is NDJSON.
func TestLogsFollowAcrossHosts(t *testing.T) {
	l := newLattice(t)
	l.logHost(t, map[string]string{"zone": "a"})
	h2 := l.logHost(t, map[string]string{"zone": "b"})
	l.logHost(t, map[string]string{"zone": "c"})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(testtool.FreePort(t)))
	wasm := testlattice.HTTPLog(t)
	ok(t, l.args("default", "start", "component", "file://"+wasm, "httplog", "--host-id", h2.ID())...)
	ok(t, l.args("default", "start", "provider", "wasmcloud+builtin://http-server", "http", "--host-id", h2.ID())...)
	ok(t, l.args("default", "config", "put", "http-addr", "address="+addr)...)
	ok(t, l.args("default", "link", "put", "http", "httplog", "wasi", "http", "--interface", "incoming-handler", "--source-config", "http-addr")...)
	url := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(url + "/warmup")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("http-server never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	text := followLogs(t, l, output.Text, "--component", "httplog", "--tail", "0")
	jsonLines := followLogs(t, l, output.JSON, "--all", "--tail", "0")
	for i := range 3 {
		path := fmt.Sprintf("/req-%d", i)
		sent := time.Now()
		res, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		a := next(t, text, 5*time.Second, func(s string) bool { return strings.Contains(s, "httplog path="+path) })
		if lag := a.at.Sub(sent); lag > 200*time.Millisecond {
			t.Errorf("stderr line of %s printed %s after the request, want < 200ms", path, lag)
		} else {
			t.Logf("stderr line of %s printed %s after the request", path, lag)
		}
		if !strings.Contains(a.line, h2.FriendlyName()) || !strings.Contains(a.line, "[httplog stderr]") {
			t.Errorf("line does not name the host and component: %q", a.line)
		}
		j := next(t, jsonLines, 5*time.Second, func(s string) bool { return strings.Contains(s, "httplog path="+path) })
		var rec map[string]any
		if err := json.Unmarshal([]byte(j.line), &rec); err != nil {
			t.Fatalf("not one JSON object per line: %v\n%s", err, j.line)
		}
		if rec["host_id"] != h2.ID() || rec["component_id"] != "httplog" || rec["stream"] != "stderr" || rec["msg"] != "httplog path="+path {
			t.Errorf("record = %v", rec)
		}
	}
}

// TestLogsHistoryOverLattice reads a remote host's recent lines (no local file) and filters them.
func TestLogsHistoryOverLattice(t *testing.T) {
	l := newLattice(t)
	h := l.logHost(t, nil)
	// a provider that cannot start leaves a warning in the host log
	wash(t, l.args("default", "start", "provider", "file:///nonexistent/provider.par.gz", "broken", "--host-id", h.ID())...)
	r := ok(t, l.args("default", "logs", h.FriendlyName(), "-o", "json")...)
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatalf("no lines: %s", r)
	}
	found := false
	for _, line := range lines {
		var rec logs.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.HostID != h.ID() || rec.Time.IsZero() {
			t.Fatalf("bad NDJSON line %q: %v", line, err)
		}
		found = found || rec.ProviderID == "broken" && rec.Level == logs.LevelWarn
	}
	if !found {
		t.Fatalf("no warning about provider broken in %s", r.out)
	}
	// a component filter that matches nothing prints nothing, and still succeeds
	r = ok(t, l.args("default", "logs", "--component", "nope")...)
	if strings.TrimSpace(r.out) != "" {
		t.Fatalf("filtered output = %q", r.out)
	}
	fails(t, 2, "invalid --level", l.args("default", "logs", "--level", "loud")...)
	fails(t, 1, `no host matching "zzz"`, l.args("default", "logs", "zzz")...)
}

// TestLogsFromFile reads a stopped host's log file: text and JSON lines, raw lines kept in place,
// rotated files first.
func TestLogsFromFile(t *testing.T) {
	home := os.Getenv("WASH_HOME")
	id := "NBOGUSHOSTAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	dir := filepath.Join(home, "logs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "host-"+id+".log")
	t.Cleanup(func() { os.Remove(path); os.Remove(path + ".1") })
	old := `time=2026-01-01T10:00:00.000Z level=INFO msg="rotated away" k=v` + "\n"
	cur := `time=2026-01-01T11:00:00.000Z level=INFO msg="host started" host_id=` + id + "\n" +
		`{"time":"2026-01-01T11:00:01Z","level":"WARN","msg":"from json","component_id":"c1","stream":"stderr"}` + "\n" +
		"panic: raw line\n" +
		`time=2026-01-01T11:00:02.000Z level=ERROR msg="quoted \"value\"" component_id=c2 stream=stdout` + "\n"
	if err := os.WriteFile(path+".1", []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(cur), 0o600); err != nil {
		t.Fatal(err)
	}
	// NATS is not running on this port: the file is read anyway
	r := ok(t, "logs", id[:10], "-p", "1", "-o", "json")
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(r.out), "\n") {
		var rec logs.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		msgs = append(msgs, rec.Message)
	}
	want := []string{"rotated away", "host started", "from json", "panic: raw line", `quoted "value"`}
	if strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Fatalf("messages = %q, want %q", msgs, want)
	}
	r = ok(t, "logs", id, "-p", "1", "--component", "c1", "--component", "c2", "--level", "warn")
	if !strings.Contains(r.out, "[c1 stderr] from json") || !strings.Contains(r.out, `[c2 stdout] quoted "value"`) || strings.Contains(r.out, "host started") {
		t.Fatalf("filtered text = %q", r.out)
	}
}

// TestLogsFollowAcrossRotation: `wash logs -f` keeps printing a host's lines while the host's
// log file rotates under it (as `wash up` writes it: hostlog.File, rotated by size), in order
// and without a gap: -f follows the lines over the lattice, never the file.
func TestLogsFollowAcrossRotation(t *testing.T) {
	l := newLattice(t)
	path := filepath.Join(t.TempDir(), "host.log")
	file, err := hostlog.OpenFile(path, 4<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = file.Close() })
	tap := logs.NewTap(slog.NewTextHandler(file, nil), logs.TapOptions{})
	logger := slog.New(tap)
	l.nats.StartHost(t, host.Config{Lattice: "default", Logger: logger, LogTap: tap})

	lines := followLogs(t, l, output.Text, "--all", "--tail", "0")
	const n = 300 // about 30 KiB of log: the file rotates several times
	for i := range n {
		logger.Info(fmt.Sprintf("rotation-line %03d %s", i, strings.Repeat("x", 60)))
	}
	for i := range n {
		want := fmt.Sprintf("rotation-line %03d ", i)
		a := next(t, lines, 10*time.Second, func(s string) bool { return strings.Contains(s, "rotation-line ") })
		if !strings.Contains(a.line, want) {
			t.Fatalf("line %d after rotations: got %q, want %q", i, a.line, want)
		}
	}
	if _, err := os.Stat(hostlog.RotatedName(path, 2)); err != nil {
		t.Fatalf("the log never rotated twice, so the test proves nothing: %v", err)
	}
	// Lines logged after the last rotation still arrive.
	logger.Info("after the rotations")
	next(t, lines, 10*time.Second, func(s string) bool { return strings.Contains(s, "after the rotations") })
}
