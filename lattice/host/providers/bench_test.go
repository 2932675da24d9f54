package providers

import (
	goruntime "runtime"
	"testing"

	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
)

// benchCounter serves the counter with 20 concurrent clients incrementing one key.
func benchCounter(b *testing.B, s KVStore) {
	prog := loadCounter(b)
	ifaces := storeIfaces(s)
	b.SetParallelism((20 + goruntime.GOMAXPROCS(0) - 1) / goruntime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if code, body := hit(b, prog, ifaces, "/bench"); code != 200 {
				b.Fatal(body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func BenchmarkCounterRedis(b *testing.B) {
	kv, err := NewRedisKV(providertest.StartRedis(b).URL)
	if err != nil {
		b.Fatal(err)
	}
	defer kv.Close()
	benchCounter(b, kv)
}

func BenchmarkCounterNATSKV(b *testing.B) {
	kv, err := DialNATSKV(testnats.Start(b).URL, "")
	if err != nil {
		b.Fatal(err)
	}
	defer kv.Close()
	benchCounter(b, kv)
}

func BenchmarkCounterInMemory(b *testing.B) { benchCounter(b, NewMemoryKV()) }
