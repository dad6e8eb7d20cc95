package api

import (
	"bufio"
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/live"
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

// roomEvents streams one room's state changes to its moderators.
func (s *server) roomEvents(c *fiber.Ctx) error {
	name := c.Params("name") // safe past the handler: the app is Immutable
	if !httpx.PrincipalFrom(c).IsAdmin() {
		acc, err := s.d.Rooms.Access(c.UserContext(), name, callerOf(c))
		if err != nil {
			return roomError(err)
		}
		if !acc.Moderator {
			return httpx.Forbidden("forbidden", "only the room's moderators may follow its events")
		}
	}
	return s.stream(c, func(e live.Event) bool { return e.Room == name })
}

// adminEvents streams every state change to administrators.
func (s *server) adminEvents(c *fiber.Ctx) error {
	return s.stream(c, nil)
}

// stream serves Server-Sent Events until the client goes, falls behind or the server stops.
// The subscription is taken before the handler returns so no event is missed.
func (s *server) stream(c *fiber.Ctx, keep func(live.Event) bool) error {
	release := takeStreamSlot(c)
	events, cancel := s.d.Live.Subscribe(sseBuffer)
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderConnection, "keep-alive")
	c.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer release()
		defer cancel()
		_ = writeSSE(context.Background(), w, events, keep, heartbeatInterval)
	})
	return nil
}
