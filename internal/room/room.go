// Package room knows Parley's rooms: their settings and validation, invite codes, bans,
// who may join and with which LiveKit grants, and moderation through LiveKit's RoomService.
// It never imports Fiber nor the other domain packages; the composition root hands it a
// LiveKit client and the live participant state through the narrow interfaces below.
package room

import (
	"errors"
	"time"

	"github.com/parley/parley/internal/fielderr"
)

// Room is a meeting room. Rooms never expire by age: they live until deleted.
type Room struct {
	ID              string
	Name            string
	Title           string
	OwnerID         string
	Public          bool
	AllowGuests     bool
	Locked          bool
	MaxParticipants int // 0: no limit; Parley enforces it at join, moderators excepted
	AutoRecord      bool
	// Lobby holds guests (and, with LobbyUsers, signed-in users who do not moderate the
	// room) in a waiting list until a moderator admits them; see lobby.go.
	Lobby      bool
	LobbyUsers bool
	Defaults   Permissions
	Moderators []string
	InviteCode string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Permissions are what a participant may do in LiveKit.
type Permissions struct {
	CanPublish     bool
	CanSubscribe   bool
	CanPublishData bool
	// Sources are the track sources that may be published (see Sources).
	Sources []string
}

// Track sources, named as LiveKit names them in tokens.
const (
	SourceCamera           = "camera"
	SourceMicrophone       = "microphone"
	SourceScreenShare      = "screen_share"
	SourceScreenShareAudio = "screen_share_audio"
)

// AllSources lists every track source, in a stable order.
func AllSources() []string {
	return []string{SourceCamera, SourceMicrophone, SourceScreenShare, SourceScreenShareAudio}
}

// DefaultPermissions are the permissions of a room created without any.
func DefaultPermissions() Permissions {
	return Permissions{CanPublish: true, CanSubscribe: true, CanPublishData: true, Sources: AllSources()}
}

// Roles of a participant, carried in the token metadata.
const (
	RoleOwner       = "owner"
	RoleModerator   = "moderator"
	RoleParticipant = "participant"
	RoleGuest       = "guest"
)

// Caller is who asks: a user id (empty for an anonymous guest) and whether they are admin.
type Caller struct {
	UserID string
	Admin  bool
}

// Access is what a caller may do in a room.
type Access struct {
	Room  Room
	Owner bool
	// Moderator is true for the owner, listed moderators and admins.
	Moderator bool
}

// Sentinel errors; the HTTP layer maps them to statuses and stable codes.
var (
	ErrNotFound            = errors.New("room not found")
	ErrInvalid             = errors.New("invalid room input")
	ErrNameTaken           = errors.New("room name taken")
	ErrForbidden           = errors.New("not allowed")
	ErrLoginRequired       = errors.New("login required")
	ErrGuestsNotAllowed    = errors.New("guests are not allowed")
	ErrNotInvited          = errors.New("not invited")
	ErrBanned              = errors.New("banned from room")
	ErrLocked              = errors.New("room locked")
	ErrFull                = errors.New("room full")
	ErrUnavailable         = errors.New("livekit unavailable")
	ErrParticipantNotFound = errors.New("participant not found")
	ErrTrackNotFound       = errors.New("track not found")
	ErrRefused             = errors.New("refused by livekit")
)

// fieldErr is invalid input naming its field: a *fielderr.Error wrapping ErrInvalid.
func fieldErr(field, format string, args ...any) error {
	return fielderr.New(ErrInvalid, field, format, args...)
}
