// Package api is Parley's HTTP layer (the reference is docs/API.md): every route is listed
// in routes, one file per resource, and each handler binds, calls a domain service and
// responds. Every response shape is declared here (dto.go and the resource files); domain
// packages never import Fiber and carry no json tags. This package talks to them through
// the narrow interfaces declared beside the handlers that use them.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/obs"
	"github.com/prometheus/client_golang/prometheus"
)

// Deps are what the routes call. Every service is required: New refuses a missing one, and
// tests pass fakes.
type Deps struct {
	Log      *slog.Logger         // default: discard
	Registry *prometheus.Registry // default: a new one
	HTTP     HTTPOptions

	Auth       AuthService
	SSO        SSOService
	Recovery   RecoveryService
	Passkeys   PasskeyService
	Rooms      RoomService
	Live       LiveService
	Recordings RecordingService
	Webhooks   WebhookService
	// Keys are the API keys (apikeys.go); Audit records audited actions and reads them back
	// (audit.go, audittrail.go).
	Keys  KeyService
	Audit AuditService
	// LiveKitStatus is the supervisor's view of LiveKit, for the admin overview.
	LiveKitStatus func() livekit.Status
	// Checks are the readiness checks of /readyz by name ("database", "livekit"): "ok" or a
	// reason, and whether it passed.
	Checks map[string]func(ctx context.Context) (string, bool)
	// Doctor runs the deployment checks of GET /api/admin/doctor.
	Doctor DoctorService
	// Static serves the web app for every GET no route claims (SPA fallback).
	Static fiber.Handler
	// Signalling carries LiveKit's signalling paths (/rtc...) on Parley's port
	// (*edge.SignalProxy), or answers 404 (edge.NotProxied) when browsers go elsewhere.
	Signalling SignallingProxy
}

// HTTPOptions tune the Fiber app.
type HTTPOptions struct {
	BodyLimit int
	// AccessLog receives one line per request; nil: no access log.
	AccessLog *obs.AccessLog
	// TrustedProxies are the IPs and CIDRs whose X-Forwarded-For names the client.
	TrustedProxies []string
	Limits         Limits
	Metrics        MetricsAccess
	Web            WebOptions
	// GuestKey signs the guest cookie (parley_guest); empty: a random key, so guest ids
	// do not outlive the process.
	GuestKey []byte
}

// New builds the Fiber app with the shared middleware and every route.
func New(d Deps) (*fiber.App, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	proxies, err := httpx.ParseProxies(d.HTTP.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	app := fiber.New(fiber.Config{
		ErrorHandler:          httpx.ErrorHandler(d.Log),
		BodyLimit:             d.HTTP.BodyLimit,
		DisableStartupMessage: true,
		// Without Immutable, c.Params/Query/Get return strings that alias buffers Fiber reuses
		// for the next request; a room name kept as a cache key then changed under the map.
		// Copying costs a few small allocations a request and removes that class of bug.
		Immutable:   true,
		ReadTimeout: 30 * time.Second,
		IdleTimeout: 120 * time.Second,
	})
	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	// The client address is resolved first: the access log and every limit key on it.
	app.Use(proxies.ResolveClientIP(), noSniff, requestID(), observe(newMetrics(reg), d.HTTP.AccessLog), recoverPanics(d.Log))
	s := &server{d: d, reg: reg, limits: newLimiter(d.HTTP.Limits), guests: newGuestIDs(d.HTTP.GuestKey)}
	s.routes(app)
	return app, nil
}

// noSniff keeps browsers from reading any answer (a JSON error, a recording) as another type.
func noSniff(c *fiber.Ctx) error {
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Next()
}

// check names the first missing service.
func (d Deps) check() error {
	for _, m := range []struct {
		name    string
		missing bool
	}{
		{"Auth", d.Auth == nil}, {"SSO", d.SSO == nil}, {"Recovery", d.Recovery == nil}, {"Passkeys", d.Passkeys == nil}, {"Rooms", d.Rooms == nil}, {"Live", d.Live == nil},
		{"Recordings", d.Recordings == nil}, {"Webhooks", d.Webhooks == nil}, {"LiveKitStatus", d.LiveKitStatus == nil},
		{"Checks", d.Checks == nil}, {"Doctor", d.Doctor == nil}, {"Static", d.Static == nil},
		{"Signalling", d.Signalling == nil}, {"Keys", d.Keys == nil}, {"Audit", d.Audit == nil},
	} {
		if m.missing {
			return errors.New("api: Deps." + m.name + " is required")
		}
	}
	return nil
}

type server struct {
	d      Deps
	reg    *prometheus.Registry
	mw     httpx.Middlewares
	limits *limiter
	guests guestIDs
}
