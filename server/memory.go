package main

import (
	"context"

	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/memtrim"
)

// meetingsState is what returnMemoryWhenIdle watches (*live.Service).
type meetingsState interface {
	SubscribeTypes(buf int, types ...string) (<-chan live.Event, func())
	Closed() <-chan struct{}
	Counts(ctx context.Context) (activeRooms, participants int64, err error)
}

// returnMemoryWhenIdle hands the memory the meetings used back to the OS once the last of
// them has ended, instead of over the minutes the Go runtime takes on its own: a small
// server is idle most of the day, and its size then is the one that counts. It costs one
// full collection of a small heap per time the server falls idle.
func returnMemoryWhenIdle(ctx context.Context, m meetingsState, free func()) error {
	for {
		events, cancel := m.SubscribeTypes(16, live.EventRoomFinished)
		for open := true; open; {
			select {
			case <-ctx.Done():
				cancel()
				return nil
			case _, open = <-events:
				if rooms, _, err := m.Counts(ctx); open && err == nil && rooms == 0 {
					free()
				}
			}
		}
		cancel()
		select {
		case <-m.Closed():
			return nil
		case <-ctx.Done():
			return nil
		default: // dropped for falling behind: subscribe again
		}
	}
}

// freeOSMemory is memtrim.Release, named for the wiring.
func freeOSMemory() { memtrim.Release() }
