// Package providertest starts real backing services for provider tests (a redis-server on a
// free loopback port) and packs test provider archives.
package providertest

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/testtool"
)

// Redis is a redis-server started for one test.
type Redis struct {
	URL  string // redis://127.0.0.1:<port>
	Addr string
}

// StartRedis runs redis-server on a free 127.0.0.1 port with a temporary directory and no
// persistence, and stops it when the test ends. It fails the test when redis-server is not
// installed (.ci/run installs it).
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin := testtool.Path(t, "redis-server", "redis-server")
	port := testtool.FreePort(t)
	dir := t.TempDir()
	out := startServer(t, exec.Command(bin, "--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--dir", dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no"), "redis-server")
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, "Ready to accept connections") {
				close(ready)
				for sc.Scan() {
				}
				return
			}
		}
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("redis-server did not start within 10s")
	}
	return &Redis{URL: "redis://" + addr, Addr: addr}
}

func dialTCP(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, time.Second) }
