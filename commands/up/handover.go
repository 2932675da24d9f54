package up

import (
	"encoding/json"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/wasmlattice/wash/internal/bounded"
)

// secretFlags are the flags whose values must not show in the detached child's command line
// (/proc/<pid>/cmdline is readable by every user) nor in its environment: the parent removes
// them from both and hands them over on a pipe the child reads once at start. The host
// values may carry user:password@.
var secretFlags = []string{"oci-password", "host-seed", "ctl-jwt", "ctl-seed", "rpc-jwt", "rpc-seed",
	"nats-host", "ctl-host", "rpc-host"}

// secretEnv is the variable a secret flag is also read from.
func secretEnv(flag string) string {
	if v, ok := envBindings[flag]; ok {
		return v
	}
	return authEnv[flag]
}

// secretValues are the secret flags' values the child must get, as this process parsed them
// (flags, else their variables), with the host seed this invocation chose. Unset ones are left
// out, so the child's own defaults apply.
func (o *Options) secretValues(hostSeed string) map[string]string {
	values := map[string]string{
		"oci-password": o.OCIPassword, "host-seed": hostSeed,
		"ctl-jwt": o.Auth.Ctl.JWT, "ctl-seed": o.Auth.Ctl.Seed, "rpc-jwt": o.Auth.RPC.JWT, "rpc-seed": o.Auth.RPC.Seed,
		"nats-host": o.NATSHost, "ctl-host": o.Auth.Ctl.Host, "rpc-host": o.Auth.RPC.Host,
	}
	for name, v := range values {
		if v == "" {
			delete(values, name)
		}
	}
	return values
}

// Where the child finds its secrets: a pipe's file descriptor (Unix) or, where a child cannot
// inherit extra files (Windows), a variable the child clears as soon as it has read it.
const (
	secretsFDEnv  = "WASH_UP_SECRETS_FD"
	secretsEnvVar = "WASH_UP_SECRETS"
)

// withoutSecrets drops the secret flags and their values from arguments for the child.
func withoutSecrets(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, hasValue := strings.CutPrefix(a, "--")
		if !hasValue {
			out = append(out, a)
			continue
		}
		name, _, inline := strings.Cut(name, "=")
		if !isSecretFlag(name) {
			out = append(out, a)
			continue
		}
		if !inline {
			i++ // the value is the next argument
		}
	}
	return out
}

func isSecretFlag(name string) bool {
	for _, s := range secretFlags {
		if s == name {
			return true
		}
	}
	return false
}

// withoutSecretEnv drops the variables bound to secret flags from an environment.
func withoutSecretEnv(env []string) []string {
	drop := map[string]bool{}
	for _, f := range secretFlags {
		drop[secretEnv(f)] = true
	}
	out := env[:0:0]
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			out = append(out, kv)
		}
	}
	return out
}

// secretsPipe returns a pipe whose read end the child inherits, with the secrets already
// written to it (a few hundred bytes: far below a pipe's buffer), and the variable that names
// the child's descriptor. On Windows the secrets travel in a variable instead.
func secretsPipe(secrets map[string]string, firstFD int) (child *os.File, envVar string, err error) {
	b, err := json.Marshal(secrets)
	if err != nil {
		return nil, "", err
	}
	if goruntime.GOOS == "windows" {
		return nil, secretsEnvVar + "=" + string(b), nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, "", err
	}
	defer w.Close()
	if _, err := w.Write(b); err != nil {
		r.Close()
		return nil, "", err
	}
	return r, secretsFDEnv + "=" + strconv.Itoa(firstFD), nil
}

// receiveSecrets, in the detached child, reads the secrets its parent handed over and sets
// the flags from them.
func receiveSecrets(fs *pflag.FlagSet) error {
	var data []byte
	if v, ok := os.LookupEnv(secretsEnvVar); ok {
		data = []byte(v)
		_ = os.Unsetenv(secretsEnvVar)
	} else if fdText := os.Getenv(secretsFDEnv); fdText != "" {
		fd, err := strconv.Atoi(fdText)
		if err != nil {
			return fmt.Errorf("invalid %s=%q", secretsFDEnv, fdText)
		}
		f := os.NewFile(uintptr(fd), "wash-secrets")
		data, err = bounded.ReadAll(f, 1<<20, "the secrets pipe")
		f.Close()
		if err != nil {
			return err
		}
	} else {
		return nil
	}
	var secrets map[string]string
	if err := json.Unmarshal(data, &secrets); err != nil {
		return fmt.Errorf("reading secrets from the parent wash: %w", err)
	}
	for name, v := range secrets {
		if !isSecretFlag(name) {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			return fmt.Errorf("--%s from the parent wash: %w", name, err)
		}
	}
	return nil
}
