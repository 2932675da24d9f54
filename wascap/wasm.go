package wascap

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

const (
	// SectionName is the custom section wash writes the component JWT into.
	SectionName = "wasmcloud_jwt"
	// LegacySectionName is the section name used by wascap before 0.9 (pre-1.0 modules).
	LegacySectionName = "jwt"
)

var wasmMagic = []byte{0x00, 'a', 's', 'm'}

// ErrNotWasm is returned for input that does not start with the wasm magic and a version.
var ErrNotWasm = errors.New("not a wasm binary (missing \\0asm header)")

type section struct {
	id         byte
	start, end int // whole section including id and size
	name       string
	payload    []byte // for custom sections: the data after the name
}

// sections walks the top-level sections of a wasm module or component.
func sections(wasm []byte) ([]section, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], wasmMagic) {
		return nil, ErrNotWasm
	}
	var out []section
	off := 8
	for off < len(wasm) {
		start := off
		id := wasm[off]
		off++
		size, n, err := uleb32(wasm[off:])
		if err != nil {
			return nil, fmt.Errorf("section at offset %d: %w", start, err)
		}
		off += n
		if uint64(off)+uint64(size) > uint64(len(wasm)) {
			return nil, fmt.Errorf("section at offset %d: size %d runs past the end of the binary", start, size)
		}
		s := section{id: id, start: start, end: off + int(size)}
		if id == 0 {
			body := wasm[off:s.end]
			nl, m, err := uleb32(body)
			if err != nil || uint64(m)+uint64(nl) > uint64(len(body)) {
				return nil, fmt.Errorf("custom section at offset %d: bad name", start)
			}
			s.name = string(body[m : m+int(nl)])
			s.payload = body[m+int(nl):]
		}
		out = append(out, s)
		off = s.end
	}
	return out, nil
}

func uleb32(b []byte) (uint32, int, error) {
	var v uint64
	for i := 0; i < 5; i++ {
		if i >= len(b) {
			return 0, 0, errors.New("truncated LEB128")
		}
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if v > 0xffffffff {
				return 0, 0, errors.New("LEB128 overflows u32")
			}
			return uint32(v), i + 1, nil
		}
	}
	return 0, 0, errors.New("LEB128 too long")
}

func isJWTSection(s section) bool {
	return s.id == 0 && (s.name == SectionName || s.name == LegacySectionName)
}

// StripClaims returns the binary with every top-level "jwt"/"wasmcloud_jwt" custom section
// removed; all other sections are copied verbatim.
func StripClaims(wasm []byte) ([]byte, error) {
	secs, err := sections(wasm)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(wasm))
	out = append(out, wasm[:8]...)
	for _, s := range secs {
		if !isJWTSection(s) {
			out = append(out, wasm[s.start:s.end]...)
		}
	}
	return out, nil
}

// Hash returns the upper-case hex SHA-256 of b, the form used in claims.
func Hash(b []byte) string {
	sum := sha256.Sum256(b)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// ModuleHash is the hash stored in component claims: Hash of the binary without JWT sections.
func ModuleHash(wasm []byte) (string, error) {
	stripped, err := StripClaims(wasm)
	if err != nil {
		return "", err
	}
	return Hash(stripped), nil
}

// ExtractClaims returns the embedded component token, or (nil, nil) for an unsigned binary.
// It checks the module hash for wascap_revision >= 3 but not the signature or the dates; call
// Token.Verify for that. Only top-level sections are read.
func ExtractClaims(wasm []byte) (*Token[Component], error) {
	secs, err := sections(wasm)
	if err != nil {
		return nil, err
	}
	var jwt []byte
	for _, s := range secs {
		if isJWTSection(s) {
			jwt = s.payload
			break
		}
	}
	if jwt == nil {
		return nil, nil
	}
	tok, err := Decode[Component](string(jwt))
	if err != nil {
		return nil, fmt.Errorf("embedded claims: %w", err)
	}
	if tok.Claims.WascapRevision != nil && *tok.Claims.WascapRevision >= MinHashedRevision {
		if tok.Claims.Metadata == nil {
			return nil, fmt.Errorf("embedded claims: %w: no wascap metadata", ErrInvalidToken)
		}
		h, err := ModuleHash(wasm)
		if err != nil {
			return nil, err
		}
		if h != tok.Claims.Metadata.Hash {
			return nil, ErrHashMismatch
		}
	}
	return tok, nil
}

// SignOptions describe new component claims.
type SignOptions struct {
	Name      string
	Tags      []string
	Rev       *int32
	Ver       string
	CallAlias string
	// Expires and NotBefore are absolute times; zero means unset.
	Expires, NotBefore time.Time
}

// Sign strips existing claims, computes the module hash, signs new claims with issuer (an
// account seed) for subject (a module public key, "M…") and appends them as a "wasmcloud_jwt"
// section at the end of the binary.
func Sign(wasm []byte, issuer Signer, subject string, o SignOptions) ([]byte, *Token[Component], error) {
	stripped, err := StripClaims(wasm)
	if err != nil {
		return nil, nil, err
	}
	iss, err := issuer.PublicKey()
	if err != nil {
		return nil, nil, fmt.Errorf("issuer key: %w", err)
	}
	meta := &Component{
		Name:      o.Name,
		Hash:      Hash(stripped),
		Tags:      o.Tags,
		Rev:       o.Rev,
		Ver:       o.Ver,
		CallAlias: NormalizeCallAlias(o.CallAlias),
	}
	c := NewClaims(iss, subject, meta)
	if !o.Expires.IsZero() {
		e := o.Expires.Unix()
		c.Expires = &e
	}
	if !o.NotBefore.IsZero() {
		n := o.NotBefore.Unix()
		c.NotBefore = &n
	}
	jwt, err := Encode(&c, issuer)
	if err != nil {
		return nil, nil, err
	}
	payload := binary.AppendUvarint(nil, uint64(len(SectionName))) // unsigned LEB128
	payload = append(payload, SectionName...)
	payload = append(payload, jwt...)
	out := append(stripped, 0)
	out = binary.AppendUvarint(out, uint64(len(payload)))
	out = append(out, payload...)
	return out, &Token[Component]{JWT: jwt, Claims: c}, nil
}

// NormalizeCallAlias lower-cases and trims an alias, drops non-ASCII characters and turns
// space, '-' and '.' into '_', as upstream does.
func NormalizeCallAlias(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r > 0x7f:
		case r == ' ' || r == '-' || r == '.':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
