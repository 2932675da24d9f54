package hostlog

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestRateLimitCountsRepeats(t *testing.T) {
	var out syncBuf
	h := RateLimit(slog.NewTextHandler(&out, nil), 3, time.Hour)
	clock := time.Unix(1000, 0)
	h.(*limited).lim.now = func() time.Time { return clock }
	log := slog.New(h)
	comp := log.With("component_id", "z")
	for i := 0; i < 1000; i++ {
		comp.Warn("component failed to handle a request", "path", i)
	}
	log.Warn("another problem") // a different message is never suppressed
	log.With("component_id", "y").Warn("component failed to handle a request")
	if n := strings.Count(out.String(), "component_id=z msg"); n != 0 {
		t.Fatal("unexpected format")
	}
	if n := strings.Count(out.String(), `msg="component failed to handle a request" component_id=z`); n != 3 {
		t.Fatalf("%d lines of the repeated error, want 3:\n%s", n, out.String())
	}
	if !strings.Contains(out.String(), "another problem") || !strings.Contains(out.String(), "component_id=y") {
		t.Fatalf("distinct lines were suppressed:\n%s", out.String())
	}
	// The window ends: the next occurrence writes the summary, then passes again.
	clock = clock.Add(2 * time.Hour)
	comp.Warn("component failed to handle a request", "path", "again")
	want := `msg="repeated log line suppressed" component_id=z message="component failed to handle a request" suppressed=997 window=1h0m0s`
	if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "path=again") {
		t.Fatalf("no summary %q:\n%s", want, out.String())
	}
}

func TestRateLimitSummaryAfterFloodStops(t *testing.T) {
	var out syncBuf
	log := slog.New(RateLimit(slog.NewTextHandler(&out, nil), 1, 50*time.Millisecond))
	for i := 0; i < 5; i++ {
		log.Error("trap")
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "suppressed=4") {
		if time.Now().After(deadline) {
			t.Fatalf("no summary after the flood stopped:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFileRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host-N.log")
	f, err := OpenFile(path, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rotated int
	f.OnRotate(func(*os.File) { rotated++ })
	line := []byte(strings.Repeat("x", 39) + "\n") // 40 bytes: two per file
	for i := 0; i < 20; i++ {
		if _, err := f.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{path, RotatedName(path, 1), RotatedName(path, 2)} {
		st, err := os.Stat(p)
		if err != nil || st.Size() != 80 {
			t.Fatalf("%s: %v %v", p, st, err)
		}
	}
	if _, err := os.Stat(RotatedName(path, 3)); err == nil {
		t.Fatal("kept more than 2 rotated files")
	}
	if rotated != 9 {
		t.Fatalf("rotated %d times, want 9", rotated)
	}
}
