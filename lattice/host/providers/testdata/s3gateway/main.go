// Command s3gateway runs VersityGW (a real S3 gateway, Apache-2.0) on a local directory for
// the blobstore-s3 tests: SigV4 authentication against one access key, buckets as
// directories, metadata in sidecar files (no xattrs needed). It is its own Go module so the
// gateway's dependencies stay out of wash's go.mod; providertest.StartS3 builds and runs it.
//
//	s3gateway -dir DIR -listen 127.0.0.1:PORT -access KEY -secret SECRET
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/versity/versitygw/backend/meta"
	"github.com/versity/versitygw/backend/posix"
	"github.com/versity/versitygw/embedgw"
)

func main() {
	dir := flag.String("dir", "", "directory holding the buckets")
	listen := flag.String("listen", "127.0.0.1:0", "S3 API address")
	access := flag.String("access", "", "root access key id")
	secret := flag.String("secret", "", "root secret access key")
	flag.Parse()
	if err := run(*dir, *listen, *access, *secret); err != nil {
		fmt.Fprintln(os.Stderr, "s3gateway:", err)
		os.Exit(1)
	}
}

func run(dir, listen, access, secret string) error {
	if dir == "" || access == "" || secret == "" {
		return fmt.Errorf("-dir, -access and -secret are required")
	}
	sidecar := filepath.Join(dir, ".meta")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(sidecar, 0o755); err != nil {
		return err
	}
	sc, err := meta.NewSideCar(sidecar)
	if err != nil {
		return err
	}
	be, err := posix.New(filepath.Join(dir, "data"), sc, posix.PosixOpts{CopyObjectThreshold: 5 << 30})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return embedgw.RunVersityGW(ctx, be, &embedgw.Config{
		RootUserAccess: access, RootUserSecret: secret, Ports: []string{listen},
		MaxConnections: 1000, MaxRequests: 1000, MultipartMaxParts: 10000, Quiet: true,
		IAMDir: dir,
	})
}
