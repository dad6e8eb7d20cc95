package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/livekit/protocol/livekit"
	lk "github.com/parley/parley/internal/livekit"
)

// Users says whether an account may still take part, and whether it administers (the
// auth service, adapted by the composition root). Active is false for a disabled or
// deleted account.
type Users interface {
	UserState(ctx context.Context, userID string) (active, admin bool, err error)
}

// Attendance is the part of the live state the gate asks: whether an identity was in the
// meeting (another session, open at some moment since then), which lets a participant
// reconnect to a room locked meanwhile, exactly as Join lets it.
type Attendance interface {
	WasIn(ctx context.Context, room, identity, exceptSid string, since time.Time) (bool, error)
}

// RoomLister finds every LiveKit participant of a user (RemoveUser); server-sdk-go's
// RoomServiceClient satisfies it.
type RoomLister interface {
	ListRooms(ctx context.Context, req *livekit.ListRoomsRequest) (*livekit.ListRoomsResponse, error)
	ListParticipants(ctx context.Context, req *livekit.ListParticipantsRequest) (*livekit.ListParticipantsResponse, error)
}

// Gatekeeper applies the join rules again to participants LiveKit already admitted: a
// token is valid until it expires, so a ban, a lock, a demotion, a deleted room or a
// disabled account would otherwise not reach the holders of tokens issued before it. A
// participant Parley would refuse now is removed; a moderator who no longer is one is
// given the room's default permissions and the participant role, live.
type Gatekeeper struct {
	s      *Service
	users  Users
	attend Attendance
	rooms  RoomLister
}

// NewGatekeeper builds the gate over the room service.
func NewGatekeeper(s *Service, users Users, attend Attendance, rooms RoomLister) (*Gatekeeper, error) {
	if s == nil || users == nil || attend == nil || rooms == nil {
		return nil, errors.New("room: the gatekeeper needs the room service, the users, the live state and LiveKit's rooms")
	}
	return &Gatekeeper{s: s, users: users, attend: attend, rooms: rooms}, nil
}

// verdict is what the gate does with a participant.
type verdict struct {
	remove, demote bool
	reason         string
}

// Admitted judges a participant LiveKit has let in and acts on it; fresh is true for a
// new session (the lock applies to it), false for one already judged. Failures are
// logged: the next reconcile pass judges the participant again.
func (g *Gatekeeper) Admitted(ctx context.Context, room string, p *livekit.ParticipantInfo, fresh bool) {
	v, err := g.judge(ctx, room, p, fresh)
	if err != nil {
		g.s.log.Warn("could not re-check a participant", "room", room, "identity", p.GetIdentity(), "err", err)
		return
	}
	if err := g.act(ctx, room, p, v); err != nil {
		g.s.log.Warn("could not refuse a participant", "room", room, "identity", p.GetIdentity(), "reason", v.reason, "err", err)
	}
}

// judge says what Join would say to this participant now.
func (g *Gatekeeper) judge(ctx context.Context, name string, p *livekit.ParticipantInfo, fresh bool) (verdict, error) {
	perm := p.GetPermission()
	if perm.GetHidden() || perm.GetRecorder() || p.GetKind() == livekit.ParticipantInfo_EGRESS {
		return verdict{}, nil // recorders are Parley's and LiveKit's own
	}
	var md Metadata
	if json.Unmarshal([]byte(p.GetMetadata()), &md) != nil || md.Role == "" {
		return verdict{}, nil // not a Parley token: whoever holds the API secret minted it
	}
	// A breakout room is judged by its main room's rules; the lock does not apply there
	// (only people the main room let in are sent to it).
	lkRoom := name
	name, breakout := MainRoomName(lkRoom)
	r, isMod, _, err := g.s.lookup(ctx, name, md.UserID, "")
	if errors.Is(err, ErrNotFound) && md.RoomID != "" {
		return verdict{remove: true, reason: "the room no longer exists"}, nil
	}
	if errors.Is(err, ErrNotFound) {
		return verdict{}, nil // a LiveKit room Parley does not manage (a shared LiveKit)
	}
	if err != nil {
		return verdict{}, err
	}
	if md.RoomID != "" && md.RoomID != r.ID {
		return verdict{remove: true, reason: "the token is for a deleted room of the same name"}, nil
	}
	admin := false
	if md.UserID != "" {
		active, isAdmin, err := g.users.UserState(ctx, md.UserID)
		if err != nil {
			return verdict{}, err
		}
		if !active {
			return verdict{remove: true, reason: "the account is disabled or deleted"}, nil
		}
		admin = isAdmin
	}
	a := g.s.caller(Caller{UserID: md.UserID, Admin: admin}, r, isMod)
	if a.Moderator {
		return verdict{}, nil
	}
	if g.s.isBanned(ctx, name, p.GetIdentity(), md.UserID) {
		return verdict{remove: true, reason: "banned from the room"}, nil
	}
	if md.UserID == "" && !r.AllowGuests {
		return verdict{remove: true, reason: "the room no longer admits guests"}, nil
	}
	if fresh && r.Locked && breakout == 0 {
		since := g.s.now().Add(-max(g.s.cfg.DepartureTimeout, time.Minute))
		in, err := g.attend.WasIn(ctx, lkRoom, p.GetIdentity(), p.GetSid(), since)
		if err != nil {
			return verdict{}, fmt.Errorf("room %q: live state: %w", name, err)
		}
		if !in {
			return verdict{remove: true, reason: "the room is locked"}, nil
		}
	}
	if md.Role == RoleOwner || md.Role == RoleModerator {
		return verdict{demote: true, reason: "no longer a moderator"}, nil
	}
	return verdict{}, nil
}

// act removes or demotes the participant, unless LiveKit now holds a newer session of the
// same identity (which is judged on its own join).
func (g *Gatekeeper) act(ctx context.Context, name string, p *livekit.ParticipantInfo, v verdict) error {
	if !v.remove && !v.demote {
		return nil
	}
	cur, err := g.s.lk.GetParticipant(ctx, &livekit.RoomParticipantIdentity{Room: name, Identity: p.GetIdentity()})
	if lk.IsNotFound(err) || (err == nil && cur.GetSid() != p.GetSid()) {
		return nil // gone, or replaced by a newer session
	}
	if err != nil {
		return lkErr(err, nil, "room %q: participant %q", name, p.GetIdentity())
	}
	if v.remove {
		_, err = g.s.lk.RemoveParticipant(ctx, &livekit.RoomParticipantIdentity{Room: name, Identity: p.GetIdentity()})
		if err != nil && !lk.IsNotFound(err) {
			return lkErr(err, nil, "room %q: remove %q", name, p.GetIdentity())
		}
		g.s.log.Info("participant removed: Parley would refuse its join now", "room", name, "identity", p.GetIdentity(), "reason", v.reason)
		return nil
	}
	var md Metadata
	_ = json.Unmarshal([]byte(cur.GetMetadata()), &md)
	md.Role = RoleParticipant
	main, _ := MainRoomName(name)
	r, _, _, err := g.s.lookup(ctx, main, "", "")
	if err != nil {
		return err
	}
	g.s.demote(ctx, r, cur, md)
	g.s.log.Info("participant demoted: no longer a moderator", "room", name, "identity", p.GetIdentity())
	return nil
}

// RecheckUser judges every participant of the user again, in every LiveKit room, after
// their account changed: a disabled or deleted account's participants are removed, a
// former administrator's lose the moderator role where they hold no other. It asks LiveKit
// itself, not the live state, so a session whose webhook is late is found too.
func (g *Gatekeeper) RecheckUser(ctx context.Context, userID string) error {
	rooms, err := g.rooms.ListRooms(ctx, &livekit.ListRoomsRequest{})
	if err != nil {
		return lkErr(err, nil, "user %s: list rooms", userID)
	}
	var errs []error
	for _, r := range rooms.GetRooms() {
		ps, err := g.rooms.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: r.GetName()})
		if lk.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, lkErr(err, nil, "room %q: list participants", r.GetName()))
			continue
		}
		for _, p := range ps.GetParticipants() {
			var md Metadata
			if json.Unmarshal([]byte(p.GetMetadata()), &md) != nil || md.UserID != userID {
				continue
			}
			v, err := g.judge(ctx, r.GetName(), p, false)
			if err == nil {
				err = g.act(ctx, r.GetName(), p, v)
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
