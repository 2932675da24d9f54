package providers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/runtime"
	"github.com/wasmlattice/wash/runtime/cabi"
	"github.com/wasmlattice/wash/runtime/wasi"
)

// blobFuncs returns the blobstore host functions over a blobstore-fs link with root dir, keyed
// "interface#function".
func blobFuncs(t *testing.T, root string) map[string]runtime.HostFunc {
	t.Helper()
	p := NewBlobstoreFS()
	t.Cleanup(func() { _ = p.Stop(context.Background()) })
	return blobFuncsOf(p, InterfaceLinkDefinition{SourceID: "app", Target: "fs", TargetConfig: map[string]string{"root": root}})
}

// blobFuncsOf returns the blobstore host functions of provider p over link.
func blobFuncsOf(p BlobstoreOpener, link InterfaceLinkDefinition) map[string]runtime.HostFunc {
	out := map[string]runtime.HostFunc{}
	for _, hi := range BlobstoreInterfaces(func(ctx context.Context) (BlobBackend, error) { return p.OpenBlobstore(ctx, link) }) {
		short := strings.TrimSuffix(strings.TrimPrefix(hi.Name, "wasi:blobstore/"), "@0.2.0-draft")
		for name, f := range hi.Funcs {
			out[short+"#"+name] = f
		}
	}
	return out
}

func call(t *testing.T, fns map[string]runtime.HostFunc, name string, args ...cabi.Value) cabi.Value {
	t.Helper()
	f, ok := fns[name]
	if !ok {
		t.Fatalf("no host function %s", name)
	}
	v, err := f(context.Background(), args)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func okVal(t *testing.T, v cabi.Value) cabi.Value {
	t.Helper()
	r, ok := v.(cabi.ResultValue)
	if !ok || r.IsErr {
		t.Fatalf("want ok, got %#v", v)
	}
	return r.Value
}

func errVal(t *testing.T, v cabi.Value) string {
	t.Helper()
	r, ok := v.(cabi.ResultValue)
	if !ok || !r.IsErr {
		t.Fatalf("want err, got %#v", v)
	}
	s, _ := r.Value.(string)
	return s
}

func writeObject(t *testing.T, fns map[string]runtime.HostFunc, c cabi.Value, name, data string) cabi.Value {
	t.Helper()
	ov := call(t, fns, "types#[static]outgoing-value.new-outgoing-value")
	s := okVal(t, call(t, fns, "types#[method]outgoing-value.outgoing-value-write-body", ov)).(*wasi.OutputStream)
	if _, err := s.W.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	res := call(t, fns, "container#[method]container.write-data", c, name, ov)
	okVal(t, call(t, fns, "types#[static]outgoing-value.finish", ov))
	return res
}

func TestBlobstoreFSRoundTrip(t *testing.T) {
	root := filepath.Join(t.TempDir(), "blobs")
	fns := blobFuncs(t, root)
	if okVal(t, call(t, fns, "blobstore#container-exists", "photos")) != false {
		t.Fatal("container exists before create")
	}
	c := okVal(t, call(t, fns, "blobstore#create-container", "photos"))
	if msg := errVal(t, call(t, fns, "blobstore#create-container", "photos")); !strings.Contains(msg, "already exists") {
		t.Fatalf("second create: %q", msg)
	}
	okVal(t, writeObject(t, fns, c, "a.txt", "hello world"))
	okVal(t, writeObject(t, fns, c, "dir/b.txt", "nested"))
	if b, _ := os.ReadFile(filepath.Join(root, "photos", "dir", "b.txt")); string(b) != "nested" {
		t.Fatalf("file on disk = %q", b)
	}
	iv := okVal(t, call(t, fns, "container#[method]container.get-data", c, "a.txt", uint64(0), uint64(4)))
	if got := okVal(t, call(t, fns, "types#[static]incoming-value.incoming-value-consume-sync", iv)).([]byte); string(got) != "hello" {
		t.Fatalf("bytes 0..=4 = %q", got)
	}
	iv = okVal(t, call(t, fns, "container#[method]container.get-data", c, "a.txt", uint64(6), ^uint64(0)))
	if n := call(t, fns, "types#[method]incoming-value.size", iv); n != uint64(5) {
		t.Fatalf("size = %v", n)
	}
	in := okVal(t, call(t, fns, "types#[static]incoming-value.incoming-value-consume-async", iv)).(*wasi.InputStream)
	buf := make([]byte, 16)
	if n, _ := in.R.Read(buf); string(buf[:n]) != "world" {
		t.Fatalf("stream read %q", buf[:n])
	}
	info := okVal(t, call(t, fns, "container#[method]container.object-info", c, "a.txt")).([]cabi.Value)
	if info[0] != "a.txt" || info[1] != "photos" || info[3] != uint64(11) {
		t.Fatalf("object-info = %v", info)
	}
	names := okVal(t, call(t, fns, "container#[method]container.list-objects", c))
	page := okVal(t, call(t, fns, "container#[method]stream-object-names.read-stream-object-names", names, uint64(1))).([]cabi.Value)
	if l := page[0].([]cabi.Value); len(l) != 1 || l[0] != "a.txt" || page[1] != false {
		t.Fatalf("first page = %v", page)
	}
	page = okVal(t, call(t, fns, "container#[method]stream-object-names.read-stream-object-names", names, uint64(10))).([]cabi.Value)
	if l := page[0].([]cabi.Value); len(l) != 1 || l[0] != "dir/b.txt" || page[1] != true {
		t.Fatalf("second page = %v", page)
	}
	// copy and move across containers
	okVal(t, call(t, fns, "blobstore#create-container", "backup"))
	okVal(t, call(t, fns, "blobstore#copy-object", []cabi.Value{"photos", "a.txt"}, []cabi.Value{"backup", "a.txt"}))
	okVal(t, call(t, fns, "blobstore#move-object", []cabi.Value{"photos", "dir/b.txt"}, []cabi.Value{"backup", "b.txt"}))
	if okVal(t, call(t, fns, "container#[method]container.has-object", c, "dir/b.txt")) != false {
		t.Fatal("moved object still in source")
	}
	if msg := errVal(t, call(t, fns, "blobstore#copy-object", []cabi.Value{"photos", "a.txt"}, []cabi.Value{"nope", "a.txt"})); !strings.Contains(msg, `container "nope" does not exist`) {
		t.Fatalf("copy to missing container: %q", msg)
	}
	okVal(t, call(t, fns, "container#[method]container.delete-object", c, "missing"))
	okVal(t, call(t, fns, "container#[method]container.clear", c))
	if l, _ := os.ReadDir(filepath.Join(root, "photos")); len(l) != 0 {
		t.Fatalf("clear left %v", l)
	}
	okVal(t, call(t, fns, "blobstore#delete-container", "photos"))
	if _, err := os.Stat(filepath.Join(root, "photos")); !os.IsNotExist(err) {
		t.Fatal("container dir still there")
	}
	if msg := errVal(t, call(t, fns, "blobstore#get-container", "photos")); !strings.Contains(msg, "does not exist") {
		t.Fatalf("get deleted container: %q", msg)
	}
}

// Names cannot leave the root: ".." and absolute names are refused, and symlinks that lead
// out of the root are not followed.
func TestBlobstoreFSConfinement(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	fns := blobFuncs(t, root)
	c := okVal(t, call(t, fns, "blobstore#create-container", "c"))
	for _, name := range []string{"../../outside/secret", "/etc/passwd", "a/../../x", "", "a//b", "./a"} {
		msg := errVal(t, call(t, fns, "container#[method]container.get-data", c, name, uint64(0), uint64(10)))
		if !strings.Contains(msg, "invalid object name") {
			t.Errorf("get-data %q: %q", name, msg)
		}
		if msg := errVal(t, writeObject(t, fns, c, name, "x")); !strings.Contains(msg, "invalid object name") {
			t.Errorf("write-data %q: %q", name, msg)
		}
	}
	for _, name := range []string{"..", ".", "a/b", ""} {
		if msg := errVal(t, call(t, fns, "blobstore#create-container", name)); !strings.Contains(msg, "invalid container name") {
			t.Errorf("create-container %q: %q", name, msg)
		}
	}
	// a symlinked object and a symlinked container pointing outside
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "c", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	if msg := errVal(t, call(t, fns, "container#[method]container.get-data", c, "link", uint64(0), uint64(10))); !strings.Contains(msg, "outside the blobstore root") {
		t.Errorf("get-data through symlink: %q", msg)
	}
	// a write replaces the link itself (rename), never the file it points to
	_ = writeObject(t, fns, c, "link", "overwrite")
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "s3cret" {
		t.Fatalf("a write through a symlink changed a file outside the root: %q", b)
	}
	if msg := errVal(t, call(t, fns, "blobstore#get-container", "out")); !strings.Contains(msg, "outside the blobstore root") {
		t.Errorf("get-container through symlink: %q", msg)
	}
	if msg := errVal(t, call(t, fns, "blobstore#delete-container", "out")); !strings.Contains(msg, "outside the blobstore root") {
		t.Errorf("delete-container through symlink: %q", msg)
	}
	if _, err := os.Stat(filepath.Join(outside, "secret")); err != nil {
		t.Fatalf("file outside the root is gone: %v", err)
	}
}

func TestBlobstoreFSNeedsRoot(t *testing.T) {
	p := NewBlobstoreFS()
	_, err := p.Open(InterfaceLinkDefinition{SourceID: "app", Target: "fs"})
	if err == nil || !strings.Contains(err.Error(), `no "root"`) {
		t.Fatalf("err = %v", err)
	}
}
