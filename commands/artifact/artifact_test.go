package artifact

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/keys"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/internal/corpus"
	"github.com/wasmlattice/wash/oci"
	"github.com/wasmlattice/wash/oci/par"
)

func testEnv(t *testing.T, format output.Format) (*cli.Env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	t.Setenv("WASH_HOME", t.TempDir())
	t.Setenv("WASH_KEYS", "")
	var out, errb bytes.Buffer
	io := output.Buffered(&out, &errb)
	io.Format = format
	return &cli.Env{IO: io, Version: "test"}, &out, &errb
}

func startRegistry(t *testing.T) string {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func regOpts(t *testing.T) RegistryOptions {
	return RegistryOptions{Insecure: true, CacheDir: t.TempDir()}
}

func TestPushPullInspectComponent(t *testing.T) {
	signedFixture := corpus.Path(t, corpus.HelloPlugin)
	env, out, _ := testEnv(t, output.Text)
	host := startRegistry(t)
	ctx := context.Background()
	ref := host + "/plugins/hello:0.1.0"
	if err := RunPush(ctx, env, &PushOptions{RegistryOptions: regOpts(t), Ref: ref, File: signedFixture, Annotations: []string{"a=b"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "0.1.0: digest: sha256:") {
		t.Errorf("push output %q", out.String())
	}
	out.Reset()
	dir := t.TempDir()
	t.Chdir(dir)
	if err := RunPull(ctx, env, &PullOptions{RegistryOptions: regOpts(t), Ref: ref}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "hello.wasm"))
	want, _ := os.ReadFile(signedFixture)
	if !bytes.Equal(got, want) || !strings.Contains(out.String(), "Successfully pulled and validated hello.wasm") {
		t.Errorf("pull: %q", out.String())
	}
	// Again from a warm cache, over the existing file, to another name: same bytes, file mode
	// 0644 like before, and no temp file left behind.
	warm := regOpts(t)
	for _, dest := range []string{"", "again.wasm"} {
		if err := RunPull(ctx, env, &PullOptions{RegistryOptions: warm, Ref: ref, Destination: dest}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"hello.wasm", "again.wasm"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(b, want) || st.Mode().Perm() != 0o644 {
			t.Errorf("warm pull to %s: %v", name, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("pull left files behind: %v", ents)
	}
	// inspect: local file and remote reference, JSON.
	for _, target := range []string{"hello.wasm", ref} {
		env, out, _ := testEnv(t, output.JSON)
		if err := RunInspect(ctx, env, &InspectOptions{RegistryOptions: regOpts(t), Target: target}); err != nil {
			t.Fatal(err)
		}
		var res map[string]any
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		if res["name"] != "hello-plugin" || res["version"] != "0.1.0" || !strings.HasPrefix(res["account"].(string), "A") {
			t.Errorf("inspect %s: %v", target, res)
		}
	}
	env, out, _ = testEnv(t, output.Text)
	if err := RunInspect(ctx, env, &InspectOptions{Target: signedFixture}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "hello-plugin - Component") || !strings.Contains(out.String(), "wasmcloud.com/experimental") {
		t.Errorf("inspect text: %s", out.String())
	}
}

func TestPullRefusesLatestAndReportsRef(t *testing.T) {
	env, _, _ := testEnv(t, output.Text)
	host := startRegistry(t)
	err := RunPull(context.Background(), env, &PullOptions{RegistryOptions: regOpts(t), Ref: host + "/x/y"})
	if err == nil || !strings.Contains(err.Error(), "--allow-latest") || !strings.Contains(err.Error(), host+"/x/y:latest") {
		t.Errorf("got %v", err)
	}
	err = RunPush(context.Background(), env, &PushOptions{RegistryOptions: regOpts(t), Ref: host + "/x/y:1", File: "/nonexistent"})
	if err == nil || !strings.Contains(err.Error(), "reading artifact") {
		t.Errorf("got %v", err)
	}
	err = RunPush(context.Background(), env, &PushOptions{RegistryOptions: regOpts(t), Ref: host + "/x/y:1", File: "x", Annotations: []string{"novalue"}})
	if !cli.IsUsage(err) {
		t.Errorf("bad annotation: %v", err)
	}
}

func TestParCreateInspectInsertPush(t *testing.T) {
	env, out, _ := testEnv(t, output.Text)
	dir := t.TempDir()
	t.Chdir(dir)
	bin := filepath.Join(dir, "my-provider")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	schema := filepath.Join(dir, "schema.json")
	_ = os.WriteFile(schema, []byte(`{"type":"object"}`), 0o644)
	ctx := context.Background()
	err := RunParCreate(ctx, env, &ParCreateOptions{Binary: bin, Target: "x86_64-linux", Name: "My Provider", Vendor: "acme", Version: "0.2.0", Revision: 3, Schema: schema, Compress: true})
	if err != nil {
		t.Fatal(err)
	}
	parFile := filepath.Join(dir, "my-provider.par.gz")
	if !strings.Contains(out.String(), "Successfully created my-provider.par.gz") {
		t.Errorf("create output %q", out.String())
	}
	nks, _ := filepath.Glob(filepath.Join(os.Getenv("WASH_HOME"), "keys", "*.nk"))
	if len(nks) != 2 {
		t.Errorf("generated keys: %v", nks)
	}
	// insert a second target, keeping the subject.
	other := filepath.Join(dir, "mac-bin")
	_ = os.WriteFile(other, []byte("mac"), 0o755)
	if err := RunParInsert(ctx, env, &ParInsertOptions{Archive: parFile, Binary: other, Target: "aarch64-macos"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(parFile)
	a, err := par.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(a.Targets(), ",") != "aarch64-macos,x86_64-linux" || *a.Rev != 3 {
		t.Errorf("after insert: %v", a.Targets())
	}
	// inspect (JSON)
	envJ, outJ, _ := testEnv(t, output.JSON)
	if err := RunParInspect(ctx, envJ, &InspectOptions{Target: parFile}); err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	_ = json.Unmarshal(outJ.Bytes(), &res)
	if res["name"] != "My Provider" || res["vendor"] != "acme" || res["schema"] == nil || !strings.HasPrefix(res["service"].(string), "V") {
		t.Errorf("par inspect: %v", res)
	}
	// push and pull it back as .par.gz
	host := startRegistry(t)
	ref := host + "/providers/my-provider:0.2.0"
	if err := RunPush(ctx, envJ, &PushOptions{RegistryOptions: regOpts(t), Ref: ref, File: parFile}); err != nil {
		t.Fatal(err)
	}
	if err := RunPull(ctx, env, &PullOptions{RegistryOptions: regOpts(t), Ref: ref}); err != nil {
		t.Fatal(err)
	}
	pulled, _ := os.ReadFile(filepath.Join(dir, "my-provider.par.gz"))
	if !bytes.Equal(pulled, data) {
		t.Error("pulled PAR differs")
	}
	// --disable-keygen with an empty keys dir fails with a clear message.
	err = RunParCreate(ctx, env, &ParCreateOptions{Binary: bin, Target: "x86_64-linux", Name: "n", Vendor: "v",
		Signing: keys.Signing{KeysDir: t.TempDir(), DisableKeygen: true}})
	if err == nil || !strings.Contains(err.Error(), "--disable-keygen") {
		t.Errorf("disable-keygen: %v", err)
	}
}

func TestTransferProgressPlainWhenPiped(t *testing.T) {
	env, _, errb := testEnv(t, output.Text)
	tr := newTransfer(env.IO, "Pulling")
	for done := int64(0); done <= 4<<20; done += 1 << 20 {
		tr.update(oci.Progress{Digest: "sha256:abc", Done: done, Total: 4 << 20})
	}
	tr.finish()
	if got := errb.String(); got != "Pulling sha256:abc (4.0 MiB)\n" {
		t.Errorf("piped progress %q", got)
	}
	errb.Reset()
	tr = newTransfer(env.IO, "Pulling")
	tr.update(oci.Progress{Digest: "sha256:abc", Done: 10, Total: 100})
	if errb.Len() != 0 {
		t.Error("progress for a small transfer")
	}
	env.IO.Terminal = true
	tr = newTransfer(env.IO, "Pulling")
	tr.update(oci.Progress{Digest: "sha256:abc", Done: 4 << 20, Total: 4 << 20})
	tr.finish()
	if !strings.Contains(errb.String(), "\r") || !strings.Contains(errb.String(), "4.0 MiB / 4.0 MiB") {
		t.Errorf("terminal progress %q", errb.String())
	}
}
