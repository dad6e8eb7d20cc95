package main

import (
	"context"
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
// recorder is told to rejoin it at once.
func (a *app) healMeetings(sup *livekit.Supervisor, l *live.Service, rooms *room.Service, rejoin func(room string)) {
	log := a.log.With("component", "heal")
	due := make(chan struct{}, 1)
	sup.OnStateChange(func(st livekit.Status) { // synchronous, so held before LiveKit is back
		switch st.State {
		case livekit.StateUnreachable, livekit.StateRestarting, livekit.StateFailed:
			l.HoldRooms()
		case livekit.StateReady:
			if l.RoomsHeld() {
				select {
				case due <- struct{}{}:
				default:
				}
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
			for _, name := range resumed {
				rejoin(name)
			}
			if len(resumed) > 0 {
				log.Info("meetings resumed after LiveKit came back", "rooms", len(resumed), "took", time.Since(began).Round(time.Millisecond))
			}
		}
	})
}
