package api

import (
	"bufio"
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/room"
)

// LiveService is the live state (*live.Service): the webhook endpoint, participants, the
// admin figures and the event bus.
type LiveService interface {
	// Ingest verifies and applies one webhook, returning once the change is durable.
	Ingest(ctx context.Context, authorization string, body []byte) (live.IngestResult, error)
	Participants(ctx context.Context, room string) ([]live.Participant, error)
	Counts(ctx context.Context) (activeRooms, participants int64, err error)
	Usage(ctx context.Context, since time.Time) (live.Usage, error)
	ActiveRooms(ctx context.Context) ([]live.RoomState, error)
	// Subscribe returns state changes; the channel closes when the subscriber falls behind
	// or the server shuts down.
	Subscribe(buf int) (<-chan live.Event, func())
}

// sseBuffer is how many events a stream may fall behind before it is dropped.
const sseBuffer = 256

// roomEvents streams one room's state changes to its moderators. The stream follows the
// room it opened on, by id: deleting the room (or re-creating its name) closes it.
func (s *server) roomEvents(c *fiber.Ctx) error {
	name := c.Params("name") // safe past the handler: the app is Immutable
	p := *httpx.PrincipalFrom(c)
	moderates := func(ctx context.Context, p auth.Principal) (string, error) {
		acc, err := s.d.Rooms.Access(ctx, name, room.Caller{UserID: p.UserID, Admin: p.IsAdmin()})
		if err != nil {
			return "", roomError(err)
		}
		if !acc.Moderator {
			return "", httpx.Forbidden("forbidden", "only the room's moderators may follow its events")
		}
		return acc.Room.ID, nil
	}
	roomID, err := moderates(c.UserContext(), p)
	if err != nil {
		return err
	}
	return s.stream(c, p, func(e live.Event) bool { return e.Room == name }, func(ctx context.Context, p auth.Principal) error {
		id, err := moderates(ctx, p)
		if err == nil && id != roomID {
			err = errors.New("the room was deleted and its name taken again")
		}
		return err
	})
}

// adminEvents streams every state change to administrators, while they are.
func (s *server) adminEvents(c *fiber.Ctx) error {
	return s.stream(c, *httpx.PrincipalFrom(c), nil, func(_ context.Context, p auth.Principal) error {
		if !p.IsAdmin() {
			return errors.New("no longer an administrator")
		}
		return nil
	})
}

// stream serves Server-Sent Events until the client goes, falls behind, the server stops
// or the caller may no longer follow it. The subscription is taken before the handler
// returns so no event is missed. Before each batch of events and each heartbeat, the
// principal is read again (session, disabled flag, role) and allowed must still pass: what
// the stream was opened with is never trusted for longer than one event.
func (s *server) stream(c *fiber.Ctx, p auth.Principal, keep func(live.Event) bool, allowed func(context.Context, auth.Principal) error) error {
	release := takeStreamSlot(c)
	events, cancel := s.d.Live.Subscribe(sseBuffer)
	check := func(ctx context.Context) error {
		cur, err := s.recheck(ctx, p) // a user's session or an API key (apikeys.go)
		if err != nil {
			return err
		}
		return allowed(ctx, cur)
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderConnection, "keep-alive")
	c.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer release()
		defer cancel()
		_ = writeSSE(context.Background(), w, events, keep, check, heartbeatInterval)
	})
	return nil
}
