package room

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/bounded"
	lk "github.com/parley/parley/internal/livekit"
)

// JoinRequest is a request for a join token. Caller.UserID empty means a guest.
type JoinRequest struct {
	DisplayName string
	InviteCode  string
	// AccountName is the user's account name, the display name when none is given.
	AccountName string
	// GuestID is the id the guest's browser keeps (see NewGuestID); its identity derives
	// from it, so its bans hold. Empty: a new id.
	GuestID string
	// KeyID is set when an API key asks (the caller is then the administrator who created
	// it): the participant gets an identity of its own, keyIdentity, and its token names the
	// key, not the administrator, so a kick, ban or mute of it never reaches that person (nor
	// does a key's connection replace the administrator's own, as one identity would).
	KeyID string
	// admitted is a join a moderator let in from the lobby: it is not held again, and the
	// invitation it showed when it asked is not asked again.
	admitted bool
}

// Grant is a join token and what it says.
type Grant struct {
	Token    string
	URL      string
	Identity string
	Name     string
	Role     string
	Room     View
	// Lobby is set, and Token empty, when the caller waits in the room's lobby.
	Lobby *LobbyTicket
	// Breakout is the breakout room the token is for (0: the main room); see breakout.go.
	Breakout       int
	BreakoutEndsAt *time.Time
	// meta is what the token's metadata says (a breakout token says the same).
	meta Metadata
}

// Metadata is the JSON put in the token's participant metadata: stored as JSON in LiveKit,
// hence its tags (internal/live reads role and userId). RoomID tells the Gatekeeper which
// room the token was for: a room deleted and re-created under its name is another room.
type Metadata struct {
	Role   string `json:"role"`
	UserID string `json:"userId,omitempty"`
	RoomID string `json:"roomId,omitempty"`
	// KeyID names the API key a participant joined with (UserID is then empty).
	KeyID string `json:"keyId,omitempty"`
}

// Join decides whether the caller may join, makes sure the LiveKit room exists and mints
// the token. It is the hot path: one database read, no write, no LiveKit call for a room
// LiveKit reported occupied moments ago, and the live state asked only when the room is
// locked or capped.
func (s *Service) Join(ctx context.Context, name string, c Caller, req JoinRequest) (Grant, error) {
	display, err := validateDisplayName(req.DisplayName)
	if err != nil {
		return Grant{}, err
	}
	guest := c.UserID == ""
	identity, metaUser := c.UserID, c.UserID // a user's identity is its id
	switch {
	case guest:
		if identity, err = guestIdentity(req.GuestID); err != nil {
			return Grant{}, err
		}
	case req.KeyID != "":
		identity, metaUser = keyIdentity(req.KeyID), ""
	}
	r, isMod, banned, err := s.lookup(ctx, name, c.UserID, identity)
	if err != nil {
		return Grant{}, err
	}
	a := s.caller(c, r, isMod)
	role := RoleParticipant
	switch {
	case a.Owner:
		role = RoleOwner
	case a.Moderator:
		role = RoleModerator
	case guest:
		role = RoleGuest
	}
	if guest {
		if !r.AllowGuests {
			return Grant{}, fmt.Errorf("room %q: %w", name, ErrGuestsNotAllowed)
		}
		if display == "" {
			return Grant{}, fieldErr("displayName", "is required to join as a guest")
		}
	}
	if !a.Moderator {
		if err := s.admit(ctx, r, c, req, banned); err != nil {
			return Grant{}, err
		}
	}
	if display == "" {
		display = req.AccountName
	}
	if display == "" {
		display = identity
	}
	if held(r, a, guest) && !req.admitted {
		t, err := s.hold(ctx, r, c.UserID, identity, display)
		if err != nil {
			return Grant{}, fmt.Errorf("room %q: lobby: %w", name, err)
		}
		if t != nil {
			r.InviteCode = ""
			return Grant{Identity: identity, Name: display, Role: role, Room: View{Room: r}, Lobby: t}, nil
		}
	}
	if err := s.ensureLiveKitRoom(ctx, r); err != nil {
		return Grant{}, err
	}
	perms := r.Defaults
	if a.Moderator {
		perms = Permissions{CanPublish: true, CanSubscribe: true, CanPublishData: true, Sources: AllSources()}
	}
	meta := Metadata{Role: role, UserID: metaUser, RoomID: r.ID, KeyID: req.KeyID}
	token, err := s.mint(r.Name, identity, display, meta, perms)
	if err != nil {
		return Grant{}, fmt.Errorf("room %q: sign token: %w", name, err)
	}
	if !a.Moderator {
		r.InviteCode = ""
	}
	return Grant{Token: token, URL: s.cfg.URL, Identity: identity, Name: display, Role: role, Room: View{Room: r}, meta: meta}, nil
}

// admit applies the rules for everyone but moderators: bans, invitation, lock, capacity.
// A user already in the meeting (a reconnect) passes the lock and the capacity check.
func (s *Service) admit(ctx context.Context, r Room, c Caller, req JoinRequest, banned bool) error {
	if banned {
		return fmt.Errorf("room %q: %w", r.Name, ErrBanned)
	}
	code := req.InviteCode
	if !r.Public && !req.admitted && (code == "" || subtle.ConstantTimeCompare([]byte(code), []byte(r.InviteCode)) != 1) {
		return fmt.Errorf("room %q: a valid invite code is required: %w", r.Name, ErrNotInvited)
	}
	if !r.Locked && r.MaxParticipants == 0 {
		return nil
	}
	rejoining := func() (bool, error) {
		if c.UserID == "" {
			return false, nil
		}
		in, err := s.live.IsParticipant(ctx, r.Name, c.UserID)
		if err != nil {
			return false, fmt.Errorf("room %q: live state: %w", r.Name, err)
		}
		return in, nil
	}
	if r.Locked {
		if in, err := rejoining(); err != nil || !in {
			return orErr(err, fmt.Errorf("room %q: %w", r.Name, ErrLocked))
		}
		return nil
	}
	n, err := s.live.ActiveCount(ctx, r.Name)
	if err != nil {
		return fmt.Errorf("room %q: live state: %w", r.Name, err)
	}
	if n >= r.MaxParticipants {
		if in, err := rejoining(); err != nil || !in {
			return orErr(err, fmt.Errorf("room %q: %d of %d places taken: %w", r.Name, n, r.MaxParticipants, ErrFull))
		}
	}
	return nil
}

func orErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// mint signs a LiveKit token for this room only; never roomAdmin nor own-metadata updates.
func (s *Service) mint(room, identity, name string, md Metadata, p Permissions) (string, error) {
	return signJoinToken(s.cfg.APIKey, s.cfg.APISecret, room, identity, name, string(appendMetadata(nil, md)),
		permissionProto(p), s.cfg.TokenTTL, s.now())
}

// ensureLiveKitRoom creates the LiveKit room (LiveKit runs with auto_create off) unless
// LiveKit reported it occupied moments ago; concurrent joins of one room share one
// CreateRoom call.
//
// The room's maxParticipants is not handed to LiveKit: Parley enforces it at join (admit),
// where moderators pass it. LiveKit has no call that changes a running room's
// max_participants (CreateRoom on a live room returns it unchanged), so a limit given to
// LiveKit would outlive every later change, and it counts moderators too: an owner who
// raised the limit, or who joined a full room, would be refused by LiveKit with a token
// Parley had just handed out.
//
// A creation LiveKit refuses (killed a moment ago, its supervisor not yet aware) is tried
// again after the wait (lk.RetryRefused), so that a client's first rejoin after a crash is
// held for the new LiveKit rather than refused with 503, as the signalling proxy's is.
func (s *Service) ensureLiveKitRoom(ctx context.Context, r Room) error {
	var wait func(context.Context) error
	if s.cfg.WaitLiveKit != nil {
		wait = func(ctx context.Context) error {
			if err := s.cfg.WaitLiveKit(ctx); err != nil {
				return fmt.Errorf("room %q: %w: %v", r.Name, ErrUnavailable, err)
			}
			return nil
		}
	}
	return lk.RetryRefused(ctx, wait, func() error {
		if s.created.fresh(r.Name, s.now()) {
			return nil
		}
		_, err := s.createLiveKitRoom(ctx, r)
		return err
	})
}

// createLiveKitRoom creates the LiveKit room with the room's settings (CreateRoom returns
// the room LiveKit already runs, unchanged); concurrent calls for one room share one call.
func (s *Service) createLiveKitRoom(ctx context.Context, r Room) (*livekit.Room, error) {
	gen := s.created.generation()
	v, err, _ := s.sf.Do(r.Name, func() (any, error) {
		return s.lk.CreateRoom(context.WithoutCancel(ctx), &livekit.CreateRoomRequest{
			Name:             r.Name,
			EmptyTimeout:     uint32(s.cfg.EmptyTimeout / time.Second),
			DepartureTimeout: uint32(s.cfg.DepartureTimeout / time.Second),
			Metadata:         liveKitMetadata(r),
		})
	})
	if err != nil {
		return nil, lkErr(err, nil, "room %q: create in LiveKit", r.Name)
	}
	lr, _ := v.(*livekit.Room)
	// Only an occupied room is taken to exist for a while. An empty one may be in its last
	// moment before LiveKit closes it (departure or empty timeout); trusting it would hand
	// every join until the entry expires a token for a room that is gone.
	if lr.GetNumParticipants() > 0 {
		s.created.remember(r.Name, gen, s.now())
	}
	return lr, nil
}

// RoomMetadata is the JSON Parley sets as the LiveKit room's metadata: which Parley room
// it is, and its title for clients to show (stored as JSON in LiveKit, hence its tags).
type RoomMetadata struct {
	ID    string `json:"id"`
	Title string `json:"title,omitempty"`
}

func liveKitMetadata(r Room) string {
	b, _ := json.Marshal(RoomMetadata{ID: r.ID, Title: r.Title})
	return string(b)
}

// RecreateLiveKitRoom creates a room again in LiveKit with its current settings, for a
// meeting that LiveKit lost (a restarted LiveKit, a dead cluster node) while people were in
// it, so that their rejoin and the recorder's find it. It returns the LiveKit room's sid;
// ErrNotFound when the Parley room was deleted meanwhile.
func (s *Service) RecreateLiveKitRoom(ctx context.Context, name string) (string, error) {
	s.created.forget(name) // what was remembered was the lost room
	r, err := s.st.loadRoom(ctx, name)
	if err != nil {
		return "", err
	}
	lr, err := s.createLiveKitRoom(ctx, r.room)
	if err != nil {
		return "", err
	}
	return lr.GetSid(), nil
}

// ForgetLiveKitRooms drops every remembered LiveKit room: call it when LiveKit (re)starts
// (the supervisor's OnReady), since a restarted LiveKit has no rooms.
func (s *Service) ForgetLiveKitRooms() { s.created.forgetAll() }

// RoomFinished drops one remembered LiveKit room: call it on room_finished events.
func (s *Service) RoomFinished(name string) { s.created.forget(name) }

// createdRooms remembers which LiveKit rooms exist with participants, for a bounded time:
// LiveKit closes a room departure_timeout after its last participant left, so an entry must
// end before that even when no room_finished event arrives.
type createdRooms struct {
	mu    sync.RWMutex
	ttl   time.Duration
	until map[string]time.Time
	gen   uint64
}

// liveKitCountLag is how old the participant count in LiveKit's answer may be: LiveKit
// refreshes a room's figures every 5 s (roomUpdateInterval in livekit-server's rtc), so the
// last participant of a room reported occupied may have left that long before.
const liveKitCountLag = 5 * time.Second

// createdTTL is how long an occupied room is taken to exist: a fraction of the departure
// timeout, and never past the earliest moment LiveKit may close it. Zero (nothing is
// remembered, every join asks LiveKit) for departure timeouts too short for that.
func createdTTL(departure time.Duration) time.Duration {
	return max(0, min(departure/4, 5*time.Second, departure-liveKitCountLag-time.Second))
}

func newCreatedRooms(ttl time.Duration) *createdRooms {
	return &createdRooms{ttl: ttl, until: map[string]time.Time{}}
}

func (c *createdRooms) fresh(name string, now time.Time) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	u, ok := c.until[name]
	return ok && now.Before(u)
}

func (c *createdRooms) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// remember records a creation unless everything was forgotten since it started.
func (c *createdRooms) remember(name string, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	bounded.Prune(c.until, func(u time.Time) bool { return !now.Before(u) })
	c.until[name] = now.Add(c.ttl)
}

func (c *createdRooms) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.until, name)
}

func (c *createdRooms) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.until)
}
