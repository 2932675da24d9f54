package build

import (
	"context"
	"fmt"
	"os"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/internal/bounded"
	"github.com/wasmlattice/wash/oci/par"
	"github.com/wasmlattice/wash/project"
	"github.com/wasmlattice/wash/wascap"
)

// provider builds a provider project: a binary per target, packed into a signed, gzipped
// provider archive at build/<bin>.par.gz (as wash par create would). The archive changes only
// when the whole build succeeds (it is written atomically); Go binaries are built in build/.bin,
// which go build keeps up to date without relinking. --build-only leaves the binaries as
// build/<bin>-<target>; --sign-only packs those.
func provider(ctx context.Context, env *cli.Env, cfg *project.Config, o *Options) (*Result, error) {
	res := &Result{Config: cfg, Targets: cfg.Provider.TargetsResolved}
	var bins []project.Binary
	if o.SignOnly {
		for _, t := range cfg.Provider.TargetsResolved {
			p := cfg.BinaryPath(t)
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("nothing to pack: %s does not exist (run wash build --build-only first, or wash build)", p)
			}
			bins = append(bins, project.Binary{Target: t, Path: p})
		}
	} else {
		b := &project.Builder{Out: env.IO.Err}
		var err error
		if bins, err = b.BuildProvider(ctx, cfg); err != nil {
			return nil, err
		}
		res.Built = true
	}
	binaries := map[string][]byte{}
	for _, bin := range bins {
		data, err := bounded.ReadFile(bin.Path, project.MaxProviderBinarySize)
		if err != nil {
			return nil, fmt.Errorf("reading the provider binary %s: %w", bin.Path, err)
		}
		binaries[bin.Target] = data
	}
	if err := os.MkdirAll(cfg.BuildDir, 0o755); err != nil {
		return nil, err
	}
	if o.BuildOnly {
		for _, bin := range bins {
			dest := cfg.BinaryPath(bin.Target)
			if err := home.WriteFileAtomic(dest, binaries[bin.Target], 0o755); err != nil {
				return nil, fmt.Errorf("writing %s: %w", dest, err)
			}
			res.Binaries = append(res.Binaries, dest)
		}
		res.Path = res.Binaries[0]
		return res, nil
	}
	a := par.New(cfg.Name, cfg.Provider.Vendor)
	for t, data := range binaries {
		if err := a.AddBinary(t, data); err != nil {
			return nil, err
		}
	}
	ver, rev := cfg.Version, cfg.Revision
	a.Ver, a.Rev = &ver, &rev
	signing := o.Signing
	if signing.KeysDir == "" && cfg.Provider.KeyDirectory != "" {
		signing.KeysDir = expandHome(cfg.Provider.KeyDirectory)
	}
	iss, err := signing.IssuerKey(env)
	if err != nil {
		return nil, err
	}
	sub, err := signing.SubjectKey(env, cfg.ProviderBinName(), wascap.KindService)
	if err != nil {
		return nil, err
	}
	created, err := par.Create(a, par.Keys{Issuer: iss, Subject: sub}, true)
	if err != nil {
		return nil, fmt.Errorf("packing the provider archive: %w", err)
	}
	dest := cfg.ArchivePath()
	if err := home.WriteFileAtomic(dest, created.Bytes, 0o644); err != nil {
		return nil, fmt.Errorf("writing %s: %w", dest, err)
	}
	res.Path, res.Signed = dest, true
	res.Service = created.Token.Claims.Subject
	return res, nil
}
