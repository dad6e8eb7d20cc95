package live

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/livekit/protocol/livekit"
)

// session is one participant session as stored.
type session struct {
	Sid, Room, RoomSid, Identity, Name, UserID, Role, State, Reason string
	JoinedAt, LeftAt                                                int64
	Hidden                                                          bool
}

func sessionOf(room *livekit.Room, p *livekit.ParticipantInfo) session {
	s := session{Sid: p.GetSid(), Room: room.GetName(), RoomSid: room.GetSid(), Identity: p.GetIdentity(), Name: clip(p.GetName(), 255)}
	s.JoinedAt = p.GetJoinedAtMs()
	if s.JoinedAt == 0 {
		s.JoinedAt = p.GetJoinedAt() * 1000
	}
	s.Role, s.UserID = parseMetadata(p.GetMetadata())
	s.Hidden = p.GetPermission().GetHidden() || p.GetPermission().GetRecorder() || p.GetKind() == livekit.ParticipantInfo_EGRESS
	switch p.GetState() {
	case livekit.ParticipantInfo_JOINING:
		s.State = StateJoining
	case livekit.ParticipantInfo_DISCONNECTED:
		s.State = StateLeft
	default:
		s.State = StateJoined
	}
	return s
}

// clip shortens s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// parseMetadata reads the {role, userId} JSON Parley puts in join tokens; anything else
// (another tool's metadata) yields a plain participant.
func parseMetadata(md string) (role, userID string) {
	role = "participant"
	if !strings.HasPrefix(strings.TrimSpace(md), "{") {
		return role, ""
	}
	var m struct { // room.Metadata, stored as JSON in LiveKit
		Role   string `json:"role"`
		UserID string `json:"userId"`
	}
	if json.Unmarshal([]byte(md), &m) != nil {
		return role, ""
	}
	if m.Role != "" && len(m.Role) <= 32 && !strings.ContainsRune(m.Role, 0) {
		role = m.Role
	}
	if len(m.UserID) <= 64 && !strings.ContainsRune(m.UserID, 0) {
		userID = m.UserID
	}
	return role, userID
}

// saneMs keeps a LiveKit timestamp (unix ms) if it is plausible: after 2020 and at most a
// day ahead of this machine's clock; otherwise fallback.
func saneMs(ms, seen, fallback int64) int64 {
	if ms > 1577836800000 && ms <= seen+86400000 {
		return ms
	}
	return fallback
}

func eventAt(ev *livekit.WebhookEvent, seen int64) int64 {
	if ev.CreatedAt <= 0 || ev.CreatedAt > 1<<40 {
		return seen
	}
	return saneMs(ev.CreatedAt*1000, seen, seen)
}

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// claimEvents records the batch's event ids in one statement and reports, per event,
// whether it is new: an id already stored (a retry, or another instance got it first) or
// repeated earlier in the batch is a duplicate. The primary key decides, inside the
// transaction that applies the events, so it holds across instances.
func (s *store) claimEvents(ctx context.Context, tx execer, evs []*livekit.WebhookEvent, seen int64) ([]bool, error) {
	var q strings.Builder
	q.WriteString(`INSERT INTO live_webhook_events (id, event, received_at) VALUES `)
	args := make([]any, 0, 3*len(evs))
	for i, ev := range evs {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?)")
		args = append(args, ev.Id, ev.Event, seen)
	}
	q.WriteString(` ON CONFLICT (id) DO NOTHING RETURNING id`)
	rows, err := tx.QueryContext(ctx, s.q(q.String()), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	inserted := make(map[string]bool, len(evs))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		inserted[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	fresh := make([]bool, len(evs))
	for i, ev := range evs {
		fresh[i] = inserted[ev.Id]
		delete(inserted, ev.Id) // a second copy in the same batch is a duplicate
	}
	return fresh, nil
}

// applyEvent applies one verified, newly claimed webhook inside tx.
func (s *store) applyEvent(ctx context.Context, tx execer, ev *livekit.WebhookEvent, seen int64) (out []Event, err error) {
	at := eventAt(ev, seen)
	room := ev.GetRoom()
	emit := func(typ, identity string, data any) {
		out = append(out, Event{Type: typ, Room: room.GetName(), Participant: identity, Data: data, At: msTime(at)})
	}
	emitHidden := func(typ, identity string, data any, hidden bool) {
		emit(typ, identity, data)
		out[len(out)-1].Hidden = hidden
	}
	switch ev.Event {
	case "room_started":
		ok, err := s.roomStarted(ctx, tx, room.GetName(), room.GetSid(), saneMs(roomStartedAt(room, at), seen, at), at, seen)
		if ok {
			emit(EventRoomStarted, "", map[string]string{"sid": room.GetSid()})
		}
		return out, err
	case "room_finished":
		ok, ended, err := s.roomFinished(ctx, tx, room.GetName(), room.GetSid(), saneMs(roomStartedAt(room, at), seen, at), at, seen, "room_finished")
		for _, e := range ended {
			emitHidden(EventParticipantLeft, e.identity, map[string]string{"sid": e.sid, "reason": "room_finished"}, e.hidden)
		}
		if ok {
			emit(EventRoomFinished, "", map[string]string{"sid": room.GetSid()})
		}
		return out, err
	case "participant_joined":
		sess := sessionOf(room, ev.Participant)
		sess.State = StateJoined
		sess.JoinedAt = saneMs(sess.JoinedAt, seen, at)
		ok, started, err := s.sessionJoined(ctx, tx, sess, at, seen)
		if started {
			emit(EventRoomStarted, "", map[string]string{"sid": room.GetSid()})
		}
		if ok {
			emitHidden(EventParticipantJoined, sess.Identity, participantData(sess), sess.Hidden)
		}
		return out, err
	case "participant_left", "participant_connection_aborted":
		sess := sessionOf(room, ev.Participant)
		sess.Reason = "connection_aborted"
		if ev.Event == "participant_left" {
			sess.Reason = clip(strings.ToLower(ev.Participant.GetDisconnectReason().String()), 64)
		}
		sess.JoinedAt = saneMs(sess.JoinedAt, seen, at)
		sess.LeftAt = at
		ok, err := s.sessionLeft(ctx, tx, sess, at, seen)
		if ok {
			emitHidden(EventParticipantLeft, sess.Identity, participantData(sess), sess.Hidden)
		}
		return out, err
	case "track_published":
		t := trackOf(ev.Track)
		ok, err := s.trackPublished(ctx, tx, room.GetName(), ev.Participant.GetSid(), t, at, seen)
		if ok {
			emit(EventTrackPublished, ev.Participant.GetIdentity(), trackData(t))
		}
		return out, err
	case "track_unpublished":
		t := trackOf(ev.Track)
		ok, err := s.trackUnpublished(ctx, tx, room.GetName(), ev.Participant.GetSid(), t, at, seen)
		if ok {
			emit(EventTrackUnpublished, ev.Participant.GetIdentity(), trackData(t))
		}
		return out, err
	}
	// egress_* (handed over before), ingress_* and future events: only the id is kept.
	return nil, nil
}

func roomStartedAt(r *livekit.Room, fallback int64) int64 {
	if ms := r.GetCreationTimeMs(); ms > 0 {
		return ms
	}
	if sec := r.GetCreationTime(); sec > 0 {
		return sec * 1000
	}
	return fallback
}

func participantData(s session) map[string]any {
	d := map[string]any{"sid": s.Sid, "name": s.Name, "state": s.State, "role": s.Role}
	if s.UserID != "" {
		d["userId"] = s.UserID
	}
	if s.Reason != "" {
		d["reason"] = s.Reason
	}
	return d
}
