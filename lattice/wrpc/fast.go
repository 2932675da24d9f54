package wrpc

import (
	"strconv"
	"strings"
	"sync"
	"time"
)

// The wash short reply (a wash extension; docs/wrpc.md, "Wire notes"): a call whose params
// are complete in the invocation message (every pending async param an empty byte stream, as an
// HTTP GET's body) marks its reply inbox "<nuid>-wash1-<ms>". Any standard server treats the
// inbox as opaque and runs the standard exchange (7 messages for an HTTP GET). A wash server
// that sees the mark skips the handshake and the params messages and answers on the inbox
// itself with one message that has no reply subject and starts with a kind byte:
//
//	fastAccepted: the call runs (sent only if it runs longer than <ms>, or before results
//	              that go the standard way); it stands for the handshake.
//	fastResults:  the complete results tuple follows, and every pending async result is an
//	              empty byte stream (its channel would carry 00 and its end).
//
// Results that are not complete (streamed bodies), that do not fit one message, and failures
// go the standard way, on "<inbox>.results".
const (
	fastMark     = "-wash1-"
	fastAccepted = 1
	fastResults  = 2
)

// fastToken marks a call token for the short reply: a wash server accepts or answers within
// half of the caller's handshake wait.
func fastToken(token string, hsWait time.Duration) string {
	ms := max(hsWait.Milliseconds()/2, 1)
	return token + fastMark + strconv.FormatInt(ms, 10)
}

// fastReply reads the mark off a reply inbox: how soon the call must be accepted.
func fastReply(reply string) (time.Duration, bool) {
	last := reply[strings.LastIndexByte(reply, '.')+1:]
	i := strings.Index(last, fastMark)
	if i <= 0 {
		return 0, false
	}
	digits := last[i+len(fastMark):]
	if len(digits) == 0 || len(digits) > 9 {
		return 0, false
	}
	ms, err := strconv.Atoi(digits)
	if err != nil || ms <= 0 {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}

// isFastReply tells a wash server's short reply from a standard handshake (which always has a
// reply subject) and from a NATS status message (a header, no data).
func isFastReply(data []byte, reply string) bool { return len(data) > 0 && reply == "" }

// fill makes the side's channels complete from a short message: the root carries root, every
// async path an empty byte stream (made so when its channel is made: most paths of a type are
// never pending).
func (ic *invocationChannels) fill(root []byte, subject string) {
	ic.root.add(root, subject)
	ic.root.add(nil, subject)
	ic.mu.Lock()
	ic.emptyStreams = true
	made := make([]*inChannel, 0, len(ic.chans))
	for _, ch := range ic.chans {
		made = append(made, ch)
	}
	ic.mu.Unlock()
	for _, ch := range made {
		ch.add(endChunk, subject)
		ch.add(nil, subject)
	}
}

// acceptor sends a short-reply call's acceptance once: when the call outlives the caller's
// wait, or before results that go the standard way. Its lock orders it before the answer.
type acceptor struct {
	c     *Conn
	reply string
	mu    sync.Mutex
	sent  bool
	done  bool
	timer *time.Timer
}

func newAcceptor(c *Conn, reply string, after time.Duration) *acceptor {
	a := &acceptor{c: c, reply: reply}
	a.timer = time.AfterFunc(after, func() { _ = a.accept() })
	return a
}

// accept sends the acceptance unless it went already or the call was answered.
func (a *acceptor) accept() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sent || a.done {
		return nil
	}
	a.sent = true
	return a.c.nc.Publish(a.reply, []byte{fastAccepted})
}

// answer sends the complete results (kind byte included) as the call's one reply.
func (a *acceptor) answer(data []byte) error {
	a.mu.Lock()
	a.done = true
	a.mu.Unlock()
	a.timer.Stop()
	return a.c.nc.Publish(a.reply, data)
}

// stop ends the acceptance timer (the call is over).
func (a *acceptor) stop() {
	a.mu.Lock()
	a.done = true
	a.mu.Unlock()
	a.timer.Stop()
}
