package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/room"
)

// healMeetings brings meetings through a LiveKit that stops answering or restarts. While
// it is down the live state holds its rooms (a restarted LiveKit lists none, and the
// reconciler must not end those meetings and their recordings); once it answers again,
// every running meeting's LiveKit room is created again with its settings before the
// reconciler looks and before clients come back with fresh join tokens, and the built-in
// recorder is told to rejoin it at once. The gate (see liveKitGate) is open while LiveKit
// answers and its meetings are in place.
func (a *app) healMeetings(sup *livekit.Supervisor, l *live.Service, rooms *room.Service, gate *liveKitGate, rejoin func(room string)) {
	log := a.log.With("component", "heal")
	due := make(chan struct{}, 1)
	sup.OnStateChange(func(st livekit.Status) { // synchronous, so held before LiveKit is back
		switch st.State {
		case livekit.StateUnreachable, livekit.StateRestarting, livekit.StateFailed, livekit.StateStopped:
			gate.set(false)
			if st.State != livekit.StateStopped {
				l.HoldRooms()
			}
		case livekit.StateReady:
			if !l.RoomsHeld() {
				gate.set(true)
				return
			}
			select {
			case due <- struct{}{}:
			default:
			}
		}
	})
	a.workers = append(a.workers, func(ctx context.Context) error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-due:
			}
			rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			began := time.Now()
			resumed, err := l.ResumeRooms(rctx, rooms.RecreateLiveKitRoom)
			cancel()
			if err != nil && ctx.Err() == nil {
				log.Error("resuming meetings after LiveKit came back failed", "err", err)
			}
			if !l.RoomsHeld() && sup.Status().State == livekit.StateReady { // not lost again meanwhile
				gate.set(true)
			}
			for _, name := range resumed {
				rejoin(name)
			}
			if len(resumed) > 0 {
				log.Info("meetings resumed after LiveKit came back", "rooms", len(resumed), "took", time.Since(began).Round(time.Millisecond))
			}
		}
	})
}

// holdMax bounds how long a join or a signalling request waits for LiveKit to come back
// before it is refused with 503: a crash is healed well within it, a crash loop's backoff
// is not, and the client then retries on its own schedule.
const holdMax = 10 * time.Second

// errLiveKitAway is a held request given up on.
var errLiveKitAway = errors.New("LiveKit did not come back in time")

// liveKitGate is open while LiveKit answers and every running meeting's LiveKit room exists.
// Joins and signalling requests that arrive while it is closed (LiveKit restarting, its
// rooms being created again) wait for it to open instead of being refused, so a client's
// first reconnect after a crash is carried to the new LiveKit the moment it can take it.
type liveKitGate struct {
	mu     sync.Mutex
	open   bool
	opened chan struct{} // closed while open; a new one each time the gate closes
}

func newLiveKitGate() *liveKitGate { return &liveKitGate{opened: make(chan struct{})} }

func (g *liveKitGate) set(open bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if open == g.open {
		return
	}
	g.open = open
	if open {
		close(g.opened)
	} else {
		g.opened = make(chan struct{})
	}
}

// wait returns nil once the gate is open, or an error after holdMax or when ctx ends.
func (g *liveKitGate) wait(ctx context.Context) error {
	g.mu.Lock()
	opened := g.opened
	g.mu.Unlock()
	select {
	case <-opened:
		return nil
	default:
	}
	t := time.NewTimer(holdMax)
	defer t.Stop()
	select {
	case <-opened:
		return nil
	case <-t.C:
		return errLiveKitAway
	case <-ctx.Done():
		return ctx.Err()
	}
}
