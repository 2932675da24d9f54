package wascap

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nkeys"
)

// Signer signs claims. nkeys.KeyPair satisfies it, and so does *Key (for the module "M" and
// service "V" key types that github.com/nats-io/nkeys does not know).
type Signer interface {
	PublicKey() (string, error)
	Sign(input []byte) ([]byte, error)
}

// KeyKind is an nkey type prefix byte (the first character of the public key).
type KeyKind byte

// Key kinds used by wasmCloud; the values are the nkey prefix bytes.
const (
	KindAccount  KeyKind = 0       // 'A', issuer of components and providers
	KindModule   KeyKind = 12 << 3 // 'M', component subject
	KindServer   KeyKind = 13 << 3 // 'N', host
	KindOperator KeyKind = 14 << 3 // 'O'
	KindService  KeyKind = 21 << 3 // 'V', provider subject
	KindCluster  KeyKind = 2 << 3  // 'C'
	KindUser     KeyKind = 20 << 3 // 'U'
	kindSeed     byte    = 18 << 3 // 'S'
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Key is an Ed25519 nkey of any kind, including module and service keys.
type Key struct {
	kind KeyKind
	priv ed25519.PrivateKey
}

// NewKey generates a fresh key of the given kind.
func NewKey(kind KeyKind) (*Key, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	return &Key{kind: kind, priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// ParseSeed decodes a seed string ("SA…", "SM…", "SV…", …).
func ParseSeed(seed string) (*Key, error) {
	raw, err := b32.DecodeString(strings.TrimSpace(seed))
	if err != nil || len(raw) != 2+ed25519.SeedSize+2 {
		return nil, errors.New("not an nkey seed (expected a base32 string starting with S)")
	}
	if err := checkCRC(raw); err != nil {
		return nil, err
	}
	if raw[0]&0xf8 != kindSeed {
		return nil, errors.New("not an nkey seed (expected a string starting with S)")
	}
	kind := KeyKind((raw[0]&7)<<5 | (raw[1]&0xf8)>>3)
	return &Key{kind: kind, priv: ed25519.NewKeyFromSeed(raw[2 : 2+ed25519.SeedSize])}, nil
}

// Kind returns the key type.
func (k *Key) Kind() KeyKind { return k.kind }

// PublicKey returns the encoded public key.
func (k *Key) PublicKey() (string, error) {
	return encodeKey([]byte{byte(k.kind)}, k.priv.Public().(ed25519.PublicKey)), nil
}

// Public returns the encoded public key.
func (k *Key) Public() string { s, _ := k.PublicKey(); return s }

// Seed returns the encoded seed.
func (k *Key) Seed() string {
	b1 := kindSeed | byte(k.kind)>>5
	b2 := (byte(k.kind) & 31) << 3
	return encodeKey([]byte{b1, b2}, k.priv.Seed())
}

// Sign signs input with the private key.
func (k *Key) Sign(input []byte) ([]byte, error) { return ed25519.Sign(k.priv, input), nil }

func encodeKey(prefix, payload []byte) string {
	raw := append(append([]byte{}, prefix...), payload...)
	raw = binary.LittleEndian.AppendUint16(raw, crc16(raw))
	return b32.EncodeToString(raw)
}

// DecodePublicKey returns the kind and raw Ed25519 key of an encoded public nkey.
func DecodePublicKey(pub string) (KeyKind, ed25519.PublicKey, error) {
	raw, err := b32.DecodeString(pub)
	if err != nil || len(raw) != 1+ed25519.PublicKeySize+2 {
		return 0, nil, fmt.Errorf("invalid public key %q", pub)
	}
	if err := checkCRC(raw); err != nil {
		return 0, nil, err
	}
	return KeyKind(raw[0]), ed25519.PublicKey(raw[1 : 1+ed25519.PublicKeySize]), nil
}

// VerifySignature checks an Ed25519 signature against an encoded public key of any kind.
func VerifySignature(pub string, msg, sig []byte) error {
	_, key, err := DecodePublicKey(pub)
	if err != nil {
		return err
	}
	if !ed25519.Verify(key, msg, sig) {
		return ErrInvalidSignature
	}
	return nil
}

func checkCRC(raw []byte) error {
	n := len(raw) - 2
	if binary.LittleEndian.Uint16(raw[n:]) != crc16(raw[:n]) {
		return errors.New("nkey checksum mismatch")
	}
	return nil
}

// crc16 is CRC-16/XMODEM, the checksum nkeys append.
func crc16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for i := 0; i < 8; i++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// LoadKey accepts a seed literal ("SA…") or the path of a file holding one, as wash's -i/-s
// flags do. Account and other standard seeds go through nkeys; module and service seeds, which
// nkeys rejects, are decoded here.
func LoadKey(s string) (Signer, error) {
	s = strings.TrimSpace(s)
	if !looksLikeSeed(s) {
		b, err := os.ReadFile(s)
		if err != nil {
			return nil, fmt.Errorf("reading key file: %w", err)
		}
		s = strings.TrimSpace(string(b))
	}
	if kp, err := nkeys.FromSeed([]byte(s)); err == nil {
		return kp, nil
	}
	k, err := ParseSeed(s)
	if err != nil {
		return nil, fmt.Errorf("parsing seed: %w", err)
	}
	return k, nil
}

func looksLikeSeed(s string) bool {
	if len(s) != 58 || s[0] != 'S' {
		return false
	}
	_, err := b32.DecodeString(s)
	return err == nil && !bytes.ContainsAny([]byte(s), "/\\.")
}

// PublicKey returns s's public key, or "" when it cannot be computed.
func PublicKey(s Signer) string {
	pk, err := s.PublicKey()
	if err != nil {
		return ""
	}
	return pk
}
