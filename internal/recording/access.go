package recording

import (
	"context"
	"errors"
	"fmt"
)

// Access errors: both come as an *AccessError saying why.
var (
	// ErrForbidden: the caller may not do this with the room's recordings.
	ErrForbidden = errors.New("recording: forbidden")
	// ErrRoomNotFound: the room does not exist (Rooms wraps it too).
	ErrRoomNotFound = errors.New("recording: room not found")
)

// AccessError is a refusal with its reason, safe to show the caller. It wraps ErrForbidden
// or ErrRoomNotFound.
type AccessError struct {
	Err    error
	Reason string
}

func (e *AccessError) Error() string { return e.Reason }

// Unwrap returns ErrForbidden or ErrRoomNotFound.
func (e *AccessError) Unwrap() error { return e.Err }

func forbidden(format string, args ...any) error {
	return &AccessError{Err: ErrForbidden, Reason: fmt.Sprintf(format, args...)}
}

// Caller is who asks: a user id, and whether an administrator.
type Caller struct {
	UserID string
	Admin  bool
}

// RoomRole is what a caller is in a room.
type RoomRole struct {
	ID, Name, OwnerID string
	Owner             bool
	// Moderator is true for the owner, the room's moderators and administrators.
	Moderator bool
}

// Rooms says what a caller is in a room (the room service, adapted by the composition
// root), found by its name or by its id. Both return an error wrapping ErrRoomNotFound when
// there is no such room.
type Rooms interface {
	RoomRole(ctx context.Context, room string, c Caller) (RoomRole, error)
	RoomRoleByID(ctx context.Context, id string, c Caller) (RoomRole, error)
}

// Guard is the recording service as API callers use it: every call first applies the
// access rules. A recording belongs to the room it was made in, by the room's id: a room
// created later under the same name gets none of them. Moderators of that room (its owner
// included) and administrators start, see, stop and download its recordings; deleting one
// is for the room's owner and administrators. Once the room is deleted its recordings stay
// with the user who owned it then, and with administrators.
type Guard struct {
	svc   *Service
	rooms Rooms
}

// NewGuard puts the access rules in front of svc.
func NewGuard(svc *Service, rooms Rooms) *Guard { return &Guard{svc: svc, rooms: rooms} }

// role is the caller's role in a room by name; administrators keep moderating a deleted room.
func (g *Guard) role(ctx context.Context, name string, c Caller) (RoomRole, error) {
	r, err := g.rooms.RoomRole(ctx, name, c)
	if errors.Is(err, ErrRoomNotFound) {
		if c.Admin {
			return RoomRole{Name: name, Moderator: true}, nil
		}
		return r, &AccessError{Err: ErrRoomNotFound, Reason: fmt.Sprintf("room %q does not exist", name)}
	}
	if err != nil {
		return r, fmt.Errorf("room %q: access: %w", name, err)
	}
	return r, nil
}

// moderatorOf is the caller's role in a room they moderate; otherwise the refusal, a
// format taking the room's name.
func (g *Guard) moderatorOf(ctx context.Context, name string, c Caller, refusal string) (RoomRole, error) {
	role, err := g.role(ctx, name, c)
	if err != nil {
		return role, err
	}
	if !role.Moderator {
		return role, forbidden(refusal, role.Name)
	}
	return role, nil
}

// roleIn is the caller's role towards a recording: in its room while that room exists,
// else as its former owner (owner and moderator of it) or an administrator.
func (g *Guard) roleIn(ctx context.Context, r Recording, c Caller) (RoomRole, error) {
	if r.RoomID != "" {
		role, err := g.rooms.RoomRoleByID(ctx, r.RoomID, c)
		if !errors.Is(err, ErrRoomNotFound) {
			return role, err
		}
	}
	former := r.OwnerID != "" && r.OwnerID == c.UserID
	return RoomRole{Name: r.Room, OwnerID: r.OwnerID, Owner: former, Moderator: former || c.Admin}, nil
}

// recordingFor loads a recording the caller may see; ownerOnly narrows it to the room's
// owner and administrators.
func (g *Guard) recordingFor(ctx context.Context, c Caller, id string, ownerOnly bool) (Recording, error) {
	r, err := g.svc.Get(ctx, id)
	if err != nil {
		return r, err
	}
	role, err := g.roleIn(ctx, r, c)
	switch {
	case err != nil:
		return r, fmt.Errorf("recording %s: access: %w", id, err)
	case ownerOnly && !(role.Owner || c.Admin):
		return r, forbidden("only the owner of room %q or an administrator may do this", r.Room)
	case !role.Moderator:
		return r, forbidden("only the owner and moderators of room %q may see its recordings", r.Room)
	}
	return r, nil
}

// Start records a room for one of its moderators.
func (g *Guard) Start(ctx context.Context, c Caller, room string) (Recording, error) {
	role, err := g.moderatorOf(ctx, room, c, "only the moderators of room %q may record it")
	if err != nil {
		return Recording{}, err
	}
	return g.svc.Start(ctx, StartParams{Room: role.Name, RoomID: role.ID, OwnerID: role.OwnerID, StartedBy: c.UserID})
}

// List lists a room's recordings for its moderators (those made in that very room, not in
// an earlier room of the same name). Without a room, administrators list every recording
// and everyone else the recordings of the rooms they own or owned, deleted ones included.
func (g *Guard) List(ctx context.Context, c Caller, f Filter) ([]Recording, string, error) {
	f.RoomID, f.OwnerID = "", ""
	switch {
	case f.Room != "":
		role, err := g.moderatorOf(ctx, f.Room, c, "only the owner and moderators of room %q may see its recordings")
		if err != nil {
			return nil, "", err
		}
		f.RoomID = role.ID // empty for an administrator asking about a deleted room: by name
	case !c.Admin:
		f.OwnerID = c.UserID
	}
	return g.svc.List(ctx, f)
}

// Get returns a recording its room's moderators may see.
func (g *Guard) Get(ctx context.Context, c Caller, id string) (Recording, error) {
	return g.recordingFor(ctx, c, id, false)
}

// Stop stops a recording (its room's moderators).
func (g *Guard) Stop(ctx context.Context, c Caller, id string) (Recording, error) {
	r, err := g.recordingFor(ctx, c, id, false)
	if err != nil {
		return r, err
	}
	return g.svc.Stop(ctx, r.ID)
}

// OpenFile opens a recording's file (its room's moderators).
func (g *Guard) OpenFile(ctx context.Context, c Caller, id string) (File, error) {
	r, err := g.recordingFor(ctx, c, id, false)
	if err != nil {
		return File{}, err
	}
	return g.svc.OpenFile(ctx, r.ID)
}

// Delete deletes a recording and its files (the room's owner and administrators).
func (g *Guard) Delete(ctx context.Context, c Caller, id string) error {
	r, err := g.recordingFor(ctx, c, id, true)
	if err != nil {
		return err
	}
	return g.svc.Delete(ctx, r.ID)
}

// Retry composes and uploads a failed recording again now (its room's moderators).
func (g *Guard) Retry(ctx context.Context, c Caller, id string) (Recording, error) {
	r, err := g.recordingFor(ctx, c, id, false)
	if err != nil {
		return r, err
	}
	return g.svc.Retry(ctx, r.ID)
}

// BackendName is the service's backend name ("" when recording is unavailable).
func (g *Guard) BackendName() string { return g.svc.BackendName() }

// ActiveCount counts the recordings in progress.
func (g *Guard) ActiveCount(ctx context.Context) (int64, error) { return g.svc.ActiveCount(ctx) }
