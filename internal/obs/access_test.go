package obs

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestAccessLogWritesEveryLineByClose(t *testing.T) {
	var out lockedBuf
	a := NewAccessLog(&out, "info", "json", prometheus.NewRegistry())
	for i := range 100 {
		a.Log(Access{Time: time.Now(), Method: "GET", Path: "/api/x", Status: 200 + i%2, IP: "192.0.2.1", RequestID: "r"})
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), `"path":"/api/x"`); n != 100 {
		t.Fatalf("%d lines written by Close, want 100:\n%s", n, out.String())
	}
	a.Log(Access{Method: "GET", Path: "/after"}) // after Close: still accepted, no panic
}

func TestAccessLogOffAboveInfo(t *testing.T) {
	var out lockedBuf
	a := NewAccessLog(&out, "warn", "text", nil)
	a.Log(Access{Method: "GET", Path: "/x"})
	if err := a.Close(context.Background()); err != nil || out.String() != "" {
		t.Fatalf("level warn wrote %q (%v)", out.String(), err)
	}
}

// blockedWriter holds every write until released, as a stalled log pipe would.
type blockedWriter struct{ release chan struct{} }

func (b blockedWriter) Write(p []byte) (int, error) { <-b.release; return len(p), nil }

func TestAccessLogDropsRatherThanBlocks(t *testing.T) {
	w := blockedWriter{release: make(chan struct{})}
	a := NewAccessLog(w, "info", "text", nil)
	// The writer goroutine holds at most one line (and its buffer far more than one line's
	// bytes before writing), so queue+2 lines cannot all be held: some must be dropped, and
	// none of these calls may block.
	for range accessQueue + 2000 {
		a.Log(Access{Method: "GET", Path: strings.Repeat("p", 64)})
	}
	if testutil.ToFloat64(a.dropped) == 0 {
		t.Fatal("a full queue dropped nothing")
	}
	close(w.release)
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A line reaches the log without Close: the buffer is flushed soon after a line is queued.
func TestAccessLogFlushesWithoutClose(t *testing.T) {
	var out lockedBuf
	a := NewAccessLog(&out, "info", "text", nil)
	a.Log(Access{Time: time.Now(), Method: "GET", Path: "/soon", Status: 200})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "path=/soon") {
		if time.Now().After(deadline) {
			t.Fatal("the line never reached the log")
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
}
