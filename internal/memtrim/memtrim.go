// Package memtrim hands back memory a long-running wash process needed only to start.
//
// Most of an idle lattice process's resident memory is not heap: it is pages of the wash
// executable itself (code and read-only data) mapped while everything started — package
// initialisation, the NATS server and JetStream recovering their state, the host and wadm
// connecting — and, because the kernel maps file pages 64 KiB around each fault, many never
// used again. Executable drops this process's mappings of them. The pages stay in the page
// cache, so code that runs again maps them back with a minor fault, and nothing is slower
// than a cold start of a single function.
package memtrim

// Executable drops the mappings of this process's own executable's read-only segments (never
// the writable ones) and reports how many bytes were mapped there. Linux only; elsewhere it
// does nothing.
func Executable() (uint64, error) { return trimExecutable() }
