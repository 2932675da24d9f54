package logs_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/lattice/logs"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// countLines counts what a host publishes on its lines subject.
func countLines(t *testing.T, nc *nats.Conn, subject string) func() int {
	t.Helper()
	var mu sync.Mutex
	n := 0
	sub, err := nc.Subscribe(subject, func(*nats.Msg) { mu.Lock(); n++; mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	_ = nc.Flush()
	return func() int {
		_ = nc.Flush()
		time.Sleep(30 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// The host publishes nothing until a watch; a lapsed lease or a stop makes it quiet again.
func TestTapPublishesOnlyWhileWatched(t *testing.T) {
	n := testlattice.StartNATS(t)
	hostNC, clientNC := n.Connect(t), n.Connect(t)
	clk := &clock{t: time.Unix(1000, 0)}
	tap := logs.NewTap(slog.NewTextHandler(io.Discard, nil), logs.TapOptions{Now: clk.now})
	log := slog.New(tap)
	if err := tap.Serve(hostNC, "default", "NHOST", "one"); err != nil {
		t.Fatal(err)
	}
	defer tap.Close()
	published := countLines(t, clientNC, logs.AllLinesSubject("default"))
	log.Info("nobody listens")
	if tap.Watching() || published() != 0 {
		t.Fatal("published without a watcher")
	}

	var mu sync.Mutex
	var got []logs.Record
	c := logs.NewClient(clientNC, "default", time.Second)
	w, answered, err := c.Watch(context.Background(), logs.WatchOptions{Filter: logs.Filter{Components: []string{"c1"}}, Lease: 3 * time.Second},
		func(r logs.Record) { mu.Lock(); got = append(got, r); mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	if len(answered) != 1 || answered[0].HostID != "NHOST" || answered[0].FriendlyName != "one" {
		t.Fatalf("answers = %+v", answered)
	}
	log.Info("other component", "component_id", "c2")
	log.With("component_id", "c1").Info("line one", "stream", "stderr", "extra", 7)
	if n := published(); n != 1 {
		t.Fatalf("published %d lines, want only the watched component's", n)
	}
	mu.Lock()
	if len(got) != 1 || got[0].Message != "line one" || got[0].ComponentID != "c1" || got[0].Stream != "stderr" || got[0].Attrs["extra"] != "7" || got[0].HostID != "NHOST" || got[0].Seq == 0 {
		t.Fatalf("records = %+v", got)
	}
	mu.Unlock()

	// Stop tells the host at once.
	w.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for tap.Watching() {
		if time.Now().After(deadline) {
			t.Fatal("host still watching after Stop")
		}
		time.Sleep(5 * time.Millisecond)
	}
	log.With("component_id", "c1").Info("after stop")
	if n := published(); n != 1 {
		t.Fatalf("published %d lines after stop", n)
	}

	// A watcher that goes away without a word lapses with its lease.
	raw, _ := json.Marshal(logs.WatchRequest{ID: "gone", LeaseMS: 2000})
	if err := clientNC.Publish(logs.WatchSubject("default"), raw); err != nil {
		t.Fatal(err)
	}
	_ = clientNC.Flush()
	for !tap.Watching() {
		time.Sleep(5 * time.Millisecond)
	}
	log.Info("during lease")
	clk.add(3 * time.Second)
	log.Info("after lease")
	if n := published(); n != 2 || tap.Watching() {
		t.Fatalf("published %d lines (want 2), watching=%v", n, tap.Watching())
	}
}

// History returns the buffered lines in order, filtered, limited, chunked under the payload limit.
func TestHistory(t *testing.T) {
	n := testlattice.StartNATS(t)
	hostNC, clientNC := n.Connect(t), n.Connect(t)
	tap := logs.NewTap(slog.NewTextHandler(io.Discard, nil), logs.TapOptions{History: 500})
	log := slog.New(tap)
	big := strings.Repeat("x", 4000)
	for i := range 700 {
		log.Info(big, "i", i, "component_id", []string{"a", "b"}[i%2])
	}
	if err := tap.Serve(hostNC, "default", "NHOST", "one"); err != nil {
		t.Fatal(err)
	}
	defer tap.Close()
	c := logs.NewClient(clientNC, "default", 2*time.Second)
	h, err := c.History(context.Background(), "NHOST", logs.HistoryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Records) != 500 || !h.Truncated || h.Records[0].Attrs["i"] != "200" || h.Records[499].Attrs["i"] != "699" || h.Records[0].HostID != "NHOST" {
		t.Fatalf("got %d records, truncated=%v, first %v", len(h.Records), h.Truncated, h.Records[0].Attrs)
	}
	h, err = c.History(context.Background(), "NHOST", logs.HistoryRequest{Filter: logs.Filter{Components: []string{"b"}}, Limit: 10})
	if err != nil || len(h.Records) != 10 || h.Records[9].Attrs["i"] != "699" || h.Records[0].ComponentID != "b" {
		t.Fatalf("filtered: %d records, %v", len(h.Records), err)
	}
	if _, err := c.History(context.Background(), "NOTHERE", logs.HistoryRequest{}); err == nil || !strings.Contains(err.Error(), "does not serve its logs") {
		t.Fatalf("absent host: %v", err)
	}
}

func TestParseLine(t *testing.T) {
	cases := []struct {
		line string
		want logs.Record
	}{
		{`time=2026-01-02T03:04:05.123+01:00 level=WARN msg="a b" component_id=c stream=stderr n=1`,
			logs.Record{Level: "WARN", Message: "a b", ComponentID: "c", Stream: "stderr", Attrs: map[string]string{"n": "1"}}},
		{`{"time":"2026-01-02T03:04:05Z","level":"error","msg":"m","provider_id":"p","n":2,"ok":true}`,
			logs.Record{Level: "ERROR", Message: "m", ProviderID: "p", Attrs: map[string]string{"n": "2", "ok": "true"}}},
		{`time=2026-01-02T03:04:05Z level=INFO msg="esc \"q\" \\ \n"`, logs.Record{Level: "INFO", Message: "esc \"q\" \\ \n"}},
		{"goroutine 1 [running]:", logs.Record{Message: "goroutine 1 [running]:"}},
		{`time=bad level=INFO msg=x`, logs.Record{Message: `time=bad level=INFO msg=x`}},
		{`time=2026-01-02T03:04:05Z msg="unterminated`, logs.Record{Message: `time=2026-01-02T03:04:05Z msg="unterminated`}},
	}
	for _, c := range cases {
		got := logs.ParseLine(c.line, "H")
		got.Time = time.Time{}
		c.want.HostID = "H"
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(c.want)
		if string(a) != string(b) {
			t.Errorf("ParseLine(%q)\n got %s\nwant %s", c.line, a, b)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add(`time=2026-01-02T03:04:05Z level=INFO msg="x" a=b`)
	f.Add(`{"time":"2026-01-02T03:04:05Z","msg":"m"}`)
	f.Add(`time= =`)
	f.Fuzz(func(t *testing.T, line string) {
		r := logs.ParseLine(line, "H")
		if r.HostID != "H" {
			t.Fatal("host id lost")
		}
		if r.Time.IsZero() && r.Message != strings.TrimRight(line, "\r\n") {
			t.Fatalf("unparsed line changed: %q -> %q", line, r.Message)
		}
	})
}

func FuzzWatchRequest(f *testing.F) {
	f.Add([]byte(`{"id":"x","lease_ms":5,"filter":{"components":["a"]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r logs.WatchRequest
		_ = json.Unmarshal(b, &r)
		_ = r.Filter.Match(logs.Record{ComponentID: "a", Level: "INFO"})
	})
}
