package host

import (
	"crypto/rand"
	"fmt"
	"math/big"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/nats-io/nkeys"
)

// newIdentity returns the host's server key pair from a seed (SN…) or a fresh one.
func newIdentity(seed string) (nkeys.KeyPair, string, error) {
	if seed == "" {
		kp, err := nkeys.CreateServer()
		if err != nil {
			return nil, "", err
		}
		pub, _ := kp.PublicKey()
		return kp, pub, nil
	}
	kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(seed)))
	if err != nil {
		return nil, "", fmt.Errorf("invalid host seed: %w (expected a server nkey seed starting with SN)", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, "", err
	}
	if !nkeys.IsValidPublicServerKey(pub) {
		return nil, "", fmt.Errorf("invalid host seed: it is not a server key (expected a seed starting with SN)")
	}
	return kp, pub, nil
}

// HostcoreLabels are the labels every host adds itself, with Rust std::env::consts spellings.
func HostcoreLabels() map[string]string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "x86", "arm": "arm",
		"riscv64": "riscv64", "ppc64le": "powerpc64", "s390x": "s390x", "loong64": "loongarch64"}[goruntime.GOARCH]
	if arch == "" {
		arch = goruntime.GOARCH
	}
	os := goruntime.GOOS
	if os == "darwin" {
		os = "macos"
	}
	family := "unix"
	if goruntime.GOOS == "windows" {
		family = "windows"
	}
	return map[string]string{"hostcore.arch": arch, "hostcore.os": os, "hostcore.osfamily": family}
}

// ValidateUserLabel refuses keys under hostcore. (any case) and empty keys.
func ValidateUserLabel(key string) error {
	if strings.TrimSpace(key) == "" {
		return fmt.Errorf("label key must not be empty")
	}
	if strings.HasPrefix(strings.ToLower(key), "hostcore.") {
		return fmt.Errorf("label %q: hostcore.* labels are set by the host and cannot be set by users", key)
	}
	return nil
}

var adjectives = []string{"amber", "ancient", "autumn", "billowing", "bitter", "bold", "brave", "breezy",
	"bright", "calm", "crimson", "crisp", "dawn", "delicate", "divine", "dry", "empty", "falling",
	"floral", "fragrant", "frosty", "gentle", "golden", "green", "hidden", "holy", "icy", "jolly",
	"late", "lingering", "little", "lively", "long", "lucky", "misty", "morning", "muddy", "nameless",
	"noisy", "odd", "old", "orange", "patient", "plain", "polished", "proud", "purple", "quiet",
	"rapid", "restless", "rough", "round", "royal", "shiny", "shy", "silent", "small", "snowy", "soft",
	"solitary", "sparkling", "spring", "square", "steep", "still", "summer", "sweet", "swift", "tight",
	"tiny", "twilight", "wandering", "weathered", "white", "wild", "winter", "wispy", "withered", "young"}

var nouns = []string{"bird", "breeze", "brook", "bush", "butterfly", "cherry", "cloud", "darkness",
	"dawn", "dew", "dream", "dust", "feather", "field", "fire", "firefly", "flower", "fog", "forest",
	"frog", "frost", "glade", "glitter", "grass", "haze", "hill", "lake", "leaf", "meadow", "moon",
	"morning", "mountain", "night", "paper", "pine", "pond", "rain", "resonance", "river", "sea",
	"shadow", "shape", "silence", "sky", "smoke", "snow", "snowflake", "sound", "star", "sun",
	"sunset", "surf", "thunder", "tree", "violet", "voice", "water", "waterfall", "wave", "wildflower",
	"wind", "wood"}

func randIndex(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return int(time.Now().UnixNano() % int64(n))
	}
	return int(v.Int64())
}

// FriendlyName makes an adjective-noun-NNNN name, new every start.
func FriendlyName() string {
	return fmt.Sprintf("%s-%s-%04d", adjectives[randIndex(len(adjectives))], nouns[randIndex(len(nouns))], randIndex(10000))
}

// HumanUptime formats seconds the way humantime does with sub-seconds dropped: "0s", "45s",
// "2h 37m", "1day 3h 2m 5s", "2months 3days".
func HumanUptime(secs uint64) string {
	if secs == 0 {
		return "0s"
	}
	const (
		year  = 31_557_600 // 365.25 days
		month = 2_630_016  // 30.44 days
		day   = 86_400
	)
	var parts []string
	plural := func(n uint64, unit string) string {
		if n > 1 {
			return fmt.Sprintf("%d%ss", n, unit)
		}
		return fmt.Sprintf("%d%s", n, unit)
	}
	if y := secs / year; y > 0 {
		parts = append(parts, plural(y, "year"))
		secs %= year
	}
	if m := secs / month; m > 0 {
		parts = append(parts, plural(m, "month"))
		secs %= month
	}
	if d := secs / day; d > 0 {
		parts = append(parts, plural(d, "day"))
		secs %= day
	}
	if h := secs / 3600; h > 0 {
		parts = append(parts, fmt.Sprintf("%dh", h))
		secs %= 3600
	}
	if m := secs / 60; m > 0 {
		parts = append(parts, fmt.Sprintf("%dm", m))
		secs %= 60
	}
	if secs > 0 {
		parts = append(parts, fmt.Sprintf("%ds", secs))
	}
	return strings.Join(parts, " ")
}
