package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// BenchmarkDevReload measures what wash dev adds between saving a change and the new response
// being served: noticing the change, signing, reading the component's WIT, the host loading the
// new build and swapping it in. The project's "toolchain" only copies a prepared variant of the
// WAT hello component (its response text patched), so its own time is tiny; it is timed on its
// own in the same run as the baseline and subtracted.
//
//	go test ./e2e -run '^$' -bench DevReload -benchtime 10x
func BenchmarkDevReload(b *testing.B) {
	src, err := os.ReadFile("../examples/hello-http/hello.component.wasm")
	if err != nil {
		b.Fatal(err)
	}
	const marker = "hello from a WAT component"
	if !bytes.Contains(src, []byte(marker)) {
		b.Fatal("the hello component no longer contains its greeting")
	}
	dir := b.TempDir()
	for _, d := range []string{"src", "variants", "out"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	variant := func(i int) string {
		name := fmt.Sprintf("v%05d", i)
		msg := fmt.Sprintf("hello from variant %07d", i) // same length as the marker
		if len(msg) != len(marker) {
			b.Fatalf("variant text %q has the wrong length", msg)
		}
		os.WriteFile(filepath.Join(dir, "variants", name+".wasm"), bytes.Replace(src, []byte(marker), []byte(msg), 1), 0o644)
		return name
	}
	e := newEnv(b)
	httpPort := freePort(b)
	os.WriteFile(filepath.Join(dir, "build.sh"), []byte("#!/bin/sh\ncp \"variants/$(cat src/message.txt).wasm\" out/app.wasm\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "wasmcloud.toml"), []byte(fmt.Sprintf(`name = "reload"
language = "wat"
type = "component"
version = "0.1.0"

[component]
build_command = "sh build.sh"
build_artifact = "out/app.wasm"
destination = "build/reload_s.wasm"

[[dev.overrides.exports]]
interface_spec = "wasi:http/incoming-handler"
link_config = { values = { address = "127.0.0.1:%d" } }
`, httpPort)), 0o644)
	os.WriteFile(filepath.Join(dir, "src", "message.txt"), []byte(variant(0)), 0o644)

	// baseline: the toolchain alone
	var toolchain time.Duration
	for i := 0; i < 5; i++ {
		start := time.Now()
		cmd := exec.Command("sh", "build.sh")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("build.sh: %v %s", err, out)
		}
		toolchain += time.Since(start)
	}
	toolchain /= 5

	d := startDev(b, e, dir, "-i", "variants", "-i", "out")
	d.waitFor(b, regexp.MustCompile(`Watching .* for changes`), 0, 3*time.Minute)
	url := fmt.Sprintf("http://127.0.0.1:%d/", httpPort)
	waitBody(b, url, "hello from variant 0000000", time.Minute)

	names := make([]string, b.N+1)
	for i := 1; i <= b.N; i++ {
		names[i] = variant(i)
	}
	var total time.Duration
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		start := time.Now()
		os.WriteFile(filepath.Join(dir, "src", "message.txt"), []byte(names[i]), 0o644)
		waitBody(b, url, fmt.Sprintf("hello from variant %07d", i), time.Minute)
		total += time.Since(start)
	}
	b.StopTimer()
	per := total / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "edit-to-served-ms")
	b.ReportMetric(float64(toolchain.Microseconds())/1000, "toolchain-ms")
	b.ReportMetric(float64((per-toolchain).Microseconds())/1000, "dev-overhead-ms")
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(time.Minute):
		_ = d.cmd.Process.Kill()
	}
}
