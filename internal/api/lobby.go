package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/room"
)

// EventLobbyChanged is published (room set) whenever a room's lobby changes: someone waits,
// is admitted, denied, withdraws or expires. Moderators' event streams carry it; the
// waiting person's ticket stream re-reads its ticket on it.
const EventLobbyChanged = "lobby_changed"

// lobbyRecheck is how often a ticket stream re-reads its ticket without an event: it
// notices expiry and a moderator's arrival or departure that no lobby event announces.
const lobbyRecheck = 5 * time.Second

// LobbyService is the lobby (*room.Service).
type LobbyService interface {
	TicketStatus(ctx context.Context, holder string) (room.LobbyStatus, error)
	LeaveLobby(ctx context.Context, holder string) error
	Waiting(ctx context.Context, name string, c room.Caller) ([]room.LobbyEntry, error)
	Decide(ctx context.Context, name, id string, admit bool, c room.Caller) (int, error)
}

type lobbyTicketJSON struct {
	Ticket    string    `json:"ticket"`
	ID        string    `json:"id"`
	Room      string    `json:"room"`
	Position  int       `json:"position"`
	ExpiresAt time.Time `json:"expiresAt"`
}

type lobbyStatusJSON struct {
	Status           string     `json:"status"`
	Room             string     `json:"room"`
	Position         int        `json:"position,omitempty"`
	ModeratorPresent bool       `json:"moderatorPresent"`
	ExpiresAt        time.Time  `json:"expiresAt"`
	Join             *joinJSON  `json:"join,omitempty"`
	Error            *errorJSON `json:"error,omitempty"`
}

type lobbyEntryJSON struct {
	Ticket    string    `json:"ticket"`
	Name      string    `json:"name"`
	Guest     bool      `json:"guest"`
	Since     time.Time `json:"since"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func toLobbyStatusJSON(st room.LobbyStatus) lobbyStatusJSON {
	out := lobbyStatusJSON{Status: st.Status, Room: st.Room, Position: st.Position,
		ModeratorPresent: st.ModeratorPresent, ExpiresAt: st.ExpiresAt}
	if st.Join != nil {
		j := toJoinJSON(*st.Join)
		out.Join = &j
	}
	return out
}

// errorJSON is an API error inside an event (the stream's answer was already 200).
type errorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func toErrorJSON(err error) *errorJSON {
	var e *httpx.Error
	if errors.As(err, &e) {
		return &errorJSON{Code: e.Code, Message: e.Message}
	}
	return &errorJSON{Code: "internal", Message: "internal error"}
}

// lobbyError maps the lobby's errors, then the room's.
func lobbyError(err error) error {
	switch {
	case errors.Is(err, room.ErrTicketNotFound):
		return httpx.NotFound("ticket_not_found", "no such lobby ticket (it may have been cleaned up: ask to join again)")
	case errors.Is(err, room.ErrTicketClosed):
		return httpx.Conflict("ticket_closed", "this person no longer waits in the lobby")
	case errors.Is(err, room.ErrLobbyNotOpen):
		return httpx.Unprocessable("lobby_not_open", "the lobby opens shortly before the scheduled meeting: come back then")
	}
	return roomError(err)
}

func (s *server) lobbyStatus(c *fiber.Ctx) error {
	st, err := s.d.Rooms.TicketStatus(c.UserContext(), c.Params("ticket"))
	if err != nil {
		return lobbyError(err)
	}
	return c.JSON(toLobbyStatusJSON(st))
}

func (s *server) leaveLobby(c *fiber.Ctx) error {
	if err := s.d.Rooms.LeaveLobby(c.UserContext(), c.Params("ticket")); err != nil {
		return lobbyError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) listLobby(c *fiber.Ctx) error {
	items, err := s.d.Rooms.Waiting(c.UserContext(), c.Params("name"), callerOf(c))
	if err != nil {
		return lobbyError(err)
	}
	out := httpx.List[lobbyEntryJSON]{Items: make([]lobbyEntryJSON, len(items))}
	for i, e := range items {
		out.Items[i] = lobbyEntryJSON{Ticket: e.ID, Name: e.Name, Guest: e.Guest, Since: e.Since, ExpiresAt: e.ExpiresAt}
	}
	return c.JSON(out)
}

// decideLobby admits or denies one request (:ticket) or, without it, everyone waiting.
func (s *server) decideLobby(admit bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id := c.Params("ticket")
		n, err := s.d.Rooms.Decide(c.UserContext(), c.Params("name"), id, admit, callerOf(c))
		if err != nil {
			return lobbyError(err)
		}
		if id != "" {
			return c.SendStatus(fiber.StatusNoContent)
		}
		return c.JSON(fiber.Map{"count": n})
	}
}

// lobbyEvents streams a ticket's status to its holder as `status` events: the current one
// at once, then each change, until it is final (admitted with its join answer, denied,
// expired) or the ticket stops being readable (an `error` event with the API error). The
// ticket is re-read on every lobby or participant event of its room, which reach this
// instance from the others through the live relay, and every lobbyRecheck.
func (s *server) lobbyEvents(c *fiber.Ctx) error {
	holder := c.Params("ticket")
	first, err := s.d.Rooms.TicketStatus(c.UserContext(), holder)
	if err != nil {
		return lobbyError(err)
	}
	release := takeStreamSlot(c)
	events, cancel := s.d.Live.Subscribe(sseBuffer)
	roomName := first.Room
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer release()
		defer cancel()
		ctx := context.Background()
		var last []byte
		send := func(st room.LobbyStatus, err error) bool {
			out := toLobbyStatusJSON(st)
			if err != nil {
				out = lobbyStatusJSON{Status: "error", Room: roomName, Error: toErrorJSON(lobbyError(err))}
			}
			data, _ := json.Marshal(out)
			if bytes.Equal(data, last) {
				return true
			}
			last = data
			if _, werr := fmt.Fprintf(w, "event: status\ndata: %s\n\n", data); werr != nil || w.Flush() != nil {
				return false
			}
			return err == nil && st.Status == room.LobbyWaiting
		}
		if _, err := w.WriteString("retry: 3000\n: connected\n\n"); err != nil {
			return
		}
		if !send(first, nil) {
			return
		}
		tick := time.NewTicker(lobbyRecheck)
		defer tick.Stop()
		for {
			select {
			case e, ok := <-events:
				if !ok {
					return // dropped or shutting down: the client reconnects
				}
				if e.Room != roomName || (e.Type != EventLobbyChanged && e.Type != live.EventParticipantJoined &&
					e.Type != live.EventParticipantLeft && e.Type != live.EventRoomFinished) {
					continue
				}
			case <-tick.C:
				if _, err := w.WriteString(": heartbeat\n\n"); err != nil {
					return
				}
			}
			if !send(s.d.Rooms.TicketStatus(ctx, holder)) {
				return
			}
		}
	})
	return nil
}
