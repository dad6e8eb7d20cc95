package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/room"
)

// wireLive builds the live state: the webhook endpoint, the participants list, the event
// bus, the admin overview and the reconciler (a worker, re-run on every LiveKit restart).
func (a *app) wireLive(ctx context.Context) error {
	// With a LiveKit cluster's Redis the reconciler also reads LiveKit's node registry: a
	// dead node's rooms stay listed by the RoomService, and only Redis shows the node is gone.
	var nodes live.NodeHealth
	if r := a.cfg.LiveKit.Redis; r.Address != "" {
		rn, err := live.NewRedisNodes(live.RedisNodesOptions{Address: r.Address, Password: r.Password, DB: r.DB, Now: time.Now})
		if err != nil {
			return fmt.Errorf("livekit.redis: %w", err)
		}
		nodes = rn
		a.closers = append(a.closers, func(context.Context) error { return rn.Close() })
	}
	svc, err := live.New(live.Options{
		DB: a.db, APIKey: a.cfg.LiveKit.APIKey, APISecret: a.cfg.LiveKit.APISecret,
		ReconcileInterval: time.Duration(a.cfg.LiveKit.ReconcileInterval),
		Registry:          a.reg, Log: a.log, Now: time.Now, Nodes: nodes,
	})
	if err != nil {
		return err
	}
	a.live = svc
	if a.lkRoom != nil {
		svc.SetLiveKit(a.lkRoom)
	}
	a.deps.Live, a.deps.Webhooks, a.deps.Admin = svc, svc, svc
	// Rooms are wired after this module: resolve the moderator check at request time.
	a.deps.RoomModerator = func(ctx context.Context, name string, p *httpx.Principal) (bool, error) {
		if a.rooms == nil {
			return false, errors.New("live: rooms service not wired")
		}
		acc, err := a.rooms.Access(ctx, name, room.Caller{UserID: p.UserID, Admin: p.IsAdmin()})
		if errors.Is(err, room.ErrNotFound) {
			return false, httpx.NotFound("room_not_found", "room %q does not exist", name)
		}
		if err != nil {
			return false, fmt.Errorf("room %q: access: %w", name, err)
		}
		return acc.Moderator, nil
	}
	a.workers = append(a.workers, svc.RunReconciler)
	a.workers = append(a.workers, svc.RunRelay) // PostgreSQL: events reach every instance's streams
	// Open event streams end when shutdown begins (ctx here is the signal context), so they
	// do not hold the HTTP drain.
	a.starters = append(a.starters, func(ctx context.Context) error {
		go func() { <-ctx.Done(); svc.CloseSubscribers() }()
		return nil
	})
	a.closers = append(a.closers, svc.Close)
	return nil
}

// liveParticipants adapts the live state to the rooms routes' participant list.
type liveParticipants struct{ svc *live.Service }

// Participants lists the room's participants in API.md's shape.
func (l liveParticipants) Participants(ctx context.Context, name string) (any, error) {
	return l.svc.Participants(ctx, name)
}
