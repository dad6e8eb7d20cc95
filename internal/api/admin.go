package api

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/live"
)

// adminOverview: LiveKit's state, counts and usage over the last ?days= (default 30).
func (s *server) adminOverview(c *fiber.Ctx) error {
	days := 30
	if v := c.Query("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 366 {
			return httpx.FieldError("days", "must be a whole number from 1 to 366")
		}
		days = n
	}
	ctx := c.UserContext()
	activeRooms, participants, err := s.d.Live.Counts(ctx)
	if err != nil {
		return httpx.Unavailable("unavailable", "live state unavailable").WithCause(err)
	}
	counts := fiber.Map{"activeRooms": activeRooms, "participants": participants}
	for name, count := range map[string]func(context.Context) (int64, error){
		"users": s.d.Auth.CountUsers, "rooms": s.d.Rooms.Count, "activeRecordings": s.d.Recordings.ActiveCount,
	} {
		n, err := count(ctx)
		if err != nil { // the overview still answers; this count shows 0
			s.d.Log.Warn("admin overview: counter failed", "counter", name, "err", err)
			n = 0
		}
		counts[name] = n
	}
	usage, err := s.d.Live.Usage(ctx, time.Now().UTC().AddDate(0, 0, -days))
	if err != nil {
		return httpx.Unavailable("unavailable", "usage unavailable").WithCause(err)
	}
	st := s.d.LiveKitStatus()
	lk := fiber.Map{"mode": st.Mode, "state": st.State, "version": st.Version, "url": st.URL, "restarts": st.Restarts}
	if !st.StartedAt.IsZero() {
		lk["startedAt"] = st.StartedAt.UTC()
	}
	if st.Reason != "" {
		lk["reason"] = st.Reason
	}
	return c.JSON(fiber.Map{"livekit": lk, "counts": counts, "usage": usage})
}

// adminRooms lists the running rooms, each with the participants in it now.
func (s *server) adminRooms(c *fiber.Ctx) error {
	rooms, err := s.d.Live.ActiveRooms(c.UserContext())
	if err != nil {
		return httpx.Unavailable("unavailable", "live state unavailable").WithCause(err)
	}
	return c.JSON(httpx.List[live.RoomState]{Items: rooms})
}
