package memtrim

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func rssFile(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "RssFile:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Skip("no RssFile")
	return 0
}

// Trimming the executable's mappings lowers resident file pages, and the process keeps
// running the code it drops (it faults back in).
func TestExecutable(t *testing.T) {
	before := rssFile(t)
	n, err := Executable()
	if err != nil {
		t.Fatal(err)
	}
	after := rssFile(t)
	t.Logf("mapped read-only executable: %d KiB; resident file pages %d KiB -> %d KiB", n>>10, before, after)
	if n == 0 || after >= before {
		t.Fatalf("nothing trimmed: %d bytes, %d -> %d KiB", n, before, after)
	}
	// the code still runs
	if s := strings.Repeat("x", 3); s != "xxx" {
		t.Fatal(s)
	}
}
