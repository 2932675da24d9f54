package providertest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/testtool"
)

// Postgres is a PostgreSQL server started for one test: trust authentication for user
// "postgres" on 127.0.0.1:Port, database "postgres".
type Postgres struct {
	Host string
	Port int
	User string
	DB   string
}

// URL is a libpq URL for the server.
func (p *Postgres) URL() string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", p.User, p.Host, p.Port, p.DB)
}

// Config is the sqldb-postgres link target config for the server.
func (p *Postgres) Config() map[string]string {
	return map[string]string{
		"POSTGRES_HOST": p.Host, "POSTGRES_PORT": strconv.Itoa(p.Port), "POSTGRES_USERNAME": p.User,
		"POSTGRES_PASSWORD": "", "POSTGRES_DATABASE": p.DB,
	}
}

// postgresBin finds the directory of Debian's PostgreSQL server binaries (the newest major
// version under /usr/lib/postgresql), failing the test when the postgresql package is missing.
func postgresBin(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	t.Fatalf("PostgreSQL is not installed: this test needs initdb and postgres under /usr/lib/postgresql/*/bin (apt-get install -y postgresql, or run .ci/run, which installs it)")
	return ""
}

// StartPostgres runs initdb and postgres (Debian's postgresql package) in a temporary
// directory on a free loopback port, with durability off (fsync) for speed, and stops it when
// the test ends. Run as root, the server runs as the "postgres" user, as PostgreSQL refuses
// root.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin := postgresBin(t)
	dir, err := os.MkdirTemp("", "wash-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, the test needs the \"postgres\" user that Debian's postgresql package creates: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	command := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin", "HOME=" + dir}
		cmd.Dir = dir
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		return cmd
	}
	data := filepath.Join(dir, "data")
	if out, err := command("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := testtool.FreePort(t)
	cmd := command("postgres", "-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB")
	lw := &testtool.LogBuffer{}
	cmd.Stdout, cmd.Stderr = lw, lw
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting postgres: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	pg := &Postgres{Host: "127.0.0.1", Port: port, User: "postgres", DB: "postgres"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := command("pg_isready", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "postgres").CombinedOutput()
		if err == nil {
			return pg
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres did not accept connections within 30s: %s\nserver log:\n%s", strings.TrimSpace(string(out)), lw.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
