package periodic

import (
	"sync/atomic"
	"testing"
	"time"
)

// Every runs f after first, repeats it every interval, and returns once stop is closed.
func TestEveryRunsUntilStopped(t *testing.T) {
	stop := make(chan struct{})
	var calls atomic.Int32
	done := make(chan struct{})
	start := time.Now()
	var firstAt atomic.Int64
	go func() {
		defer close(done)
		Every(stop, 50*time.Millisecond, time.Millisecond, func() {
			if calls.Add(1) == 1 {
				firstAt.Store(int64(time.Since(start)))
			}
		})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for calls.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("f ran %d times in 10s, want 3", calls.Load())
		}
		time.Sleep(time.Millisecond)
	}
	if d := time.Duration(firstAt.Load()); d < 50*time.Millisecond {
		t.Fatalf("first call after %v, before the first delay of 50ms", d)
	}
	close(stop)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Every did not return after stop was closed")
	}
}

// A closed stop wins over a first delay that has not passed: f never runs.
func TestEveryStoppedBeforeFirst(t *testing.T) {
	stop := make(chan struct{})
	close(stop)
	Every(stop, time.Hour, time.Hour, func() { t.Fatal("f ran after stop was closed") })
}
