package cli

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"
)

// BindEnv applies environment variables to flags the user did not set, so each option reads
// flag > environment > (context/default). bindings maps flag name → variable name.
func BindEnv(fs *pflag.FlagSet, bindings map[string]string) error {
	for flag, env := range bindings {
		f := fs.Lookup(flag)
		if f == nil || f.Changed {
			continue
		}
		v, ok := os.LookupEnv(env)
		if !ok || v == "" {
			continue
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			if err := sv.Replace(splitComma(v)); err != nil {
				return Usage(fmt.Errorf("invalid %s=%q for --%s: %v", env, v, flag, err))
			}
			f.Changed = true
			continue
		}
		if err := fs.Set(flag, v); err != nil {
			return Usage(fmt.Errorf("invalid %s=%q for --%s: %v", env, v, flag, err))
		}
	}
	return nil
}

func splitComma(v string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || v[i] == ',' {
			if s := v[start:i]; s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	return out
}

// ParseKV parses k=v pairs with exactly one '='; what names the kind of pair for the error.
func ParseKV(pairs []string, what string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := cutOnce(p)
		if !ok || k == "" {
			return nil, Usage(fmt.Errorf("invalid %s %q: expected key=value", what, p))
		}
		out[k] = v
	}
	return out, nil
}

func cutOnce(s string) (string, string, bool) {
	n := 0
	idx := -1
	for i := range len(s) {
		if s[i] == '=' {
			n++
			if idx < 0 {
				idx = i
			}
		}
	}
	if n != 1 {
		return "", "", false
	}
	return s[:idx], s[idx+1:], true
}
