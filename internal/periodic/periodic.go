// Package periodic runs background work on a schedule until it is told to stop: a host's
// heartbeat, a native provider's health checks, a log watch's lease renewal.
package periodic

import "time"

// Every calls f once first has passed and then again interval after each call returns, until
// stop is closed. It returns when stop is closed; a call in progress finishes first.
func Every(stop <-chan struct{}, first, interval time.Duration, f func()) {
	wait := first
	for {
		select {
		case <-stop:
			return
		case <-time.After(wait):
		}
		f()
		wait = interval
	}
}
