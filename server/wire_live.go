package main

import (
	"context"
	"fmt"
	"time"

	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/outbox"
)

// wireLive builds the live state (the webhook endpoint, participants, the event bus, the
// admin figures) and its reconciler, a worker re-run on every LiveKit (re)start. Every
// supervisor state change is a livekit_state event.
func (a *app) wireLive(sup *livekit.Supervisor, hooks *outbox.Service) (*live.Service, error) {
	// With a LiveKit cluster's Redis the reconciler also reads LiveKit's node registry: a
	// dead node's rooms stay listed by the RoomService, and only Redis shows the node is gone.
	var nodes live.NodeHealth
	if r := a.cfg.LiveKit.Redis; r.Address != "" {
		rn, err := live.NewRedisNodes(live.RedisNodesOptions{Address: r.Address, Password: r.Password, DB: r.DB, Now: time.Now})
		if err != nil {
			return nil, fmt.Errorf("livekit.redis: %w", err)
		}
		nodes = rn
		a.closers = append(a.closers, func(context.Context) error { return rn.Close() })
	}
	svc, err := live.New(live.Options{
		DB: a.db, APIKey: a.cfg.LiveKit.APIKey, APISecret: a.cfg.LiveKit.APISecret,
		LiveKit: sup.RoomClient(), Nodes: nodes, Outbox: liveOutbox{hooks},
		ReconcileInterval: time.Duration(a.cfg.LiveKit.ReconcileInterval),
		Registry:          a.reg, Log: a.log, Now: time.Now,
	})
	if err != nil {
		return nil, err
	}
	sup.OnReady(svc.TriggerReconcile) // a (re)started LiveKit lost its rooms
	sup.OnStateChange(func(st livekit.Status) {
		svc.Publish(live.Event{Type: live.EventLiveKitState, At: time.Now().UTC(), Data: map[string]any{
			"state": st.State, "reason": st.Reason, "restarts": st.Restarts, "version": st.Version}})
	})
	a.workers = append(a.workers, svc.RunReconciler)
	a.workers = append(a.workers, svc.RunRelay) // PostgreSQL: events reach every instance's streams
	a.workers = append(a.workers, func(ctx context.Context) error { return returnMemoryWhenIdle(ctx, svc, freeOSMemory) })
	// Open event streams end when shutdown begins (ctx here is the signal context), so they
	// do not hold the HTTP drain.
	a.starters = append(a.starters, func(ctx context.Context) error {
		go func() { <-ctx.Done(); svc.CloseSubscribers() }()
		return nil
	})
	a.closers = append(a.closers, svc.Close)
	return svc, nil
}
