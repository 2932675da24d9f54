package providers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
	"github.com/wasmlattice/wash/runtime/cabi"
	"github.com/wasmlattice/wash/runtime/wasi"
)

func s3Link(gw *providertest.S3, access, secret string) InterfaceLinkDefinition {
	js, _ := json.Marshal(S3StorageConfig{AccessKeyID: access, SecretAccessKey: secret, Endpoint: gw.Endpoint, Region: "us-east-1"})
	return InterfaceLinkDefinition{SourceID: "app", Target: "s3", WitNamespace: "wasi", WitPackage: "blobstore",
		TargetConfig: map[string]string{"config_json": string(js), "alias_photos": "real-photos"}}
}

// blobstore-s3 against a real S3 gateway (VersityGW, SigV4): 1,000 objects written, listed,
// read and deleted through the wasi:blobstore functions, a 50 MB object streamed in and out
// without the guest holding it whole, aliases, and wrong credentials refused.
func TestBlobstoreS3(t *testing.T) {
	gw := providertest.StartS3(t, "washtest", "washtest-secret-key")
	p := newBlobstoreS3()
	fns := blobFuncsOf(p, s3Link(gw, gw.AccessKey, gw.SecretKey))

	if okVal(t, call(t, fns, "blobstore#container-exists", "things")) != false {
		t.Fatal("container exists before create")
	}
	c := okVal(t, call(t, fns, "blobstore#create-container", "things"))
	if msg := errVal(t, call(t, fns, "blobstore#get-container", "nope")); !strings.Contains(msg, `container "nope" does not exist`) {
		t.Fatalf("get missing container: %q", msg)
	}

	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if r := writeObject(t, fns, c, fmt.Sprintf("obj/%04d", i), fmt.Sprintf("value %d", i)); r.(cabi.ResultValue).IsErr {
					errs <- fmt.Sprint(r)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("write: %s", e)
	}
	names := okVal(t, call(t, fns, "container#[method]container.list-objects", c))
	var listed []string
	for {
		page := okVal(t, call(t, fns, "container#[method]stream-object-names.read-stream-object-names", names, uint64(300))).([]cabi.Value)
		for _, x := range page[0].([]cabi.Value) {
			listed = append(listed, x.(string))
		}
		if page[1].(bool) {
			break
		}
	}
	if len(listed) != n || !slices.IsSorted(listed) || listed[0] != "obj/0000" || listed[n-1] != "obj/0999" {
		t.Fatalf("listed %d names: %v…", len(listed), listed[:min(3, len(listed))])
	}
	for _, i := range []int{0, 1, 500, 999} {
		iv := okVal(t, call(t, fns, "container#[method]container.get-data", c, fmt.Sprintf("obj/%04d", i), uint64(0), ^uint64(0)))
		if b := okVal(t, call(t, fns, "types#[static]incoming-value.incoming-value-consume-sync", iv)); string(b.([]byte)) != fmt.Sprintf("value %d", i) {
			t.Fatalf("object %d = %q", i, b)
		}
	}
	// a range, an object's info, a copy and a move
	iv := okVal(t, call(t, fns, "container#[method]container.get-data", c, "obj/0123", uint64(2), uint64(4)))
	if b := okVal(t, call(t, fns, "types#[static]incoming-value.incoming-value-consume-sync", iv)); string(b.([]byte)) != "lue" {
		t.Fatalf("range 2..4 = %q", b)
	}
	info := okVal(t, call(t, fns, "container#[method]container.object-info", c, "obj/0123")).([]cabi.Value)
	if info[3] != uint64(len("value 123")) {
		t.Fatalf("object-info: %v", info)
	}
	okVal(t, call(t, fns, "blobstore#copy-object", []cabi.Value{"things", "obj/0001"}, []cabi.Value{"things", "copy of 1"}))
	okVal(t, call(t, fns, "blobstore#move-object", []cabi.Value{"things", "obj/0002"}, []cabi.Value{"things", "moved/2"}))
	if okVal(t, call(t, fns, "container#[method]container.has-object", c, "obj/0002")) != false ||
		okVal(t, call(t, fns, "container#[method]container.has-object", c, "moved/2")) != true ||
		okVal(t, call(t, fns, "container#[method]container.has-object", c, "copy of 1")) != true {
		t.Fatal("copy or move did not land")
	}
	if msg := errVal(t, call(t, fns, "container#[method]container.get-data", c, "missing", uint64(0), uint64(9))); !strings.Contains(msg, `object "missing" in container "things" does not exist`) {
		t.Fatalf("get missing: %q", msg)
	}

	// 50 MB streamed: write-data first, then the body in 1 MiB writes; read back as a stream
	const big = 50 << 20
	ov := call(t, fns, "types#[static]outgoing-value.new-outgoing-value")
	okVal(t, call(t, fns, "container#[method]container.write-data", c, "big.bin", ov))
	out := okVal(t, call(t, fns, "types#[method]outgoing-value.outgoing-value-write-body", ov)).(*wasi.OutputStream)
	src := rand.New(rand.NewPCG(1, 2))
	want := sha256.New()
	chunk := make([]byte, 1<<20)
	for range big / len(chunk) {
		for i := range chunk {
			chunk[i] = byte(src.Uint32())
		}
		want.Write(chunk)
		if _, err := out.W.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	okVal(t, call(t, fns, "types#[static]outgoing-value.finish", ov))
	iv = okVal(t, call(t, fns, "container#[method]container.get-data", c, "big.bin", uint64(0), ^uint64(0)))
	if size := call(t, fns, "types#[method]incoming-value.size", iv); size != uint64(big) {
		t.Fatalf("size = %v", size)
	}
	in := okVal(t, call(t, fns, "types#[static]incoming-value.incoming-value-consume-async", iv)).(*wasi.InputStream)
	got := sha256.New()
	if n, err := io.CopyBuffer(got, in.R, make([]byte, 64<<10)); err != nil || n != big {
		t.Fatalf("read back %d bytes: %v", n, err)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatal("50 MB object read back differs")
	}

	// aliases: "alias_photos" and "photos" both mean the bucket real-photos
	okVal(t, call(t, fns, "blobstore#create-container", "alias_photos"))
	p2 := okVal(t, call(t, fns, "blobstore#get-container", "photos"))
	okVal(t, writeObject(t, fns, p2, "cat.jpg", "meow"))
	raw := blobFuncsOf(newBlobstoreS3(), InterfaceLinkDefinition{SourceID: "other", TargetConfig: s3Link(gw, gw.AccessKey, gw.SecretKey).TargetConfig})
	if okVal(t, call(t, raw, "blobstore#container-exists", "real-photos")) != true {
		t.Fatal("alias did not map to real-photos")
	}

	// delete everything: objects one by one, then clear, then the containers
	for i := 3; i < 500; i++ {
		okVal(t, call(t, fns, "container#[method]container.delete-object", c, fmt.Sprintf("obj/%04d", i)))
	}
	okVal(t, call(t, fns, "container#[method]container.clear", c))
	names = okVal(t, call(t, fns, "container#[method]container.list-objects", c))
	if page := okVal(t, call(t, fns, "container#[method]stream-object-names.read-stream-object-names", names, uint64(10))).([]cabi.Value); len(page[0].([]cabi.Value)) != 0 {
		t.Fatalf("after clear: %v", page)
	}
	okVal(t, call(t, fns, "blobstore#delete-container", "things"))
	if okVal(t, call(t, fns, "blobstore#container-exists", "things")) != false {
		t.Fatal("container still there")
	}

	// wrong credentials: every call is refused with the server's reason
	for _, creds := range [][2]string{{gw.AccessKey, "wrong-secret"}, {"nobody", "whatever"}} {
		bad := blobFuncsOf(newBlobstoreS3(), s3Link(gw, creds[0], creds[1]))
		msg := errVal(t, call(t, bad, "blobstore#create-container", "intruder"))
		if !strings.Contains(msg, "SignatureDoesNotMatch") && !strings.Contains(msg, "InvalidAccessKeyId") && !strings.Contains(msg, "AccessDenied") {
			t.Fatalf("wrong credentials %v: %q", creds, msg)
		}
		msg = errVal(t, call(t, bad, "blobstore#container-exists", "real-photos"))
		if msg == "" {
			t.Fatalf("wrong credentials %v: container-exists answered", creds)
		}
	}
}

func TestBlobstoreS3ConfigErrors(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	for cfg, want := range map[string]string{
		`{"config_json": "{nope"}`: "config_json of the link from app is not a storage config",
		`{"config_b64": "%%%"}`:    "config_b64 of the link from app is not base64",
		`{"config_json": "{}"}`:    "has no credentials",
		`{"config_json": "{\"access_key_id\":\"a\",\"secret_access_key\":\"b\",\"endpoint\":\"ftp://x\"}"}`: "is not an http(s) URL",
	} {
		var m map[string]string
		if err := json.Unmarshal([]byte(cfg), &m); err != nil {
			t.Fatal(err)
		}
		_, err := newBlobstoreS3().OpenBlobstore(context.Background(), InterfaceLinkDefinition{SourceID: "app", Target: "s3", TargetConfig: m})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", cfg, err, want)
		}
	}
}
