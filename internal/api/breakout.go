package api

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/room"
)

// EventBreakoutsChanged is published (room set) when a room's breakout rooms start or end.
const EventBreakoutsChanged = "breakouts_changed"

// BreakoutService is the breakout rooms (*room.Service).
type BreakoutService interface {
	StartBreakouts(ctx context.Context, name string, c room.Caller, p room.BreakoutPlan) (room.Breakouts, error)
	CurrentBreakouts(ctx context.Context, name string, c room.Caller) (room.Breakouts, error)
	JoinBreakout(ctx context.Context, name string, c room.Caller, req room.JoinRequest, want int) (room.Grant, error)
	EndBreakouts(ctx context.Context, name string, c room.Caller) error
}

type breakoutRoomJSON struct {
	Number     int      `json:"number"`
	LiveKit    string   `json:"livekitRoom"`
	Identities []string `json:"identities"`
}

type breakoutsJSON struct {
	Rooms     []breakoutRoomJSON `json:"rooms"`
	EndsAt    *time.Time         `json:"endsAt,omitempty"`
	StartedAt time.Time          `json:"startedAt,omitzero"`
}

type breakoutJoinJSON struct {
	Room   int        `json:"room"`
	EndsAt *time.Time `json:"endsAt,omitempty"`
}

func toBreakoutsJSON(name string, b room.Breakouts) breakoutsJSON {
	out := breakoutsJSON{EndsAt: b.EndsAt, StartedAt: b.StartedAt, Rooms: make([]breakoutRoomJSON, b.Rooms)}
	for i := range out.Rooms {
		out.Rooms[i] = breakoutRoomJSON{Number: i + 1, LiveKit: room.BreakoutRoomName(name, i+1), Identities: []string{}}
	}
	for id, n := range b.Members {
		if n >= 1 && n <= b.Rooms {
			out.Rooms[n-1].Identities = append(out.Rooms[n-1].Identities, id)
		}
	}
	for _, r := range out.Rooms {
		sort.Strings(r.Identities)
	}
	return out
}

func breakoutError(err error) error {
	switch {
	case errors.Is(err, room.ErrBreakoutsRunning):
		return httpx.Conflict("breakouts_running", "breakout rooms are already running: end them first")
	case errors.Is(err, room.ErrNoBreakouts):
		return httpx.NotFound("no_breakouts", "no breakout rooms are running in this room")
	}
	return roomError(err)
}

func (s *server) startBreakouts(c *fiber.Ctx) error {
	var b struct {
		Rooms           int            `json:"rooms"`
		Assign          map[string]int `json:"assign"`
		Random          bool           `json:"random"`
		DurationMinutes int            `json:"durationMinutes"`
		// DurationSeconds, when set, is the timer to the second (short exercises, tests).
		DurationSeconds int `json:"durationSeconds"`
	}
	if err := httpx.BindJSON(c, &b); err != nil {
		return err
	}
	if len(b.Assign) > 10000 {
		return httpx.BadRequest("invalid_field", "assign: at most 10000 people")
	}
	d := time.Duration(b.DurationMinutes) * time.Minute
	if b.DurationSeconds != 0 {
		d = time.Duration(b.DurationSeconds) * time.Second
	}
	name := c.Params("name")
	out, err := s.d.Rooms.StartBreakouts(c.UserContext(), name, callerOf(c), room.BreakoutPlan{Rooms: b.Rooms, Assign: b.Assign,
		Random: b.Random, Duration: d})
	if err != nil {
		return breakoutError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(toBreakoutsJSON(name, out))
}

func (s *server) getBreakouts(c *fiber.Ctx) error {
	name := c.Params("name")
	out, err := s.d.Rooms.CurrentBreakouts(c.UserContext(), name, callerOf(c))
	if errors.Is(err, room.ErrNoBreakouts) {
		return c.JSON(breakoutsJSON{Rooms: []breakoutRoomJSON{}}) // none running: no rooms
	}
	if err != nil {
		return breakoutError(err)
	}
	return c.JSON(toBreakoutsJSON(name, out))
}

func (s *server) endBreakouts(c *fiber.Ctx) error {
	if err := s.d.Rooms.EndBreakouts(c.UserContext(), c.Params("name"), callerOf(c)); err != nil {
		return breakoutError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// joinBreakout is the join route for where the caller belongs now: their breakout room, or
// the main room. Moderators may name a room (`room`: 0 the main room).
func (s *server) joinBreakout(c *fiber.Ctx) error {
	var b struct {
		DisplayName string `json:"displayName"`
		InviteCode  string `json:"inviteCode"`
		Room        *int   `json:"room"`
	}
	if err := httpx.BindOptionalJSON(c, &b); err != nil {
		return err
	}
	req := room.JoinRequest{DisplayName: b.DisplayName, InviteCode: b.InviteCode}
	if p := httpx.PrincipalFrom(c); p != nil {
		req.AccountName = p.Name
		if p.IsKey() {
			req.KeyID = p.KeyID
		}
	} else if req.GuestID, _ = s.guestID(c); req.GuestID == "" {
		return httpx.BadRequest("guest_unknown", "join the meeting first")
	}
	want := -1
	if b.Room != nil {
		want = *b.Room
	}
	g, err := s.d.Rooms.JoinBreakout(c.UserContext(), c.Params("name"), callerOf(c), req, want)
	if err != nil {
		return breakoutError(err)
	}
	if g.Lobby != nil {
		return httpx.Forbidden("in_lobby", "you wait in the lobby: a moderator has to let you in first")
	}
	return c.JSON(toJoinJSON(g))
}
