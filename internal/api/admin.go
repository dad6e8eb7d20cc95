package api

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
)

// overviewJSON is GET /api/admin/overview's answer.
type overviewJSON struct {
	LiveKit liveKitStatusJSON `json:"livekit"`
	Counts  countsJSON        `json:"counts"`
	Usage   usageJSON         `json:"usage"`
}

// countsJSON: users, rooms, activeRooms, participants, activeRecordings.
type countsJSON map[string]int64

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
	counts := countsJSON{"activeRooms": activeRooms, "participants": participants}
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
	return c.JSON(overviewJSON{LiveKit: toLiveKitStatusJSON(s.d.LiveKitStatus()), Counts: counts, Usage: toUsageJSON(usage)})
}

// adminRooms lists the running rooms, each with the participants in it now.
func (s *server) adminRooms(c *fiber.Ctx) error {
	rooms, err := s.d.Live.ActiveRooms(c.UserContext())
	if err != nil {
		return httpx.Unavailable("unavailable", "live state unavailable").WithCause(err)
	}
	out := httpx.List[liveRoomJSON]{Items: make([]liveRoomJSON, len(rooms))}
	for i, r := range rooms {
		out.Items[i] = toLiveRoomJSON(r)
	}
	return c.JSON(out)
}
