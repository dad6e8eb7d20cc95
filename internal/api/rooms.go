package api

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/room"
)

// RoomService is what the room and moderation routes need (*room.Service).
type RoomService interface {
	Create(ctx context.Context, c room.Caller, in room.Input) (room.View, error)
	List(ctx context.Context, c room.Caller, after string, limit int) ([]room.View, error)
	Get(ctx context.Context, name string, c room.Caller) (room.View, error)
	Update(ctx context.Context, name string, c room.Caller, in room.Input) (room.View, error)
	Delete(ctx context.Context, name string, c room.Caller) error
	RotateInviteCode(ctx context.Context, name string, c room.Caller) (room.View, error)
	Join(ctx context.Context, name string, c room.Caller, req room.JoinRequest) (room.Grant, error)
	CanListParticipants(ctx context.Context, name string, c room.Caller) error
	Kick(ctx context.Context, name, identity string, ban bool, reason string, c room.Caller) error
	Mute(ctx context.Context, name, identity, source string, muted bool, c room.Caller) error
	SetPermissions(ctx context.Context, name, identity string, in room.PermissionsInput, c room.Caller) (room.Participant, error)
	AddModerator(ctx context.Context, name, userID string, c room.Caller) error
	RemoveModerator(ctx context.Context, name, userID string, c room.Caller) error
	End(ctx context.Context, name string, c room.Caller) error
	// Access is the one answer to "what may this caller do in room X" (owner, moderator).
	Access(ctx context.Context, name string, c room.Caller) (room.Access, error)
	Count(ctx context.Context) (int64, error)
	LobbyService    // lobby.go
	BreakoutService // breakout.go
	ScheduleService // schedule.go
	FeedService     // calendar_feed.go
}

type roomJSON struct {
	Name               string          `json:"name"`
	Title              string          `json:"title"`
	OwnerID            string          `json:"ownerId"`
	Public             bool            `json:"public"`
	AllowGuests        bool            `json:"allowGuests"`
	Locked             bool            `json:"locked"`
	MaxParticipants    int             `json:"maxParticipants"`
	AutoRecord         bool            `json:"autoRecord"`
	Lobby              bool            `json:"lobby"`
	LobbyUsers         bool            `json:"lobbyUsers"`
	DefaultPermissions permissionsJSON `json:"defaultPermissions"`
	Moderators         []string        `json:"moderators"`
	InviteCode         string          `json:"inviteCode,omitempty"`
	Active             bool            `json:"active"`
	NumParticipants    int             `json:"numParticipants"`
	CreatedAt          time.Time       `json:"createdAt"`
	UpdatedAt          time.Time       `json:"updatedAt"`
}

func toRoomJSON(v room.View) roomJSON {
	out := roomJSON{Name: v.Name, Title: v.Title, OwnerID: v.OwnerID, Public: v.Public, AllowGuests: v.AllowGuests,
		Locked: v.Locked, MaxParticipants: v.MaxParticipants, AutoRecord: v.AutoRecord,
		Lobby: v.Lobby, LobbyUsers: v.LobbyUsers,
		DefaultPermissions: toPermissionsJSON(v.Defaults),
		Moderators:         orEmpty(v.Moderators), InviteCode: v.InviteCode, Active: v.Active,
		NumParticipants: v.NumParticipants, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
	return out
}

// permissionsBody is a partial permission set; absent fields keep their value.
type permissionsBody struct {
	CanPublish        *bool     `json:"canPublish"`
	CanSubscribe      *bool     `json:"canSubscribe"`
	CanPublishData    *bool     `json:"canPublishData"`
	CanPublishSources *[]string `json:"canPublishSources"`
}

func (p *permissionsBody) input() *room.PermissionsInput {
	if p == nil {
		return nil
	}
	return &room.PermissionsInput{CanPublish: p.CanPublish, CanSubscribe: p.CanSubscribe,
		CanPublishData: p.CanPublishData, Sources: p.CanPublishSources}
}

type roomBody struct {
	Name               *string          `json:"name"`
	Title              *string          `json:"title"`
	Public             *bool            `json:"public"`
	AllowGuests        *bool            `json:"allowGuests"`
	Locked             *bool            `json:"locked"`
	MaxParticipants    *int             `json:"maxParticipants"`
	AutoRecord         *bool            `json:"autoRecord"`
	Lobby              *bool            `json:"lobby"`
	LobbyUsers         *bool            `json:"lobbyUsers"`
	DefaultPermissions *permissionsBody `json:"defaultPermissions"`
	Moderators         *[]string        `json:"moderators"`
}

func (b roomBody) input() room.Input {
	return room.Input{Name: b.Name, Title: b.Title, Public: b.Public, AllowGuests: b.AllowGuests, Locked: b.Locked,
		MaxParticipants: b.MaxParticipants, AutoRecord: b.AutoRecord, Lobby: b.Lobby, LobbyUsers: b.LobbyUsers, Defaults: b.DefaultPermissions.input(),
		Moderators: b.Moderators}
}

// callerOf is the room package's view of the principal (anonymous: empty).
func callerOf(c *fiber.Ctx) room.Caller {
	p := httpx.PrincipalFrom(c)
	if p == nil {
		return room.Caller{}
	}
	return room.Caller{UserID: p.UserID, Admin: p.IsAdmin()}
}

// roomError maps the room package's errors to API errors.
func roomError(err error) error {
	switch {
	case errors.Is(err, room.ErrNotFound):
		return httpx.NotFound("room_not_found", "room does not exist").WithCause(err)
	case errors.Is(err, room.ErrNameTaken):
		return httpx.Conflict("name_taken", "a room with this name already exists")
	case errors.Is(err, room.ErrLoginRequired):
		return httpx.Unauthorized("unauthorized", "log in to do this")
	case errors.Is(err, room.ErrGuestsNotAllowed):
		return httpx.Unauthorized("guests_not_allowed", "this room does not admit guests: log in to join")
	case errors.Is(err, room.ErrForbidden):
		return httpx.Forbidden("forbidden", "you are not allowed to do this in this room")
	case errors.Is(err, room.ErrBanned):
		return httpx.Forbidden("banned", "you are banned from this room")
	case errors.Is(err, room.ErrNotInvited):
		return httpx.Forbidden("not_invited", "this room is private: an invite code is required")
	case errors.Is(err, room.ErrLocked):
		return httpx.Unprocessable("room_locked", "the room is locked")
	case errors.Is(err, room.ErrFull):
		return httpx.Unprocessable("room_full", "the room is full")
	case errors.Is(err, room.ErrParticipantNotFound):
		return httpx.NotFound("participant_not_found", "no such participant in the room")
	case errors.Is(err, room.ErrTrackNotFound):
		return httpx.NotFound("track_not_found", "the participant publishes no track of that source")
	case errors.Is(err, room.ErrRefused):
		return httpx.Unprocessable("livekit_refused", "the media server refused this request (remote unmute, for one, is off unless LiveKit allows it)").WithCause(err)
	case errors.Is(err, room.ErrUnavailable):
		return httpx.Unavailable("livekit_unavailable", "the media server is unavailable: try again shortly").WithCause(err)
	}
	return err
}

func (s *server) createRoom(c *fiber.Ctx) error {
	var b roomBody
	if err := httpx.BindOptionalJSON(c, &b); err != nil {
		return err
	}
	v, err := s.d.Rooms.Create(c.UserContext(), callerOf(c), b.input())
	if err != nil {
		return roomError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(toRoomJSON(v))
}

func (s *server) listRooms(c *fiber.Ctx) error {
	page, err := httpx.ParsePage(c, 50, 200)
	if err != nil {
		return err
	}
	views, err := s.d.Rooms.List(c.UserContext(), callerOf(c), page.Cursor, page.Limit)
	if err != nil {
		return roomError(err)
	}
	out := httpx.List[roomJSON]{Items: make([]roomJSON, len(views))}
	for i, v := range views {
		out.Items[i] = toRoomJSON(v)
	}
	if len(views) == page.Limit {
		out.NextCursor = views[len(views)-1].Name
	}
	return c.JSON(out)
}

func (s *server) getRoom(c *fiber.Ctx) error {
	v, err := s.d.Rooms.Get(c.UserContext(), c.Params("name"), callerOf(c))
	if err != nil {
		return roomError(err)
	}
	return c.JSON(toRoomJSON(v))
}

func (s *server) updateRoom(c *fiber.Ctx) error {
	var b roomBody
	if err := httpx.BindJSON(c, &b); err != nil {
		return err
	}
	v, err := s.d.Rooms.Update(c.UserContext(), c.Params("name"), callerOf(c), b.input())
	if err != nil {
		return roomError(err)
	}
	return c.JSON(toRoomJSON(v))
}

func (s *server) deleteRoom(c *fiber.Ctx) error {
	if err := s.d.Rooms.Delete(c.UserContext(), c.Params("name"), callerOf(c)); err != nil {
		return roomError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) rotateInviteCode(c *fiber.Ctx) error {
	v, err := s.d.Rooms.RotateInviteCode(c.UserContext(), c.Params("name"), callerOf(c))
	if err != nil {
		return roomError(err)
	}
	return c.JSON(toRoomJSON(v))
}

type joinJSON struct {
	Token    string   `json:"token"`
	URL      string   `json:"url"`
	Identity string   `json:"identity"`
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Room     roomJSON `json:"room"`
	// Breakout is set when the token is for one of the room's breakout rooms.
	Breakout *breakoutJoinJSON `json:"breakout,omitempty"`
}

func (s *server) joinRoom(c *fiber.Ctx) error {
	var b struct {
		DisplayName string `json:"displayName"`
		InviteCode  string `json:"inviteCode"`
	}
	if err := httpx.BindOptionalJSON(c, &b); err != nil {
		return err
	}
	req := room.JoinRequest{DisplayName: b.DisplayName, InviteCode: b.InviteCode}
	p := httpx.PrincipalFrom(c)
	newGuest := false
	if p != nil {
		req.AccountName = p.Name // an API key's name, for a key
		if p.IsKey() {
			req.KeyID = p.KeyID
		}
	} else {
		req.GuestID, newGuest = s.guestID(c)
	}
	g, err := s.d.Rooms.Join(c.UserContext(), c.Params("name"), callerOf(c), req)
	if err != nil {
		return lobbyError(err)
	}
	if newGuest {
		s.rememberGuest(c, req.GuestID)
	}
	if t := g.Lobby; t != nil { // held in the lobby: a ticket, no token (lobby.go)
		return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"lobby": lobbyTicketJSON{Ticket: t.Holder, ID: t.ID,
			Room: t.Room, Position: t.Position, ExpiresAt: t.ExpiresAt}})
	}
	return c.JSON(toJoinJSON(g))
}

func toJoinJSON(g room.Grant) joinJSON {
	out := joinJSON{Token: g.Token, URL: g.URL, Identity: g.Identity, Name: g.Name, Role: g.Role, Room: toRoomJSON(g.Room)}
	if g.Breakout > 0 {
		out.Breakout = &breakoutJoinJSON{Room: g.Breakout, EndsAt: g.BreakoutEndsAt}
	}
	return out
}

func (s *server) listParticipants(c *fiber.Ctx) error {
	name := c.Params("name")
	if err := s.d.Rooms.CanListParticipants(c.UserContext(), name, callerOf(c)); err != nil {
		return roomError(err)
	}
	items, err := s.d.Live.Participants(c.UserContext(), name)
	if err != nil {
		return roomError(err)
	}
	return c.JSON(httpx.List[participantJSON]{Items: fromLiveParticipants(items)})
}
