package commands_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/commands"
	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host"
)

func TestMain(m *testing.M) {
	// Commands read the state directory (contexts); never touch the user's.
	dir, err := os.MkdirTemp("", "wash-home-")
	if err != nil {
		panic(err)
	}
	os.Setenv("WASH_HOME", dir)
	for _, k := range []string{"WASMCLOUD_CTL_HOST", "WASMCLOUD_CTL_PORT", "WASMCLOUD_LATTICE", "WASMCLOUD_CTL_TIMEOUT_MS", "WASMCLOUD_JS_DOMAIN", "WASH_CTL_CREDS", "WASMCLOUD_CTL_JWT", "WASMCLOUD_CTL_SEED", "WASH_CTL_TLS_CA_FILE", "WASH_CTL_TLS_FIRST", "WASH_CONTEXT_DIR", "WASH_CONTEXTS"} {
		os.Unsetenv(k)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one wash invocation.
type result struct {
	code     int
	out, err string
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\nstdout: " + r.out + "\nstderr: " + r.err
}

// wash runs the command tree in-process with buffered output.
func wash(t testing.TB, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{IO: output.Buffered(&out, &errb), Version: "test"}
	start := time.Now()
	code := commands.Execute(context.Background(), env, args)
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Logf("slow: wash %s took %s", strings.Join(args, " "), d.Round(time.Millisecond))
	}
	return result{code: code, out: out.String(), err: errb.String()}
}

// ok runs wash and fails the test unless it exits 0.
func ok(t testing.TB, args ...string) result {
	t.Helper()
	r := wash(t, args...)
	if r.code != 0 {
		t.Fatalf("wash %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// fails runs wash, expects exit code want and a one-line error containing substr.
func fails(t testing.TB, want int, substr string, args ...string) result {
	t.Helper()
	r := wash(t, args...)
	if r.code != want {
		t.Fatalf("wash %s: want exit %d, got %s", strings.Join(args, " "), want, r)
	}
	lines := strings.Split(strings.TrimSpace(r.err), "\n")
	if !strings.HasPrefix(lines[0], "error: ") {
		t.Fatalf("wash %s: stderr does not start with an error line:\n%s", strings.Join(args, " "), r.err)
	}
	extra := 0
	for _, l := range lines[1:] {
		if l != "Run 'wash --help' for usage." {
			extra++
		}
	}
	if extra > 0 {
		t.Fatalf("wash %s: error is not one line:\n%s", strings.Join(args, " "), r.err)
	}
	if !strings.Contains(lines[0], substr) {
		t.Fatalf("wash %s: error %q does not mention %q", strings.Join(args, " "), lines[0], substr)
	}
	return r
}

func decodeJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	return m
}

// lattice is a NATS server with hosts in one or more lattices.
type lattice struct {
	nats *testlattice.NATS
	port string
}

func newLattice(t testing.TB) *lattice {
	t.Helper()
	n := testlattice.StartNATS(t)
	return &lattice{nats: n, port: strconv.Itoa(n.Port)}
}

func (l *lattice) host(t testing.TB, name string, labels map[string]string) *host.Host {
	t.Helper()
	return l.nats.StartHost(t, host.Config{Lattice: name, Labels: labels})
}

// args prefixes the connection flags for lattice name.
func (l *lattice) args(name string, args ...string) []string {
	return append(args, "-p", l.port, "-x", name)
}

// recorder captures every event of a lattice.
type recorder struct {
	mu  sync.Mutex
	evs []events.Event
}

func (l *lattice) record(t testing.TB, name string) *recorder {
	t.Helper()
	nc := l.nats.Connect(t)
	r := &recorder{}
	sub, err := nc.Subscribe(events.AllSubject(name), func(m *nats.Msg) {
		if e, err := events.Parse(m.Data); err == nil {
			r.mu.Lock()
			r.evs = append(r.evs, e)
			r.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	_ = nc.Flush()
	return r
}

func (r *recorder) names() []string {
	time.Sleep(50 * time.Millisecond) // let in-flight events land
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.evs {
		if e.Name() != events.HostHeartbeat {
			out = append(out, e.Name())
		}
	}
	return out
}

func wasmModule(t testing.TB) string { return testlattice.Wasip1(t) }

// arrival is a line a streaming command printed, with when it arrived.
type arrival struct {
	line string
	at   time.Time
}

// stream runs a streaming command (wash events, wash logs -f) through its Run function, its
// stdout piped into the returned channel line by line, and waits until the command calls
// *onReady (its subscription is live). stop cancels it and returns Run's error; cleanup stops it
// too.
func stream(t *testing.T, what string, format output.Format, onReady *func(), run func(context.Context, *cli.Env) error) (<-chan arrival, func() error) {
	t.Helper()
	pr, pw := io.Pipe()
	var errb strings.Builder
	env := &cli.Env{IO: output.Buffered(pw, &errb)}
	env.IO.Format = format
	lines := make(chan arrival, 1024)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- arrival{sc.Text(), time.Now()}
		}
		close(lines)
	}()
	ready := make(chan struct{})
	var once sync.Once
	*onReady = func() { once.Do(func() { close(ready) }) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, env); pw.Close() }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("%s ended early: %v (stderr %q)", what, err, errb.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never became ready", what)
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	return lines, stop
}
