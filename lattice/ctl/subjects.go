package ctl

import (
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

// ValidToken reports whether v can stand as one NATS subject token (lattice, host id, config name).
func ValidToken(v string) bool {
	if v == "" {
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

// ValidLatticeName reports whether a lattice name is safe both as a subject token and inside KV
// bucket names ([A-Za-z0-9_-]).
func ValidLatticeName(v string) bool {
	if v == "" {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
