// Package api is Parley's HTTP layer (shared/API.md): every route is listed in Routes, one
// file per resource, and each handler binds, calls a domain service and responds. Domain
// packages never import Fiber; this package talks to them through the narrow interfaces
// declared beside the handlers that use them.
package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
	"github.com/prometheus/client_golang/prometheus"
)

// Deps are the services the routes call. A nil service answers 501 on its routes, so a
// partly wired server (and unit tests) still run.
type Deps struct {
	Log            *slog.Logger
	Registry       *prometheus.Registry
	BodyLimit      int
	AccessLog      bool
	ProxyHeader    string // e.g. X-Forwarded-For when behind trusted proxies
	TrustedProxies []string
	// Ready checks, by name, for /readyz ("database", "livekit"): "ok" or a reason.
	Checks map[string]func(ctx context.Context) (string, bool)

	Auth       AuthService
	Users      UserAdmin
	Rooms      RoomService
	Live       LiveService
	Webhooks   WebhookService
	Recordings RecordingService
	RoomAccess RoomAccess // who owns/moderates a room, for the recording routes (*room.Service)
	Admin      AdminService
	// Counters feed GET /api/admin/overview's counts: "users", "rooms", "activeRecordings"
	// (each module wires its own).
	Counters map[string]func(ctx context.Context) (int64, error)
	// RoomModerator says whether p moderates the room (owner, listed moderator, admin), for GET /api/rooms/{name}/events.
	RoomModerator func(ctx context.Context, room string, p *httpx.Principal) (bool, error)
	// Static serves the web app for every GET no route claims (SPA fallback).
	Static fiber.Handler

	// Participants lists a room's live participants (the live state).
	Participants ParticipantLister
}

// New builds the Fiber app with the shared middleware and every route.
func New(d Deps) *fiber.App {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	app := fiber.New(fiber.Config{
		ErrorHandler:          httpx.ErrorHandler(d.Log),
		BodyLimit:             d.BodyLimit,
		DisableStartupMessage: true,
		// Without Immutable, c.Params/Query/Get return strings that alias buffers Fiber reuses
		// for the next request; a room name kept as a cache key then changed under the map.
		// Copying costs a few small allocations a request and removes that class of bug.
		Immutable:               true,
		ReadTimeout:             30 * time.Second,
		IdleTimeout:             120 * time.Second,
		ProxyHeader:             d.ProxyHeader,
		EnableTrustedProxyCheck: len(d.TrustedProxies) > 0,
		TrustedProxies:          d.TrustedProxies,
	})
	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	app.Use(requestID(), observe(d.Log, newMetrics(reg), d.AccessLog), recoverPanics(d.Log))
	s := &server{d: d, reg: reg}
	s.routes(app)
	return app
}

type server struct {
	d   Deps
	reg *prometheus.Registry
	mw  httpx.Middlewares
}

// notImplemented answers routes whose service is not wired.
func notImplemented(c *fiber.Ctx) error {
	return httpx.NewError(fiber.StatusNotImplemented, "not_implemented", "%s %s is not available in this build", c.Method(), c.Route().Path)
}
