package runtime

import "crypto/rand"

// cryptoRand feeds WASI random_get from the OS; wazero's default is deterministic.
type cryptoRand struct{}

func (cryptoRand) Read(p []byte) (int, error) { return rand.Read(p) }
