package main

import (
	"context"
	"time"

	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/room"
)

// wireRooms builds the room service: rooms, join tokens and moderation.
func (a *app) wireRooms(ctx context.Context) error {
	lk := a.lkRoom
	if lk == nil { // wireLiveKit sets a.lkRoom; without it, talk to internalHost directly
		lk = livekit.NewRoomClient(a.cfg.LiveKit.InternalHost, a.cfg.LiveKit.APIKey, a.cfg.LiveKit.APISecret, nil, 0)
	}
	// The live state kept by webhooks answers who is in a room; without it, LiveKit does.
	var state room.Live = room.LiveKitState{LK: lk}
	var lister interface {
		Participants(ctx context.Context, room string) (any, error)
	} = room.LiveKitState{LK: lk}
	if a.live != nil {
		state, lister = a.live, liveParticipants{a.live}
	}
	svc, err := room.New(room.Config{
		APIKey: a.cfg.LiveKit.APIKey, APISecret: a.cfg.LiveKit.APISecret, URL: a.cfg.LiveKit.Host,
		TokenTTL:         time.Duration(a.cfg.LiveKit.TokenTTL),
		EmptyTimeout:     time.Duration(a.cfg.LiveKit.EmptyTimeout),
		DepartureTimeout: time.Duration(a.cfg.LiveKit.DepartureTimeout),
	}, a.db, lk, state, a.log, time.Now)
	if err != nil {
		return err
	}
	a.rooms = svc
	a.deps.Rooms = svc
	a.deps.Participants = lister
	if a.deps.Counters == nil {
		a.deps.Counters = map[string]func(context.Context) (int64, error){}
	}
	a.deps.Counters["rooms"] = svc.Count
	// A (re)started LiveKit has no rooms: forget which ones join already created.
	if a.lk != nil {
		a.lk.OnReady(svc.ForgetLiveKitRooms)
	}
	if a.live != nil {
		a.workers = append(a.workers, func(ctx context.Context) error { return forgetFinishedRooms(ctx, a.live, svc) })
	}
	return nil
}

// forgetFinishedRooms tells the room service when LiveKit closed a room, so the next join
// creates it again. A subscription dropped for falling behind forgets every room.
func forgetFinishedRooms(ctx context.Context, l *live.Service, svc *room.Service) error {
	for {
		events, cancel := l.SubscribeTypes(256, live.EventRoomFinished)
		if err := drainFinished(ctx, events, svc); err != nil {
			cancel()
			return nil // shutting down
		}
		cancel()
		svc.ForgetLiveKitRooms()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// drainFinished handles events until the subscription ends (nil) or ctx does (its error).
func drainFinished(ctx context.Context, events <-chan live.Event, svc *room.Service) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			if ev.Type == live.EventRoomFinished {
				svc.RoomFinished(ev.Room)
			}
		}
	}
}
