package room

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	tokens "github.com/parley/parley/internal/secret"
)

// The lobby. In a room with Lobby on, a guest (and with LobbyUsers a signed-in user who does
// not moderate the room) who passes every other join rule gets a ticket instead of a token:
// nobody waiting holds anything LiveKit accepts. A moderator admits or denies; the ticket's
// holder polls or streams its status and, once admitted, receives the join answer. The owner,
// the room's moderators and admins are never held, whatever the room's settings: a lobby
// must not lock its host out of the meeting.

// Lobby request statuses.
const (
	LobbyWaiting  = "waiting"
	LobbyAdmitted = "admitted"
	LobbyDenied   = "denied"
	LobbyExpired  = "expired"
)

// Lobby errors.
var (
	ErrTicketNotFound = errors.New("lobby ticket not found")
	// ErrTicketClosed is a ticket that can no longer become a join (denied or expired).
	ErrTicketClosed = errors.New("lobby ticket closed")
)

// maxLobbyList bounds the waiting list a moderator is shown.
const maxLobbyList = 500

// admissionLasts is how long an admission lets its person back in without waiting again
// (a reconnect, a reload): about a working day, the length of any one meeting.
const admissionLasts = 12 * time.Hour

// DefaultLobbyTimeout is how long a request waits before it expires (rooms.lobbyTimeout).
const DefaultLobbyTimeout = 10 * time.Minute

// ModeratorPresence says whether a moderator is in the room's meeting now (the live state).
type ModeratorPresence interface {
	ModeratorPresent(ctx context.Context, room string) (bool, error)
}

// LobbyOptions configure the lobby: how long a request waits, who tells the waiting people
// whether a moderator is there, and the notification of every change (the composition root
// publishes it as an event, which reaches the other instances).
type LobbyOptions struct {
	Timeout  time.Duration
	Presence ModeratorPresence
	Notify   func(room string)
}

type lobby struct {
	timeout  time.Duration
	presence ModeratorPresence
	notify   func(room string)
}

func defaultLobby() lobby {
	return lobby{timeout: DefaultLobbyTimeout, notify: func(string) {}}
}

// UseLobby sets the lobby's options; call it before serving.
func (s *Service) UseLobby(o LobbyOptions) error {
	if o.Timeout <= 0 {
		return fmt.Errorf("room: rooms.lobbyTimeout must be positive, got %s", o.Timeout)
	}
	if o.Presence == nil || o.Notify == nil {
		return errors.New("room: the lobby needs the moderators' presence and a notifier")
	}
	s.lobby = lobby{timeout: o.Timeout, presence: o.Presence, notify: o.Notify}
	return nil
}

// LobbyTicket is a request to be let in. Holder is what its holder presents ("id.secret");
// moderators only ever see the ID.
type LobbyTicket struct {
	ID        string
	Holder    string
	Room      string
	Position  int
	ExpiresAt time.Time
}

// LobbyEntry is one waiting person as moderators see them.
type LobbyEntry struct {
	ID        string
	Name      string
	Guest     bool
	Since     time.Time
	ExpiresAt time.Time
}

// LobbyStatus is a ticket as its holder sees it. Join is set once admitted.
type LobbyStatus struct {
	Status           string
	Room             string
	Position         int
	ModeratorPresent bool
	ExpiresAt        time.Time
	Join             *Grant
}

// held says whether this caller waits in the room's lobby.
func held(r Room, a Access, guest bool) bool {
	return r.Lobby && !a.Moderator && (guest || r.LobbyUsers)
}

// hold puts the caller in the lobby unless an admission of theirs still holds; it returns
// nil, nil for someone already admitted, who joins at once.
func (s *Service) hold(ctx context.Context, r Room, userID, identity, display string) (*LobbyTicket, error) {
	now := s.now().UTC()
	ok, err := s.st.admittedSince(ctx, r.ID, identity, now.Add(-admissionLasts))
	if err != nil || ok {
		return nil, err
	}
	if err := s.lobbyOpen(ctx, r, now); err != nil {
		return nil, err
	}
	secret := randomString(32)
	row := lobbyRow{ID: uuid.NewString(), SecretHash: tokens.Hash(secret), RoomID: r.ID, Status: LobbyWaiting,
		Identity: identity, UserID: userID, Name: display, CreatedAt: now, ExpiresAt: now.Add(s.lobby.timeout)}
	if err := s.st.holdInLobby(ctx, row); err != nil {
		return nil, err
	}
	pos, err := s.st.position(ctx, row, now)
	if err != nil {
		return nil, fmt.Errorf("room %q: lobby position: %w", r.Name, err)
	}
	s.log.Info("waiting in the lobby", "room", r.Name, "identity", identity)
	s.lobby.notify(r.Name)
	return &LobbyTicket{ID: row.ID, Holder: row.ID + "." + secret, Room: r.Name, Position: pos, ExpiresAt: row.ExpiresAt}, nil
}

// ticket reads the request a holder presents; a malformed or unknown one, or a wrong
// secret, is ErrTicketNotFound alike.
func (s *Service) ticket(ctx context.Context, holder string) (lobbyRow, error) {
	id, secret, ok := strings.Cut(holder, ".")
	if !ok || len(holder) > 100 || uuid.Validate(id) != nil {
		return lobbyRow{}, ErrTicketNotFound
	}
	row, err := s.st.lobbyTicket(ctx, id)
	if err != nil {
		return lobbyRow{}, err
	}
	if subtle.ConstantTimeCompare([]byte(tokens.Hash(secret)), []byte(row.SecretHash)) != 1 {
		return lobbyRow{}, ErrTicketNotFound
	}
	return row, nil
}

// TicketStatus answers the holder of a ticket: still waiting (with whether a moderator is
// there to let them in), denied, expired, or admitted with a fresh join answer. The join
// rules run again at that moment (a ban or a lock since the request still refuses).
func (s *Service) TicketStatus(ctx context.Context, holder string) (LobbyStatus, error) {
	row, err := s.ticket(ctx, holder)
	if err != nil {
		return LobbyStatus{}, err
	}
	e, err := s.st.loadRoomByID(ctx, row.RoomID)
	if err != nil {
		return LobbyStatus{}, err
	}
	r := e.room
	now := s.now().UTC()
	st := LobbyStatus{Status: row.Status, Room: r.Name, ExpiresAt: row.ExpiresAt}
	switch {
	case row.Status == LobbyWaiting && !now.Before(row.ExpiresAt):
		if err := s.st.expire(ctx, row.ID, now); err != nil {
			return LobbyStatus{}, fmt.Errorf("room %q: lobby: expire: %w", r.Name, err)
		}
		s.lobby.notify(r.Name)
		st.Status = LobbyExpired
	case row.Status == LobbyWaiting:
		if st.Position, err = s.st.position(ctx, row, now); err != nil {
			return LobbyStatus{}, fmt.Errorf("room %q: lobby position: %w", r.Name, err)
		}
		st.ModeratorPresent = true // unknown presence must not send anyone away
		if s.lobby.presence != nil {
			present, err := s.lobby.presence.ModeratorPresent(ctx, r.Name)
			if err != nil {
				s.log.Debug("moderator presence unknown", "room", r.Name, "err", err)
			} else {
				st.ModeratorPresent = present
			}
		}
	case row.Status == LobbyAdmitted:
		req := JoinRequest{DisplayName: row.Name, AccountName: row.Name, admitted: true}
		if row.UserID == "" {
			req.GuestID = strings.TrimPrefix(row.Identity, "guest-")
		}
		g, err := s.Join(ctx, r.Name, Caller{UserID: row.UserID}, req)
		if err != nil {
			return LobbyStatus{}, err
		}
		st.Join = &g
	}
	return st, nil
}

// LeaveLobby withdraws a waiting request (its holder closed the page or gave up).
func (s *Service) LeaveLobby(ctx context.Context, holder string) error {
	row, err := s.ticket(ctx, holder)
	if err != nil {
		return err
	}
	if err := s.st.expire(ctx, row.ID, s.now().UTC()); err != nil {
		return fmt.Errorf("lobby: leave: %w", err)
	}
	if e, err := s.st.loadRoomByID(ctx, row.RoomID); err == nil {
		s.lobby.notify(e.room.Name)
	}
	return nil
}

// Waiting lists who waits in the room's lobby, oldest first (moderators).
func (s *Service) Waiting(ctx context.Context, name string, c Caller) ([]LobbyEntry, error) {
	a, err := s.requireModerator(ctx, name, c, "see the lobby")
	if err != nil {
		return nil, err
	}
	rows, err := s.st.waiting(ctx, a.Room.ID, s.now().UTC())
	if err != nil {
		return nil, fmt.Errorf("room %q: %w", name, err)
	}
	out := make([]LobbyEntry, len(rows))
	for i, w := range rows {
		out[i] = LobbyEntry{ID: w.ID, Name: w.Name, Guest: w.UserID == "", Since: w.CreatedAt.UTC(), ExpiresAt: w.ExpiresAt.UTC()}
	}
	return out, nil
}

// Decide admits or denies waiting requests of the room (moderators): the request of that
// id, or every waiting one when id is empty. It returns how many it decided; a single id
// that no longer waits (decided by another moderator, expired, withdrawn) is
// ErrTicketClosed, an unknown one ErrTicketNotFound.
func (s *Service) Decide(ctx context.Context, name, id string, admit bool, c Caller) (int, error) {
	what, status := "deny", LobbyDenied
	if admit {
		what, status = "admit", LobbyAdmitted
	}
	a, err := s.requireModerator(ctx, name, c, what+" from the lobby")
	if err != nil {
		return 0, err
	}
	var ids []string
	if id != "" {
		row, err := s.st.lobbyTicket(ctx, id)
		if err != nil || row.RoomID != a.Room.ID {
			return 0, fmt.Errorf("room %q: %s %s: %w", name, what, id, ErrTicketNotFound)
		}
		ids = []string{id}
	}
	now := s.now().UTC()
	n, err := s.st.decide(ctx, a.Room.ID, ids, status, c.UserID, now)
	if err != nil {
		return 0, fmt.Errorf("room %q: %w", name, err)
	}
	if id != "" && n == 0 {
		return 0, fmt.Errorf("room %q: %s %s: %w", name, what, id, ErrTicketClosed)
	}
	if n > 0 {
		s.log.Info("lobby decided", "room", name, "decision", status, "count", n, "by", c.UserID)
		s.lobby.notify(name)
	}
	_ = s.st.pruneLobby(ctx, now.Add(-admissionLasts)) // old requests go; a failure keeps them a while
	return int(n), nil
}
