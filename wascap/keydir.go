package wascap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/wasmlattice/wash/internal/atomicfile"
)

// KeyExt is the file extension of seeds in a key directory.
const KeyExt = ".nk"

// KeyDir is a directory of nkey seeds, one <name>.nk file per key (mode 0600, directory 0700),
// the layout upstream wash keeps in its keys directory.
type KeyDir struct{ Path string }

// File is the path of the key called name.
func (d KeyDir) File(name string) string {
	return filepath.Join(d.Path, strings.TrimSuffix(name, KeyExt)+KeyExt)
}

// Get loads the key called name; (nil, nil) when there is none.
func (d KeyDir) Get(name string) (Signer, error) {
	p := d.File(name)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	k, err := LoadKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return k, nil
}

// Seed returns the seed stored under name ("" when there is none).
func (d KeyDir) Seed(name string) (string, error) {
	b, err := os.ReadFile(d.File(name))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// Save writes seed under name atomically with private permissions.
func (d KeyDir) Save(name, seed string) error {
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return fmt.Errorf("creating keys directory: %w", err)
	}
	return atomicfile.WriteFile(d.File(name), []byte(seed), 0o600)
}

// List returns the key names (file names without .nk), sorted.
func (d KeyDir) List() ([]string, error) {
	entries, err := os.ReadDir(d.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), KeyExt) {
			out = append(out, strings.TrimSuffix(e.Name(), KeyExt))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Ensure loads the key called name, generating and saving one of kind when it is missing
// (unless disableKeygen). generated reports a new key.
func (d KeyDir) Ensure(name string, kind KeyKind, disableKeygen bool) (k Signer, generated bool, err error) {
	k, err = d.Get(name)
	if err != nil || k != nil {
		return k, false, err
	}
	if disableKeygen {
		return nil, false, fmt.Errorf("no key at %s and --disable-keygen is set: pass the key with -i/-s", d.File(name))
	}
	nk, err := NewKey(kind)
	if err != nil {
		return nil, false, err
	}
	if err := d.Save(name, nk.Seed()); err != nil {
		return nil, false, fmt.Errorf("saving generated key: %w", err)
	}
	return nk, true, nil
}
