package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/lattice/host/providers"
	"github.com/wasmlattice/wash/lattice/wadm/deploy"
	"github.com/wasmlattice/wash/lattice/wadm/model"
	"github.com/wasmlattice/wash/oci"
)

// ociRef is the shape of an OCI reference: [registry[:port]/]repository[:tag][@digest].
// It is compiled on first use: package init runs on every wash invocation.
var ociRef = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`)
})

// ValidateOptions are the flags and argument of `wash app validate`.
type ValidateOptions struct {
	Source         string // FILE, URL or - (stdin)
	CheckImageRefs bool
	Insecure       bool
}

func newValidateCmd(env *cli.Env, runF func(*ValidateOptions) error) *cobra.Command {
	o := &ValidateOptions{}
	cmd := cli.OneArg(env, &cobra.Command{
		Use:   "validate FILE|URL|-",
		Short: "Check a manifest: OAM schema, wadm's rules and image references (nothing is sent to wadm)",
	}, &o.Source, o, runF, RunValidate)
	cmd.Flags().BoolVar(&o.CheckImageRefs, "check-image-refs", false, "also ask each image's registry that the reference exists (credentials from docker login)")
	cmd.Flags().BoolVar(&o.Insecure, "insecure", false, "with --check-image-refs: reach registries over plain HTTP")
	return cmd
}

// RunValidate checks a manifest and prints its errors and warnings.
func RunValidate(ctx context.Context, env *cli.Env, o *ValidateOptions) error {
	src, err := deploy.ReadSource(ctx, env.IO.In, oci.HTTPClient(), o.Source)
	if err != nil {
		return err
	}
	errs, warns, err := Validate(src)
	if err != nil {
		return err
	}
	if o.CheckImageRefs {
		errs = append(errs, checkImageRefs(ctx, src, o.Insecure)...)
	}
	if env.IO.JSON() {
		if err := env.IO.PrintResult(output.Result{"valid": len(errs) == 0, "errors": nonNil(errs), "warnings": nonNil(warns)}); err != nil {
			return err
		}
	} else {
		for _, w := range warns {
			env.IO.Printf("%s %s\n", env.IO.Warn("warning:"), w)
		}
		for _, e := range errs {
			env.IO.Printf("%s %s\n", env.IO.Bad("error:"), e)
		}
	}
	if len(errs) > 0 {
		if env.IO.JSON() {
			return &cli.SilentError{Code: 1}
		}
		return fmt.Errorf("%s is not valid: %d error(s)", src.Name, len(errs))
	}
	if !env.IO.JSON() {
		env.IO.Printf("%s manifest is valid\n", env.IO.OK("✓"))
	}
	return nil
}

// checkImageRefs resolves every OCI image of the manifest in its registry (upstream's
// --check-image-refs fetches them); builtins and file:// images are checked by Validate.
func checkImageRefs(ctx context.Context, src deploy.Source, insecure bool) []string {
	m, err := model.ParseManifest(src.Data)
	if err != nil {
		return nil // Validate already reported it
	}
	c, err := oci.New(oci.Options{Insecure: insecure, AllowLatest: true, Retry: oci.RetryPolicy{MaxRetries: -1}})
	if err != nil {
		return []string{err.Error()}
	}
	var errs []string
	for _, comp := range m.Spec.Components {
		if comp.Properties.Image == nil {
			continue
		}
		img := *comp.Properties.Image
		if strings.HasPrefix(img, "file://") || strings.HasPrefix(img, "wasmcloud+builtin://") || !ociRef().MatchString(img) {
			continue
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if _, err := c.Resolve(ctx, img); err != nil {
			errs = append(errs, fmt.Sprintf("component %q: image %s cannot be fetched: %s", comp.Name, img, oneLine(err.Error())))
		}
		cancel()
	}
	return errs
}

// Validate checks a manifest the way wadm would plus the schema and image references; it
// returns error and warning messages (a parse failure is an error result).
func Validate(src deploy.Source) (errs, warns []string, err error) {
	m, failures, perr := model.ValidateBytes(src.Data)
	if perr != nil {
		if m, perr = model.ParseManifest(src.Data); perr != nil {
			return []string{oneLine(perr.Error())}, nil, nil
		}
		failures = model.Validate(m)
	}
	for _, f := range failures.Errors() {
		errs = append(errs, f.Msg)
	}
	for _, f := range failures.Warnings() {
		warns = append(warns, f.Msg)
	}
	if !model.ValidManifestName(strings.TrimSpace(m.Metadata.Name)) {
		errs = append(errs, fmt.Sprintf("manifest name %q may only contain letters, digits, '-' and '_'", m.Metadata.Name))
	}
	if err := model.ValidateManifestSchema(m); err != nil {
		errs = append(errs, "schema: "+oneLine(err.Error()))
	}
	for _, c := range m.Spec.Components {
		if c.Properties.Image == nil {
			continue
		}
		img := *c.Properties.Image
		if name, ok := strings.CutPrefix(img, builtinScheme); ok {
			e, w := checkBuiltin(&c, name)
			errs, warns = append(errs, e...), append(warns, w...)
			continue
		}
		if path, ok := strings.CutPrefix(img, "file://"); ok {
			if !filepath.IsAbs(path) && src.Dir != "" {
				path = filepath.Join(src.Dir, path)
			}
			if _, err := os.Stat(path); err != nil {
				errs = append(errs, fmt.Sprintf("component %q: image file %s does not exist", c.Name, path))
			}
			continue
		}
		if !ociRef().MatchString(img) {
			errs = append(errs, fmt.Sprintf("component %q: image %q is not a valid OCI reference (registry/repository:tag or file://path)", c.Name, img))
		}
	}
	return errs, warns, nil
}

// builtinScheme names a provider built into the host instead of an artifact.
const builtinScheme = "wasmcloud+builtin://"

// upstreamBuiltins are the built-in providers a wasmCloud 1.9 host knows
// (host/src/wasmbus/mod.rs:2040-2061, each behind a feature flag).
var upstreamBuiltins = []string{"http-client", "http-server", "messaging-nats"}

// checkBuiltin checks a wasmcloud+builtin:// reference the way a host
// starting it would: wadm accepts any image, the host refuses unknown names.
func checkBuiltin(c *model.Component, name string) (errs, warns []string) {
	known := providers.Known()
	switch {
	case !c.IsCapability():
		errs = append(errs, fmt.Sprintf("component %q: %s%s is a built-in provider; give it type: capability", c.Name, builtinScheme, name))
	case !slices.Contains(known, name):
		errs = append(errs, fmt.Sprintf("component %q: unknown built-in provider %q (built in: %s)", c.Name, name, strings.Join(known, ", ")))
	case !slices.Contains(upstreamBuiltins, name):
		warns = append(warns, fmt.Sprintf("component %q: built-in provider %q runs on wash hosts only; wasmCloud hosts build in %s", c.Name, name, strings.Join(upstreamBuiltins, ", ")))
	}
	return errs, warns
}
