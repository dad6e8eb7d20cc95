package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/room"
)

// wireGate builds the room gatekeeper, which judges participants LiveKit already admitted
// (on their join webhook and every reconcile pass), and returns the auth service as the
// HTTP layer uses it: an account change reaches the meetings that account is in.
func (a *app) wireGate(sup *livekit.Supervisor, authSvc *auth.Service, l *live.Service, rooms *room.Service) (*gatedAuth, error) {
	gk, err := room.NewGatekeeper(rooms, accountStates{authSvc}, l, sup.RoomClient())
	if err != nil {
		return nil, err
	}
	l.SetGate(gk)
	return &gatedAuth{Service: authSvc, gate: gk, log: a.log}, nil
}

// accountStates answers the gatekeeper's question from the auth service.
type accountStates struct{ auth *auth.Service }

// UserState: a deleted account is not active.
func (s accountStates) UserState(ctx context.Context, userID string) (active, admin bool, err error) {
	u, err := s.auth.User(ctx, userID)
	if errors.Is(err, auth.ErrUserNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	return !u.Disabled, u.Role == auth.RoleAdmin, nil
}

// gatedAuth is the auth service whose account changes (disabled, demoted) are applied at
// once to the user's participants in every live room.
type gatedAuth struct {
	*auth.Service
	gate interface {
		RecheckUser(ctx context.Context, userID string) error
	}
	log *slog.Logger
}

// UpdateUser changes the account, then re-judges its participants; the change itself is
// done even when LiveKit cannot be reached (the reconciler then applies it within a pass).
func (g *gatedAuth) UpdateUser(ctx context.Context, id string, p auth.UserPatch) (auth.User, error) {
	u, err := g.Service.UpdateUser(ctx, id, p)
	if err != nil {
		return u, err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := g.gate.RecheckUser(rctx, id); err != nil {
		g.log.Warn("account changed; its live participants are re-checked on the next reconcile pass", "user_id", id, "err", err)
	}
	return u, nil
}
