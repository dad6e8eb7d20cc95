package room

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"
	"gorm.io/gorm"
)

// Config is what the service needs of Parley's configuration.
type Config struct {
	APIKey    string        // livekit.apiKey, signs join tokens
	APISecret string        // livekit.apiSecret
	URL       string        // livekit.host: the URL browsers connect to
	TokenTTL  time.Duration // livekit.tokenTTL
	// EmptyTimeout and DepartureTimeout are given to LiveKit's CreateRoom.
	EmptyTimeout     time.Duration
	DepartureTimeout time.Duration
	// WaitLiveKit, when set, is waited for before a join creates the LiveKit room: while
	// LiveKit restarts and its rooms are created again, a join is held until that is done
	// (nil) instead of refused; an error refuses it as unavailable.
	WaitLiveKit func(ctx context.Context) error
}

// Service manages rooms, join tokens and moderation.
type Service struct {
	cfg      Config
	st       store
	lk       LiveKit
	live     Live
	log      *slog.Logger
	now      func() time.Time
	created  *createdRooms
	sf       singleflight.Group
	rooms    *roomCache
	lobby    lobby
	breakout BreakoutOptions
	// breakoutKick wakes RunBreakoutTimer when this instance starts a split with a timer.
	breakoutKick chan struct{}
	notify       []ScheduleNotifier // told of schedule changes
}

// New builds the service; the LiveKit client and the live state are required.
func New(cfg Config, g *gorm.DB, lk LiveKit, live Live, log *slog.Logger, now func() time.Time) (*Service, error) {
	if cfg.APIKey == "" || cfg.APISecret == "" {
		return nil, errors.New("room: livekit.apiKey and livekit.apiSecret are required to sign join tokens")
	}
	if cfg.TokenTTL <= 0 {
		return nil, fmt.Errorf("room: livekit.tokenTTL must be positive, got %s", cfg.TokenTTL)
	}
	if lk == nil || live == nil {
		return nil, errors.New("room: a LiveKit client and the live state are required")
	}
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Service{cfg: cfg, st: store{g}, rooms: newRoomCache(roomCacheTTL), lk: lk, live: live, log: log.With("component", "room"), now: now,
		created: newCreatedRooms(createdTTL(cfg.DepartureTimeout)), lobby: defaultLobby(), breakoutKick: make(chan struct{}, 1)}, nil
}

// View is a room as one caller sees it, with its live figures.
type View struct {
	Room
	Active          bool
	NumParticipants int
}

func (s *Service) caller(c Caller, r Room, isMod bool) Access {
	owner := c.UserID != "" && r.OwnerID == c.UserID
	return Access{Room: r, Owner: owner, Moderator: owner || isMod || c.Admin}
}

// Access says what the caller may do in the room.
func (s *Service) Access(ctx context.Context, roomName string, c Caller) (Access, error) {
	r, isMod, _, err := s.lookup(ctx, roomName, c.UserID, "")
	if err != nil {
		return Access{}, err
	}
	return s.caller(c, r, isMod), nil
}

// AccessByID is Access for the room of that id: a room deleted and re-created under the
// same name is another room, and ErrNotFound here.
func (s *Service) AccessByID(ctx context.Context, id string, c Caller) (Access, error) {
	e, err := s.st.loadRoomByID(ctx, id)
	if err != nil {
		return Access{}, err
	}
	_, isMod := e.mods[c.UserID]
	return s.caller(c, e.room, isMod && c.UserID != ""), nil
}

// view completes a room for the caller: moderators, live figures, the invite code only
// for its owner, moderators and admins.
func (s *Service) view(ctx context.Context, a Access) (View, error) {
	v := View{Room: a.Room}
	v.Moderators = append([]string{}, a.Room.Moderators...)
	if !a.Moderator {
		v.InviteCode = ""
	}
	s.fillLive(ctx, &v)
	return v, nil
}

func (s *Service) fillLive(ctx context.Context, v *View) {
	n, err := s.live.ActiveCount(ctx, v.Name)
	if err != nil {
		s.log.Debug("live count unavailable", "room", v.Name, "err", err)
		return
	}
	v.NumParticipants, v.Active = n, n > 0
}

// Create makes a room owned by the caller; a missing name is generated.
func (s *Service) Create(ctx context.Context, c Caller, in Input) (View, error) {
	if c.UserID == "" {
		return View{}, fmt.Errorf("create room: %w", ErrLoginRequired)
	}
	now := s.now().UTC()
	r := Room{ID: uuid.NewString(), OwnerID: c.UserID, Defaults: DefaultPermissions(), Moderators: []string{},
		InviteCode: newInviteCode(), CreatedAt: now, UpdatedAt: now}
	generated := in.Name == nil
	if !generated {
		if err := ValidateName(*in.Name); err != nil {
			return View{}, err
		}
		r.Name = *in.Name
	}
	if err := in.apply(&r); err != nil {
		return View{}, err
	}
	mods := r.Moderators[:0:0]
	for _, m := range r.Moderators {
		if m != r.OwnerID {
			mods = append(mods, m)
		}
	}
	r.Moderators = mods
	for attempt := 0; ; attempt++ {
		if generated {
			r.Name = generateName()
		}
		if r.Title == "" {
			r.Title = r.Name
		}
		err := s.st.create(ctx, r)
		if err == nil {
			break
		}
		if !generated || !errors.Is(err, ErrNameTaken) || attempt >= 4 {
			return View{}, err
		}
		r.Title = ""
	}
	s.log.Info("room created", "room", r.Name, "owner", r.OwnerID)
	return View{Room: r}, nil
}

// Get returns a room: to any logged-in user, and anonymously when the room is public or
// open to guests (the join page needs it).
func (s *Service) Get(ctx context.Context, name string, c Caller) (View, error) {
	a, err := s.Access(ctx, name, c)
	if err != nil {
		return View{}, err
	}
	// Anonymous callers read public rooms only: a private room that admits guests lets them
	// join with its invite code, not read its owner, moderators and settings.
	if c.UserID == "" && !a.Room.Public {
		return View{}, fmt.Errorf("room %q: %w", name, ErrLoginRequired)
	}
	return s.view(ctx, a)
}

// List returns the rooms the caller owns or moderates plus public rooms (every room for
// an admin), by name after the cursor.
func (s *Service) List(ctx context.Context, c Caller, after string, limit int) ([]View, error) {
	rooms, err := s.st.list(ctx, c, after, limit)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(rooms))
	for i, r := range rooms {
		ids[i] = r.ID
	}
	mods, err := s.st.moderators(ctx, ids...)
	if err != nil {
		return nil, err
	}
	out := make([]View, len(rooms))
	for i, r := range rooms {
		r.Moderators = append([]string{}, mods[r.ID]...)
		isMod := false
		for _, m := range r.Moderators {
			isMod = isMod || m == c.UserID
		}
		if !s.caller(c, r, isMod).Moderator {
			r.InviteCode = ""
		}
		out[i] = View{Room: r}
		s.fillLive(ctx, &out[i])
	}
	return out, nil
}

// requireOwner loads the room for a change only its owner or an admin may make.
func (s *Service) requireOwner(ctx context.Context, name string, c Caller, what string) (Access, error) {
	a, err := s.Access(ctx, name, c)
	if err != nil {
		return a, err
	}
	if !a.Owner && !c.Admin {
		return a, fmt.Errorf("room %q: %s: only the owner or an admin may: %w", name, what, ErrForbidden)
	}
	return a, nil
}

// requireModerator loads the room for an action of its moderators.
func (s *Service) requireModerator(ctx context.Context, name string, c Caller, what string) (Access, error) {
	a, err := s.Access(ctx, name, c)
	if err != nil {
		return a, err
	}
	if !a.Moderator {
		return a, fmt.Errorf("room %q: %s: only moderators may: %w", name, what, ErrForbidden)
	}
	return a, nil
}

// Update applies a partial update (owner or admin). The name cannot change.
func (s *Service) Update(ctx context.Context, name string, c Caller, in Input) (View, error) {
	a, err := s.requireOwner(ctx, name, c, "update")
	if err != nil {
		return View{}, err
	}
	if in.Name != nil && *in.Name != name {
		return View{}, fieldErr("name", "cannot be changed (create a new room instead)")
	}
	r := a.Room
	if err := in.apply(&r); err != nil {
		return View{}, err
	}
	if r.Title == "" {
		r.Title = r.Name
	}
	r.UpdatedAt = s.now().UTC()
	err = s.st.update(ctx, r, in.Moderators != nil)
	s.rooms.invalidate(name)
	if err != nil {
		return View{}, err
	}
	a.Room = r
	return s.view(ctx, a)
}

// RotateInviteCode replaces the invite code (moderators); the old one stops working.
func (s *Service) RotateInviteCode(ctx context.Context, name string, c Caller) (View, error) {
	a, err := s.requireModerator(ctx, name, c, "rotate invite code")
	if err != nil {
		return View{}, err
	}
	a.Room.InviteCode, a.Room.UpdatedAt = newInviteCode(), s.now().UTC()
	err = s.st.setInviteCode(ctx, a.Room.ID, a.Room.InviteCode, a.Room.UpdatedAt)
	s.rooms.invalidate(name)
	if err != nil {
		return View{}, fmt.Errorf("room %q: rotate invite code: %w", name, err)
	}
	return s.view(ctx, a)
}

// Delete ends the live meeting, then deletes the room (owner or admin).
func (s *Service) Delete(ctx context.Context, name string, c Caller) error {
	a, err := s.requireOwner(ctx, name, c, "delete")
	if err != nil {
		return err
	}
	if err := s.endMeeting(ctx, name); err != nil {
		return err
	}
	planned, err := s.st.schedules(ctx, "room_id = ?", a.Room.ID) // their invitees are told
	if err != nil {
		return err
	}
	err = s.st.delete(ctx, a.Room.ID)
	s.rooms.invalidate(name)
	if err != nil {
		return err
	}
	for i := range planned {
		s.scheduleChanged(a.Room, &planned[i], nil)
	}
	s.log.Info("room deleted", "room", name, "by", c.UserID)
	return nil
}

// Count is the number of rooms, for the admin overview.
func (s *Service) Count(ctx context.Context) (int64, error) { return s.st.count(ctx) }

// CanListParticipants allows the room's moderators and its current participants.
func (s *Service) CanListParticipants(ctx context.Context, name string, c Caller) error {
	if c.UserID == "" {
		return fmt.Errorf("room %q: participants: %w", name, ErrLoginRequired)
	}
	a, err := s.Access(ctx, name, c)
	if err != nil || a.Moderator {
		return err
	}
	in, err := s.live.IsParticipant(ctx, name, c.UserID)
	if err != nil {
		return fmt.Errorf("room %q: participants: %w", name, err)
	}
	if !in {
		return fmt.Errorf("room %q: participants: only moderators and participants may: %w", name, ErrForbidden)
	}
	return nil
}
