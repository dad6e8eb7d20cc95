package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	lk "github.com/parley/parley/internal/livekit"
	"slices"
	"time"

	"github.com/livekit/protocol/livekit"
)

// Participant is a participant as LiveKit reports it, with Parley's role from its metadata.
type Participant struct {
	Identity string
	Name     string
	UserID   string
	Role     string
	State    string // joining | joined | left
	JoinedAt *time.Time
	LeftAt   *time.Time
	Tracks   []Track
	// Permissions are the participant's current LiveKit permissions.
	Permissions *Permissions
}

// Track is a published track.
type Track struct {
	SID    string
	Source string
	Kind   string // audio | video
	Muted  bool
}

// ParticipantFromInfo reads LiveKit's participant.
func ParticipantFromInfo(p *livekit.ParticipantInfo) Participant {
	var md Metadata
	_ = json.Unmarshal([]byte(p.Metadata), &md) // foreign metadata: role stays empty
	out := Participant{Identity: p.Identity, Name: p.Name, UserID: md.UserID, Role: md.Role, Tracks: []Track{}}
	switch p.State {
	case livekit.ParticipantInfo_JOINING:
		out.State = "joining"
	case livekit.ParticipantInfo_DISCONNECTED:
		out.State = "left"
	default:
		out.State = "joined"
	}
	if ms := p.JoinedAtMs; ms > 0 {
		t := time.UnixMilli(ms).UTC()
		out.JoinedAt = &t
	} else if p.JoinedAt > 0 {
		t := time.Unix(p.JoinedAt, 0).UTC()
		out.JoinedAt = &t
	}
	for _, t := range p.Tracks {
		kind := "video"
		if t.Type == livekit.TrackType_AUDIO {
			kind = "audio"
		}
		out.Tracks = append(out.Tracks, Track{SID: t.Sid, Source: SourceName(t.Source), Kind: kind, Muted: t.Muted})
	}
	perm := permissionsFrom(p.Permission)
	out.Permissions = &perm
	return out
}

func validIdentity(identity string) error {
	if identity == "" || len(identity) > 128 {
		return fieldErr("identity", "%q is not a valid participant identity", identity)
	}
	return nil
}

func (s *Service) participant(ctx context.Context, room, identity string) (*livekit.ParticipantInfo, error) {
	p, err := s.lk.GetParticipant(ctx, &livekit.RoomParticipantIdentity{Room: room, Identity: identity})
	if err != nil {
		return nil, lkErr(err, ErrParticipantNotFound, "room %q: participant %q", room, identity)
	}
	return p, nil
}

// Kick removes a participant (moderators). With ban, its identity and the user behind it
// are refused new tokens, which matters because LiveKit does not revoke the old one.
func (s *Service) Kick(ctx context.Context, name, identity string, ban bool, reason string, c Caller) error {
	if err := validIdentity(identity); err != nil {
		return err
	}
	if len(reason) > 500 {
		return fieldErr("reason", "must be at most 500 characters")
	}
	a, err := s.requireModerator(ctx, name, c, "kick")
	if err != nil {
		return err
	}
	// A participant who left just before the moderator clicked is banned all the same: the
	// ban is what keeps them out, and without it leaving would be the way around one.
	p, err := s.participant(ctx, name, identity)
	gone := errors.Is(err, ErrParticipantNotFound) && ban
	if err != nil && !gone {
		return err
	}
	userID := ""
	if !gone {
		userID = ParticipantFromInfo(p).UserID
	}
	if !c.Admin && !a.Owner && (userID == a.Room.OwnerID || identity == a.Room.OwnerID) {
		return fmt.Errorf("room %q: kick: the owner cannot be kicked by a moderator: %w", name, ErrForbidden)
	}
	if ban {
		subjects := []string{identity}
		if userID != "" && userID != identity {
			subjects = append(subjects, userID)
		}
		err := s.st.ban(ctx, a.Room.ID, c.UserID, reason, s.now().UTC(), subjects...)
		s.rooms.invalidate(name)
		if err != nil {
			return fmt.Errorf("room %q: %w", name, err)
		}
	}
	if !gone {
		_, err = s.lk.RemoveParticipant(ctx, &livekit.RoomParticipantIdentity{Room: name, Identity: identity})
		if err != nil && !lk.IsNotFound(err) { // gone meanwhile: the kick is done
			return lkErr(err, ErrParticipantNotFound, "room %q: kick %q", name, identity)
		}
	}
	s.log.Info("participant kicked", "room", name, "identity", identity, "ban", ban, "gone", gone, "by", c.UserID)
	return nil
}

// Mute mutes (or unmutes, when LiveKit allows remote unmute) the participant's track of
// the given source (moderators).
func (s *Service) Mute(ctx context.Context, name, identity, source string, muted bool, c Caller) error {
	if err := validIdentity(identity); err != nil {
		return err
	}
	if !slices.Contains(AllSources(), source) {
		return fieldErr("source", "must be one of camera, microphone, screen_share, screen_share_audio (got %q)", source)
	}
	if _, err := s.requireModerator(ctx, name, c, "mute"); err != nil {
		return err
	}
	p, err := s.participant(ctx, name, identity)
	if err != nil {
		return err
	}
	want := sourceProto(source)
	for _, t := range p.Tracks {
		if t.Source != want {
			continue
		}
		_, err := s.lk.MutePublishedTrack(ctx, &livekit.MuteRoomTrackRequest{Room: name, Identity: identity, TrackSid: t.Sid, Muted: muted})
		if err != nil {
			return lkErr(err, ErrTrackNotFound, "room %q: mute %s of %q", name, source, identity)
		}
		// The mute happened; if recording it fails, the reconciler repairs it within an interval.
		if err := s.live.SetTrackMuted(ctx, name, t.Sid, muted); err != nil {
			s.log.Warn("mute not recorded in the live state", "room", name, "track", t.Sid, "err", err)
		}
		return nil
	}
	return fmt.Errorf("room %q: %q publishes no %s track: %w", name, identity, source, ErrTrackNotFound)
}

// SetPermissions changes a connected participant's permissions (moderators). Fields left
// nil keep their current value; LiveKit gets the full set since it replaces it, and
// unpublishes tracks whose source is revoked.
func (s *Service) SetPermissions(ctx context.Context, name, identity string, in PermissionsInput, c Caller) (Participant, error) {
	if err := validIdentity(identity); err != nil {
		return Participant{}, err
	}
	var sources []string
	if in.Sources != nil {
		var err error
		if sources, err = ValidateSources("canPublishSources", *in.Sources); err != nil {
			return Participant{}, err
		}
	}
	if _, err := s.requireModerator(ctx, name, c, "set permissions"); err != nil {
		return Participant{}, err
	}
	p, err := s.participant(ctx, name, identity)
	if err != nil {
		return Participant{}, err
	}
	perm := permissionsFrom(p.Permission)
	setBool(&perm.CanPublish, in.CanPublish)
	setBool(&perm.CanSubscribe, in.CanSubscribe)
	setBool(&perm.CanPublishData, in.CanPublishData)
	if in.Sources != nil {
		perm.Sources = sources
	}
	np := permissionProto(perm)
	// What moderators do not manage is kept as it is (a recorder stays hidden).
	np.Hidden, np.Recorder, np.Agent = p.Permission.GetHidden(), p.Permission.GetRecorder(), p.Permission.GetAgent()
	info, err := s.lk.UpdateParticipant(ctx, &livekit.UpdateParticipantRequest{Room: name, Identity: identity, Permission: np})
	if err != nil {
		return Participant{}, lkErr(err, ErrParticipantNotFound, "room %q: permissions of %q", name, identity)
	}
	return ParticipantFromInfo(info), nil
}

// AddModerator makes a user a moderator (owner or admin); a connected participant gets
// the moderator role and permissions at once.
func (s *Service) AddModerator(ctx context.Context, name, userID string, c Caller) error {
	return s.setModerator(ctx, name, userID, true, c)
}

// RemoveModerator demotes a moderator (owner or admin) back to the room's defaults.
func (s *Service) RemoveModerator(ctx context.Context, name, userID string, c Caller) error {
	return s.setModerator(ctx, name, userID, false, c)
}

func (s *Service) setModerator(ctx context.Context, name, userID string, promote bool, c Caller) error {
	if err := ValidateUserID("userId", userID); err != nil {
		return err
	}
	a, err := s.requireOwner(ctx, name, c, "change moderators")
	if err != nil {
		return err
	}
	if userID == a.Room.OwnerID {
		return nil // the owner always moderates
	}
	if promote {
		err = s.st.addModerator(ctx, a.Room.ID, userID, s.now().UTC())
	} else {
		err = s.st.removeModerator(ctx, a.Room.ID, userID)
	}
	s.rooms.invalidate(name)
	if err != nil {
		return fmt.Errorf("room %q: %w", name, err)
	}
	s.updateLiveRole(ctx, a.Room, userID, promote)
	return nil
}

// updateLiveRole gives a connected user its new role in metadata and permissions. The
// database is the truth: a failure here is logged, the next join carries the new role.
func (s *Service) updateLiveRole(ctx context.Context, r Room, userID string, promote bool) {
	p, err := s.lk.GetParticipant(ctx, &livekit.RoomParticipantIdentity{Room: r.Name, Identity: userID})
	if err != nil {
		if !lk.IsNotFound(err) {
			s.log.Warn("could not update live participant role", "room", r.Name, "user", userID, "err", err)
		}
		return
	}
	md := Metadata{Role: RoleParticipant, UserID: userID, RoomID: r.ID}
	if promote {
		md.Role = RoleModerator
	}
	s.setLiveRole(ctx, r, p, md)
}

// demote gives a connected participant the participant role and the room's defaults.
func (s *Service) demote(ctx context.Context, r Room, p *livekit.ParticipantInfo, md Metadata) {
	md.Role, md.RoomID = RoleParticipant, r.ID
	s.setLiveRole(ctx, r, p, md)
}

// setLiveRole writes a role and the permissions that go with it: everything for
// moderators, the room's defaults otherwise. LiveKit replaces the whole permission set on
// UpdateParticipant, so every field is given (hidden, recorder and agent stay off: those
// participants are never given a role).
func (s *Service) setLiveRole(ctx context.Context, r Room, p *livekit.ParticipantInfo, md Metadata) {
	perms := r.Defaults
	if md.Role == RoleModerator || md.Role == RoleOwner {
		perms = Permissions{CanPublish: true, CanSubscribe: true, CanPublishData: true, Sources: AllSources()}
	}
	mdJSON, _ := json.Marshal(md)
	_, err := s.lk.UpdateParticipant(ctx, &livekit.UpdateParticipantRequest{Room: r.Name, Identity: p.Identity,
		Metadata: string(mdJSON), Permission: permissionProto(perms)})
	if err != nil && !lk.IsNotFound(err) {
		s.log.Warn("could not update live participant role", "room", r.Name, "identity", p.Identity, "err", err)
	}
}

// End ends the meeting for everyone (moderators).
func (s *Service) End(ctx context.Context, name string, c Caller) error {
	if _, err := s.requireModerator(ctx, name, c, "end meeting"); err != nil {
		return err
	}
	if err := s.endMeeting(ctx, name); err != nil {
		return err
	}
	s.log.Info("meeting ended", "room", name, "by", c.UserID)
	return nil
}

func (s *Service) endMeeting(ctx context.Context, name string) error {
	// Breakout rooms end with the main meeting.
	if r, _, _, err := s.lookup(ctx, name, "", ""); err == nil {
		if _, err := s.closeBreakouts(ctx, r, true); err != nil {
			s.log.Warn("could not close the breakout rooms", "room", name, "err", err)
		}
	}
	s.created.forget(name)
	_, err := s.lk.DeleteRoom(ctx, &livekit.DeleteRoomRequest{Room: name})
	if err != nil && !lk.IsNotFound(err) {
		return lkErr(err, nil, "room %q: end meeting", name)
	}
	if err := s.live.MarkRoomEnded(ctx, name); err != nil {
		// LiveKit ended it; the live state's reconciler repairs what this missed.
		s.log.Warn("could not mark room ended in the live state", "room", name, "err", err)
	}
	return nil
}
