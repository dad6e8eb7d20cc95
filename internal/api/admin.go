package api

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/room"
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
	out := overviewJSON{LiveKit: toLiveKitStatusJSON(s.d.LiveKitStatus()), Counts: counts, Usage: toUsageJSON(usage)}
	titles := s.roomTitles(ctx, len(out.Usage.ByRoom), func(i int) string { return out.Usage.ByRoom[i].Key })
	for i := range out.Usage.ByRoom {
		out.Usage.ByRoom[i].Title = titles[out.Usage.ByRoom[i].Key]
	}
	return c.JSON(out)
}

// adminRooms lists the running rooms, each with the participants in it now.
func (s *server) adminRooms(c *fiber.Ctx) error {
	rooms, err := s.d.Live.ActiveRooms(c.UserContext())
	if err != nil {
		return httpx.Unavailable("unavailable", "live state unavailable").WithCause(err)
	}
	titles := s.roomTitles(c.UserContext(), len(rooms), func(i int) string { return rooms[i].Name })
	out := httpx.List[liveRoomJSON]{Items: make([]liveRoomJSON, len(rooms))}
	for i, r := range rooms {
		out.Items[i] = toLiveRoomJSON(r, titles[r.Name])
	}
	return c.JSON(out)
}

// roomTitles finds the titles of the named rooms, so that lists show a room by its title, not
// its random code. A room that is gone (or cannot be read) has no title; clients show the name.
// The callers list only what they may already see, so the lookup itself checks no access.
func (s *server) roomTitles(ctx context.Context, n int, nameOf func(i int) string) map[string]string {
	titles := make(map[string]string, n)
	for i := range n {
		name := nameOf(i)
		if _, done := titles[name]; done {
			continue
		}
		titles[name] = ""
		if acc, err := s.d.Rooms.Access(ctx, name, room.Caller{Admin: true}); err == nil {
			titles[name] = acc.Room.Title
		}
	}
	return titles
}
