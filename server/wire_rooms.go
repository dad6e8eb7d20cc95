package main

import (
	"context"
	"time"

	"github.com/parley/parley/internal/api"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/room"
)

// wireRooms builds the room service (rooms, join tokens and moderation) on LiveKit's
// RoomService and the live state.
func (a *app) wireRooms(sup *livekit.Supervisor, l *live.Service, gate *liveKitGate) (*room.Service, error) {
	svc, err := room.New(room.Config{
		APIKey: a.cfg.LiveKit.APIKey, APISecret: a.cfg.LiveKit.APISecret, URL: a.cfg.LiveKit.Host,
		TokenTTL:         time.Duration(a.cfg.LiveKit.TokenTTL),
		EmptyTimeout:     time.Duration(a.cfg.LiveKit.EmptyTimeout),
		DepartureTimeout: time.Duration(a.cfg.LiveKit.DepartureTimeout),
		WaitLiveKit:      gate.wait,
	}, a.db, sup.RoomClient(), l, a.log, time.Now)
	if err != nil {
		return nil, err
	}
	// Lobby changes are live events: moderators' streams and the waiting people's tickets
	// follow them, on every instance (the live relay carries them).
	err = svc.UseLobby(room.LobbyOptions{Timeout: time.Duration(a.cfg.Rooms.LobbyTimeout), Presence: moderatorPresence{l},
		Notify: func(name string) {
			l.Publish(live.Event{Type: api.EventLobbyChanged, Room: name, At: time.Now().UTC()})
		}})
	if err != nil {
		return nil, err
	}
	err = svc.UseBreakouts(room.BreakoutOptions{Attendees: attendees{l}, Data: sup.RoomClient(),
		Notify: func(name string) {
			l.Publish(live.Event{Type: api.EventBreakoutsChanged, Room: name, At: time.Now().UTC()})
		}})
	if err != nil {
		return nil, err
	}
	a.workers = append(a.workers, svc.RunBreakoutTimer)
	// A (re)started LiveKit has no rooms: forget which ones join already created.
	sup.OnReady(svc.ForgetLiveKitRooms)
	a.workers = append(a.workers, func(ctx context.Context) error { return forgetFinishedRooms(ctx, l, svc) })
	return svc, nil
}

// moderatorPresence answers the lobby from the live state: a moderator is present when a
// participant with the owner or moderator role is in the meeting.
type moderatorPresence struct{ l *live.Service }

func (m moderatorPresence) ModeratorPresent(ctx context.Context, name string) (bool, error) {
	ps, err := m.l.Participants(ctx, name)
	if err != nil {
		return false, err
	}
	for _, p := range ps {
		if p.State != "left" && (p.Role == room.RoleOwner || p.Role == room.RoleModerator) {
			return true, nil
		}
	}
	return false, nil
}

// attendees lists who is in a meeting now, from the live state.
type attendees struct{ l *live.Service }

func (m attendees) Attendees(ctx context.Context, name string) ([]room.Attendee, error) {
	ps, err := m.l.Participants(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []room.Attendee
	for _, p := range ps {
		if p.State != "left" {
			out = append(out, room.Attendee{Identity: p.Identity, Name: p.Name, Role: p.Role})
		}
	}
	return out, nil
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
