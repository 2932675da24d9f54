package workload

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/wasmlattice/wash/lattice/events"
)

// Waiter collects lattice events from before a request is sent until the matching one arrives.
type Waiter struct {
	stop func()
	ch   chan events.Event
}

// Watch subscribes to the named events of the session's lattice; call it before the request.
func (s *Session) Watch(names ...string) (*Waiter, error) {
	w := &Waiter{ch: make(chan events.Event, 256)}
	sub, err := events.Subscribe(s.NC, s.Lattice(), func(e events.Event) {
		select {
		case w.ch <- e:
		default: // a slow consumer loses only unrelated events; the waits are short
		}
	}, names...)
	if err != nil {
		return nil, err
	}
	if err := s.NC.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	w.stop = func() { _ = sub.Unsubscribe() }
	return w, nil
}

// watchIf is Watch when the caller will wait, else a nil Waiter (Close accepts it).
func (s *Session) watchIf(wait bool, names ...string) (*Waiter, error) {
	if !wait {
		return nil, nil
	}
	return s.Watch(names...)
}

// Close ends the subscription; a nil Waiter (nothing watched) has nothing to end.
func (w *Waiter) Close() {
	if w != nil {
		w.stop()
	}
}

// ErrWaitTimeout is what errors.Is finds in every error that says a request was accepted but
// the event confirming it did not arrive in time.
var ErrWaitTimeout = errors.New("timed out")

// Wait feeds events to match until it reports done (or an error) or the timeout passes
// (ErrWaitTimeout).
func (w *Waiter) Wait(ctx context.Context, timeout time.Duration, match func(events.Event) (bool, error)) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return ErrWaitTimeout
		case e := <-w.ch:
			done, err := match(e)
			if err != nil || done {
				return err
			}
		}
	}
}

// Data decodes an event's data into v, ignoring malformed payloads (they never match).
func Data(e events.Event, v any) bool { return json.Unmarshal(e.Data, v) == nil }

// waitTimeout is a wait that ran out: its message says what was accepted and not confirmed.
type waitTimeout struct{ msg string }

func (e *waitTimeout) Error() string        { return e.msg }
func (e *waitTimeout) Is(target error) bool { return target == ErrWaitTimeout }
