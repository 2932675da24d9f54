package testtool

import (
	"strings"
	"sync"
)

// LogBuffer collects a log written from several goroutines (a server's stdout and stderr, a
// host's logger) for a test to read.
type LogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
