package auth

import (
	"context"
	"sync"
	"testing"
	"time"
)

// A burst of hashes hands its memory back once it is over, and not while a hash runs.
func TestHashingReturnsItsMemoryOnceABurstEnds(t *testing.T) {
	h := newHasher(HashParams{MemoryKiB: 64, Time: 1, Threads: 1}, 2)
	freed := make(chan int, 8)
	var running sync.WaitGroup
	h.free = func() { freed <- len(h.sem) }
	for range 4 {
		running.Add(1)
		go func() {
			defer running.Done()
			if _, err := h.hashCtx(context.Background(), "a-long-password"); err != nil {
				t.Error(err)
			}
		}()
	}
	running.Wait()
	select {
	case inFlight := <-freed:
		if inFlight != 0 {
			t.Errorf("memory returned with %d hashes running", inFlight)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("memory never returned after the burst")
	}
}
