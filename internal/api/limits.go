package api

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/ratelimit"
)

// Limits are server.rateLimits: actions a minute per client address (and per user when
// logged in), and event streams open at once. Zero turns a limit off (tests of other
// features); the configuration requires at least 1.
type Limits struct {
	GuestJoins      int
	Registrations   int
	RoomCreations   int
	RecordingStarts int
	EventStreams    int
}

// streamRetry is the Retry-After of a refused event stream: slots free when streams close,
// not on a clock, so this is only a polite pause before the client tries again.
const streamRetry = 10 * time.Second

// limiter holds the buckets and open-stream counts behind the rate-limit middleware.
type limiter struct {
	buckets *ratelimit.Buckets
	streams *ratelimit.Open
}

func newLimiter(l Limits) *limiter {
	return &limiter{buckets: ratelimit.NewBuckets(nil), streams: ratelimit.NewOpen(l.EventStreams)}
}

// perMinute limits an action to n a minute per client address and per user (when the
// route knows the caller); n = 0 lets everything through. guestsOnly leaves logged-in
// callers alone, so a logged-in join costs no more than one nil check.
func (s *server) perMinute(action, what string, n int, guestsOnly bool) fiber.Handler {
	if n <= 0 {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	r := ratelimit.PerMinute(n)
	return func(c *fiber.Ctx) error {
		p := httpx.PrincipalFrom(c)
		if guestsOnly && p != nil {
			return c.Next()
		}
		keys := []ratelimit.Key{{Name: action + "|ip|" + httpx.ClientIP(c), Rate: r}}
		if p != nil {
			keys = append(keys, ratelimit.Key{Name: action + "|user|" + p.UserID, Rate: r})
		}
		if wait, ok := s.limits.buckets.Allow(keys...); !ok {
			return httpx.TooManyRequests(wait, what)
		}
		return c.Next()
	}
}

const streamSlotKey = "parley.streamslot"

// openStreams bounds the event streams one client address and one user hold open. The slot
// passes to the stream (takeStreamSlot) and is given back when it ends; a request refused
// before streaming gives it back here.
func (s *server) openStreams() fiber.Handler {
	if s.d.HTTP.Limits.EventStreams <= 0 {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	return func(c *fiber.Ctx) error {
		keys := []string{"ip|" + httpx.ClientIP(c)}
		if p := httpx.PrincipalFrom(c); p != nil {
			keys = append(keys, "user|"+p.UserID)
		}
		release, ok := s.limits.streams.Acquire(keys...)
		if !ok {
			return httpx.TooManyRequests(streamRetry, "open event streams")
		}
		c.Locals(streamSlotKey, release)
		err := c.Next()
		if r, ok := c.Locals(streamSlotKey).(func()); ok && r != nil {
			r() // not taken by a stream
		}
		return err
	}
}

// takeStreamSlot hands the stream its slot; the stream releases it when it ends.
func takeStreamSlot(c *fiber.Ctx) func() {
	r, _ := c.Locals(streamSlotKey).(func())
	c.Locals(streamSlotKey, nil)
	if r == nil {
		return func() {}
	}
	return r
}
