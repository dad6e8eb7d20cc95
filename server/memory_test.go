package main

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley/parley/internal/live"
)

type fakeMeetings struct {
	*live.Bus
	active atomic.Int64
}

func (f *fakeMeetings) Counts(context.Context) (int64, int64, error) { return f.active.Load(), 0, nil }

// Memory goes back to the OS when the last meeting ends, not while one still runs.
func TestMemoryReturnedWhenTheLastMeetingEnds(t *testing.T) {
	m := &fakeMeetings{Bus: live.NewBus()}
	m.active.Store(1)
	freed := make(chan int64, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- returnMemoryWhenIdle(ctx, m, func() { freed <- m.active.Load() }) }()
	for m.Subscribers() == 0 {
		time.Sleep(time.Millisecond)
	}
	m.Publish(live.Event{Type: live.EventRoomFinished, Room: "a"}) // one room still runs
	m.active.Store(0)
	m.Publish(live.Event{Type: live.EventRoomFinished, Room: "b"}) // the last one
	select {
	case active := <-freed:
		if active != 0 {
			t.Errorf("memory returned with %d rooms running", active)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("memory not returned after the last meeting")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
