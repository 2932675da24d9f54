package bounded

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFileDevices(t *testing.T) {
	for _, dev := range []string{"/dev/zero", "/dev/urandom"} {
		if _, err := os.Stat(dev); err != nil {
			continue // not a Unix system
		}
		_, err := ReadFile(dev, 1<<20)
		if !errors.Is(err, ErrTooLarge) || err.Error() != dev+" is larger than the 1 MiB limit" {
			t.Fatalf("%s: %v", dev, err)
		}
	}
}

func TestReadFileRegular(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(p, 5); err != nil || string(b) != "12345" {
		t.Fatalf("at the limit: %q %v", b, err)
	}
	if _, err := ReadFile(p, 4); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := ReadFile(filepath.Dir(p), 4); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("directory: %v", err)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{50 << 20: "50 MiB", 1 << 30: "1 GiB", 16 << 10: "16 KiB", 1500: "1500 bytes", 52428801: "50.0 MiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestReader(t *testing.T) {
	f, err := os.Open("/dev/zero")
	if err != nil {
		t.Skip("no /dev/zero")
	}
	defer f.Close()
	buf := make([]byte, 4096)
	var total int
	r := Reader(f, 10000, "zeros")
	for {
		n, err := r.Read(buf)
		total += n
		if err != nil {
			if !errors.Is(err, ErrTooLarge) || total != 10001 {
				t.Fatalf("after %d bytes: %v", total, err)
			}
			break
		}
		if total > 20000 {
			t.Fatal("not capped")
		}
	}
}
