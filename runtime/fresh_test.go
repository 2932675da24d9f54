package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmlattice/wash/runtime/component"
)

func invokeU32(t testing.TB, p *Program, cfg InstanceConfig, fn string, args ...Value) uint32 {
	t.Helper()
	r, err := p.Invoke(context.Background(), cfg, "", fn, args...)
	if err != nil {
		t.Fatalf("%s: %v", fn, err)
	}
	if len(r) == 0 {
		return 0
	}
	switch v := r[0].(type) {
	case uint32:
		return v
	case int32:
		return uint32(v)
	}
	t.Fatalf("%s returned %T", fn, r[0])
	return 0
}

// Every call sees a fresh instance: counters in globals and memory start over, memory written
// by an earlier call is back to its image, and instances are recycled only when that holds.
func TestFreshInstancePerCall(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: 10 * time.Second})
	p := compileFile(t, e, "guests/state.wasm")
	if err := p.Recyclable(context.Background(), InstanceConfig{}); err != nil {
		t.Fatalf("state guest not recyclable: %v", err)
	}
	pristine := invokeU32(t, p, InstanceConfig{}, "checksum")
	for i := 0; i < 20; i++ {
		if got := invokeU32(t, p, InstanceConfig{}, "bump"); got != 1001 {
			t.Fatalf("call %d: bump = %d, want 1001 (state leaked between calls)", i, got)
		}
		invokeU32(t, p, InstanceConfig{}, "scribble", uint32(i+1))
		if got := invokeU32(t, p, InstanceConfig{}, "checksum"); got != pristine {
			t.Fatalf("call %d: memory checksum %#x after a scribbling call, want %#x", i, got, pristine)
		}
	}
	if n := p.IdleInstances(); n != 1 {
		t.Fatalf("%d idle instances after sequential calls, want 1 (recycled)", n)
	}
	// a call that grows memory leaves an instance that cannot shrink back: it is dropped
	if old := invokeU32(t, p, InstanceConfig{}, "grow", uint32(2)); old != 3 {
		t.Fatalf("grow: old size %d", old)
	}
	if got := invokeU32(t, p, InstanceConfig{}, "size"); got != 3 {
		t.Fatalf("size after another call grew memory: %d pages, want 3", got)
	}
	if got := invokeU32(t, p, InstanceConfig{}, "checksum"); got != pristine {
		t.Fatalf("checksum %#x, want %#x", got, pristine)
	}
	if n := p.IdleInstances(); n != 1 {
		t.Fatalf("%d idle instances, want 1", n)
	}
	// a trap drops the instance too; the next call is fresh
	lim := compileFile(t, e, "guests/limits.wasm")
	if _, err := lim.Invoke(context.Background(), InstanceConfig{}, "", "trap"); err == nil {
		t.Fatal("trap succeeded")
	}
	if n := lim.IdleInstances(); n != 0 {
		t.Fatalf("a trapped instance was kept")
	}
}

// Start functions: by default they run for every instance; with InitSnapshot instances start
// from the state they left, which must be the same state.
func TestStartFunctionsAndInitSnapshots(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: 10 * time.Second})
	p := compileFile(t, e, "guests/statestart.wasm")
	err := p.Recyclable(context.Background(), InstanceConfig{})
	if !errors.Is(err, component.ErrNoTemplate) || !strings.Contains(err.Error(), "start functions") {
		t.Fatalf("without snapshots: %v", err)
	}
	if err := p.Recyclable(context.Background(), InstanceConfig{InitSnapshot: true}); err != nil {
		t.Fatalf("with snapshots: %v", err)
	}
	for _, snap := range []bool{false, true, false, true} {
		cfg := InstanceConfig{InitSnapshot: snap}
		for i := 0; i < 3; i++ {
			if got := invokeU32(t, p, cfg, "bump"); got != 6008 {
				t.Fatalf("snapshot=%v call %d: bump = %d, want 6008", snap, i, got)
			}
			if got := invokeU32(t, p, cfg, "size"); got != 3 {
				t.Fatalf("snapshot=%v: memory %d pages, want 3 (grown by start)", snap, got)
			}
		}
	}
}

func TestTableWritingGuestIsNotRecycled(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: 10 * time.Second})
	p := compileFile(t, e, "guests/tables.wasm")
	if err := p.Recyclable(context.Background(), InstanceConfig{}); err == nil || !strings.Contains(err.Error(), "table.set") {
		t.Fatalf("recyclable: %v", err)
	}
	for i := 0; i < 3; i++ {
		if got := invokeU32(t, p, InstanceConfig{}, "swap"); got != 2 {
			t.Fatalf("swap = %d", got)
		}
	}
	if p.IdleInstances() != 0 {
		t.Fatal("kept an instance that cannot be reset")
	}
}

// Two live instances of one program share the memory image but never each other's writes.
func TestConcurrentInstancesAreIsolated(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: 30 * time.Second})
	p := compileFile(t, e, "guests/state.wasm")
	pristine := invokeU32(t, p, InstanceConfig{}, "checksum")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			writer := g%2 == 0
			for i := 0; i < 10; i++ {
				inst, err := p.Instantiate(context.Background(), InstanceConfig{})
				if err != nil {
					errs <- err
					return
				}
				if writer {
					if _, err := inst.Call(context.Background(), "", "scribble", uint32(g*100+i+1)); err != nil {
						errs <- err
					}
				}
				r, err := inst.Call(context.Background(), "", "checksum")
				_ = inst.Close(context.Background())
				if err != nil {
					errs <- err
					return
				}
				if sum := r[0].(uint32); (sum == pristine) == writer {
					errs <- fmt.Errorf("instance %d/%d (writer=%v): checksum %#x, pristine %#x", g, i, writer, sum, pristine)
					return
				}
				// the recycled path, interleaved
				if got := invokeU32(t, p, InstanceConfig{}, "checksum"); got != pristine {
					errs <- fmt.Errorf("recycled instance checksum %#x, want %#x", got, pristine)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// The host-wide budget: instances whose memory would pass it fail to start (or to grow),
// cleanly, and everything is given back when they end.
func TestHostMemoryLimit(t *testing.T) {
	const initial = 3 << 16 // state.wasm starts with 3 pages
	e := newEngine(t, Options{MaxExecutionTime: 10 * time.Second, MaxTotalMemoryBytes: 5*initial + initial/2})
	p := compileFile(t, e, "guests/state.wasm")
	var live []*Instance
	for i := 0; i < 5; i++ {
		inst, err := p.Instantiate(context.Background(), InstanceConfig{})
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		live = append(live, inst)
	}
	if now, _ := e.MemoryInUse(); now != 5*initial {
		t.Fatalf("in use %d, want %d", now, 5*initial)
	}
	_, err := p.Instantiate(context.Background(), InstanceConfig{})
	if err == nil || !strings.Contains(err.Error(), "host's linear memory limit") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("sixth instance: %v", err)
	}
	if _, err := p.Invoke(context.Background(), InstanceConfig{}, "", "bump"); err == nil {
		t.Fatal("a call started past the host limit")
	}
	// growth past the budget fails like growth past the per-instance cap
	r, err := live[0].Call(context.Background(), "", "grow", uint32(8))
	if err != nil || r[0].(int32) != -1 {
		t.Fatalf("grow past the budget: %v %v", r, err)
	}
	for _, inst := range live {
		_ = inst.Close(context.Background())
	}
	if now, peak := e.MemoryInUse(); now != 0 || peak > e.Options().MaxTotalMemoryBytes {
		t.Fatalf("after close: in use %d, peak %d", now, peak)
	}
	if got := invokeU32(t, p, InstanceConfig{}, "bump"); got != 1001 {
		t.Fatalf("after the limit: %d", got)
	}
	// an idle recycled instance holds nothing against the budget
	if now, _ := e.MemoryInUse(); now != 0 {
		t.Fatalf("idle instances hold %d bytes of budget", now)
	}
}

// Memory of finished calls goes back to the system at once, not at the next GC: a load of
// calls that each touch 4 MiB leaves the process about where it started.
func TestMemoryReturnedAfterCalls(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: 30 * time.Second})
	p := compileFile(t, e, "guests/state.wasm")
	invokeU32(t, p, InstanceConfig{}, "bump")
	before := residentBytes(t)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				inst, err := p.Instantiate(context.Background(), InstanceConfig{})
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = inst.Call(context.Background(), "", "grow", uint32(61))
				_, _ = inst.Call(context.Background(), "", "scribble", uint32(i+1))
				_ = inst.Close(context.Background())
			}
		}()
	}
	wg.Wait()
	after := residentBytes(t)
	t.Logf("resident before %d MiB, after 40 instances of 4 MiB each %d MiB", before>>20, after>>20)
	if after > before+16<<20 {
		t.Fatalf("resident memory grew from %d to %d MiB after the instances closed", before>>20, after>>20)
	}
	if now, _ := e.MemoryInUse(); now != 0 {
		t.Fatalf("in use %d after close", now)
	}
}

// residentBytes reads the process's resident set (Linux); elsewhere the test is skipped.
func residentBytes(t testing.TB) uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	var size, rss uint64
	if _, err := fmt.Sscan(string(b), &size, &rss); err != nil {
		t.Fatal(err)
	}
	return rss * uint64(os.Getpagesize())
}

// A start function that traps fails the call; the instance's memory is given back every time
// (the engine drops a failed module without freeing it).
func TestFailedInstantiationFreesMemory(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: 10 * time.Second, MaxTotalMemoryBytes: 4 << 20})
	p := compileFile(t, e, "guests/starttrap.wasm")
	for _, snap := range []bool{false, true} {
		for i := 0; i < 200; i++ {
			_, err := p.Invoke(context.Background(), InstanceConfig{InitSnapshot: snap}, "", "answer")
			if err == nil || !strings.Contains(err.Error(), "unreachable") {
				t.Fatalf("call %d: %v", i, err)
			}
		}
	}
	if now, _ := e.MemoryInUse(); now != 0 {
		t.Fatalf("%d bytes still charged after failed instantiations", now)
	}
}
