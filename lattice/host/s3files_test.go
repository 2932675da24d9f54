package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
)

// examples/s3-files behind the builtin http-server on blobstore-s3 and a real S3 gateway:
// files stream in (an 8 MiB body goes up as a multipart upload) and out unchanged, list and
// delete work, and a link with wrong credentials answers 500 with S3's refusal.
func TestS3FilesThroughHost(t *testing.T) {
	gw := providertest.StartS3(t, "washtest", "washtest-secret-key")
	l := newLattice(t, host.Config{})
	ctx := context.Background()
	l.scale("files", fixtureRef(t, "../../examples/s3-files/s3-files.component.wasm"), 4, nil)
	cfg, _ := json.Marshal(map[string]string{"access_key_id": gw.AccessKey, "secret_access_key": gw.SecretKey, "endpoint": gw.Endpoint})
	l.linkBuiltin("s3", "blobstore-s3", blobstoreLink("files", "s3", "s3-conn"), "s3-conn", map[string]string{"config_json": string(cfg)})
	base := l.serveHTTP("files")

	if code, body := waitServed(t, base+"/"); code != 200 || body != "" {
		t.Fatalf("empty list: %d %q", code, body)
	}
	checkS3Files(t, base, 8<<20, gw, func(cfg map[string]string) { l.ok(l.c.PutConfig(ctx, "s3-conn", cfg)) })
}

// checkS3Files drives s3-files at base, linked to gw through the config that putConfig
// replaces: a random object of size bytes goes up (several multipart parts) and comes back
// unchanged, list and delete work, and wrong credentials answer 500 with S3's refusal.
func checkS3Files(t *testing.T, base string, size int, gw *providertest.S3, putConfig func(map[string]string)) {
	t.Helper()
	big := make([]byte, size)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	if code, body := do(t, http.MethodPut, base+"/photos/big.bin", string(big)); code != 200 || body != "stored photos/big.bin\n" {
		t.Fatalf("PUT big: %d %q", code, body)
	}
	if code, body := do(t, http.MethodPut, base+"/notes.txt", "hello s3"); code != 200 {
		t.Fatalf("PUT: %d %q", code, body)
	}
	res, err := client.Get(base + "/photos/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(got, big) || res.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("GET big: %d, %d bytes, equal=%v", res.StatusCode, len(got), bytes.Equal(got, big))
	}
	if code, body := do(t, http.MethodGet, base+"/", ""); code != 200 || body != "notes.txt\nphotos/big.bin\n" {
		t.Fatalf("list: %d %q", code, body)
	}
	if code, body := do(t, http.MethodDelete, base+"/notes.txt", ""); code != 200 || body != "deleted notes.txt\n" {
		t.Fatalf("DELETE: %d %q", code, body)
	}
	if code, body := do(t, http.MethodGet, base+"/notes.txt", ""); code != 500 || !strings.Contains(body, `object "notes.txt" in container "files" does not exist`) {
		t.Fatalf("GET deleted: %d %q", code, body)
	}

	// wrong credentials: S3 refuses, the component answers 500 with the reason
	bad, _ := json.Marshal(map[string]string{"access_key_id": gw.AccessKey, "secret_access_key": "wrong", "endpoint": gw.Endpoint})
	putConfig(map[string]string{"config_json": string(bad)})
	waitBody(t, base+"/", 500, "SignatureDoesNotMatch")
}

// waitBody polls url until it answers code with a body containing want (config changes reach
// calls within the host's config cache time).
func waitBody(t *testing.T, url string, code int, want string) {
	t.Helper()
	var lastCode int
	var last string
	for range 100 {
		lastCode, last = do(t, http.MethodGet, url, "")
		if lastCode == code && strings.Contains(last, want) {
			return
		}
		sleep()
	}
	t.Fatalf("GET %s: %d %q, want %d with %q", url, lastCode, last, code, want)
}

func sleep() { time.Sleep(50 * time.Millisecond) }
