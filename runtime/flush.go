package runtime

import (
	"net/http"
	"sync"
	"time"
)

// flushDelay is how long a guest's flush of the response body may wait for more writes.
const flushDelay = time.Millisecond

// coalescingWriter batches the guest's flushes: blocking-write-and-flush after every small
// write would cost one network write (and one chunk) each. A flush is carried out at most
// flushDelay later, or at once when the handler returns, so streaming guests still stream
// while a handler that writes three pieces and returns sends one packet. It must be finished
// before the handler returns: after that the ResponseWriter may not be touched.
type coalescingWriter struct {
	w     http.ResponseWriter
	mu    sync.Mutex
	timer *time.Timer
	done  bool
}

func (c *coalescingWriter) Header() http.Header { return c.w.Header() }

func (c *coalescingWriter) WriteHeader(code int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.WriteHeader(code)
}

func (c *coalescingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w.Write(p)
}

func (c *coalescingWriter) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done || c.timer != nil {
		return
	}
	c.timer = time.AfterFunc(flushDelay, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.timer = nil
		if !c.done {
			if f, ok := c.w.(http.Flusher); ok {
				f.Flush()
			}
		}
	})
}

// finish stops pending flushes; net/http flushes what is left when the handler returns.
func (c *coalescingWriter) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}
