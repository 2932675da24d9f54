package ctl

import (
	"fmt"
	"os"
	"strings"
)

// DefaultTopicPrefix is the control-interface prefix; WASMCLOUD_CTL_TOPIC_PREFIX overrides it.
const DefaultTopicPrefix = "wasmbus.ctl"

// DefaultLattice is the lattice used when none is named.
const DefaultLattice = "default"

// TopicPrefixFromEnv returns WASMCLOUD_CTL_TOPIC_PREFIX or the default.
func TopicPrefixFromEnv() string {
	if p := os.Getenv("WASMCLOUD_CTL_TOPIC_PREFIX"); p != "" {
		return p
	}
	return DefaultTopicPrefix
}

// Subjects builds control subjects for one lattice.
type Subjects struct {
	Prefix  string
	Lattice string
}

// Base is "<prefix>.v1.<lattice>".
func (s Subjects) Base() string {
	p := s.Prefix
	if p == "" {
		p = DefaultTopicPrefix
	}
	return p + ".v1." + s.Lattice
}

// Of joins tokens under the base: Of("host","get",id) = "<base>.host.get.<id>".
func (s Subjects) Of(tokens ...string) string {
	return s.Base() + "." + strings.Join(tokens, ".")
}

// ValidToken reports whether v can stand as one NATS subject token (lattice, host id, config
// name) of at most MaxNameLength bytes.
func ValidToken(v string) bool {
	if v == "" || len(v) > MaxNameLength {
		return false
	}
	for _, r := range v {
		switch r {
		case '.', '*', '>', ' ', '\t', '\r', '\n':
			return false
		}
	}
	return true
}

// MaxNameLength bounds every name and id that ends up in a NATS subject or a KV key: lattice
// names, host, component and provider ids, link names, config names, app names. Subjects join
// up to three of them (wasmbus.rpc.<lattice>.<provider>.<link>…, $KV.<bucket>.<key>) with a
// reply inbox, and a control line over the server's max_control_line (4096 bytes by default)
// makes the server close the connection; 255 keeps every subject far below that.
const MaxNameLength = 255

// CheckName validates a name or id of the given kind ("component id", "config name", …): not
// empty and at most MaxNameLength bytes. The error is one line that says what to do.
func CheckName(kind, v string) error {
	switch {
	case v == "":
		return fmt.Errorf("%s must not be empty", kind)
	case len(v) > MaxNameLength:
		return fmt.Errorf("%s is %d bytes long (%s…); names and ids may have at most %d bytes", kind, len(v), v[:16], MaxNameLength)
	}
	return nil
}

// CheckLatticeName is ValidLatticeName with a one-line error saying what is wrong.
func CheckLatticeName(v string) error {
	if err := CheckName("lattice name", v); err != nil {
		return err
	}
	if !ValidLatticeName(v) {
		return fmt.Errorf("invalid lattice name %q: use letters, digits, '-' and '_' only", v)
	}
	return nil
}

// ValidLatticeName reports whether a lattice name is safe both as a subject token and inside KV
// bucket names ([A-Za-z0-9_-]), and at most MaxNameLength bytes.
func ValidLatticeName(v string) bool {
	if v == "" || len(v) > MaxNameLength {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
