// Package workers runs served invocations on goroutines that outlive one invocation. A served
// call goes deep (decoding, the handler, a wasm instance: tens of KiB of stack); a fresh
// goroutine starts small and grows its stack by copying it several times on every call, which
// cost a tenth of a cross-host HTTP request's CPU. A worker keeps the stack it grew.
package workers

import (
	"time"
)

// idle is how long a worker waits for its next job before it exits.
const idle = 5 * time.Second

var jobs = make(chan func())

// Go runs f on an idle worker, or on a new one when none is idle: it never queues f behind
// another job, so it behaves like a go statement.
func Go(f func()) {
	select {
	case jobs <- f:
	default:
		go work(f)
	}
}

func work(f func()) {
	f()
	t := time.NewTimer(idle)
	defer t.Stop()
	for {
		select {
		case f := <-jobs:
			f()
			t.Reset(idle)
		case <-t.C:
			return
		}
	}
}
