package db

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGateBackgroundIsNotStarved: a background writer gets its turn while a foreground
// writer commits back to back, and the two never hold the gate together.
func TestGateBackgroundIsNotStarved(t *testing.T) {
	g := &Gate{}
	var holders atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a foreground writer that never pauses
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			g.Lock()
			if holders.Add(1) != 1 {
				t.Error("two writers hold the gate")
			}
			holders.Add(-1)
			g.Unlock()
		}
	}()
	for range 3 {
		g.LockBackground(5 * time.Millisecond)
		if holders.Add(1) != 1 {
			t.Error("two writers hold the gate")
		}
		holders.Add(-1)
		g.UnlockBackground()
	}
	close(stop)
	wg.Wait()
}

// TestNilGateIsANoOp: PostgreSQL has no gate; its methods do nothing.
func TestNilGateIsANoOp(t *testing.T) {
	var g *Gate
	g.Lock()
	g.Unlock()
	g.LockBackground(time.Hour) // returns at once
	g.UnlockBackground()
	if WriteGate(nil) != nil {
		t.Error("WriteGate(nil) is not nil")
	}
}
