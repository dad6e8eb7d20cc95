package live

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

type roomRow struct {
	name, sid         string
	startedAt, seenAt int64
}

type sessionRow struct {
	room, roomSid, identity, state string
	joinedAt, seenAt               int64
}

type trackRow struct {
	participantSid, source, kind string
	muted                        bool
	seenAt                       int64
}

func (s *store) openRooms(ctx context.Context) ([]roomRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, sid, started_at, seen_at FROM live_rooms WHERE active = 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roomRow
	for rows.Next() {
		var r roomRow
		if err := rows.Scan(&r.name, &r.sid, &r.startedAt, &r.seenAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *store) openSessions(ctx context.Context) (map[string]sessionRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sid, room, room_sid, identity, state, joined_at, seen_at
		FROM live_participants WHERE state <> 'left'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]sessionRow{}
	for rows.Next() {
		var sid string
		var r sessionRow
		if err := rows.Scan(&sid, &r.room, &r.roomSid, &r.identity, &r.state, &r.joinedAt, &r.seenAt); err != nil {
			return nil, err
		}
		out[sid] = r
	}
	return out, rows.Err()
}

func (s *store) openTracks(ctx context.Context) (map[string]trackRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT t.sid, t.participant_sid, t.source, t.kind, t.muted, t.seen_at
		FROM live_tracks t JOIN live_participants p ON p.sid = t.participant_sid
		WHERE t.unpublished_at = 0 AND p.state <> 'left'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]trackRow{}
	for rows.Next() {
		var sid string
		var r trackRow
		var muted int
		if err := rows.Scan(&sid, &r.participantSid, &r.source, &r.kind, &muted, &r.seenAt); err != nil {
			return nil, err
		}
		r.muted = muted == 1
		out[sid] = r
	}
	return out, rows.Err()
}

func (s *store) setMuted(ctx context.Context, x execer, trackSid string, muted bool, at, seen int64) (bool, error) {
	n, err := s.exec(ctx, x, `UPDATE live_tracks SET muted = ?, updated_at = ?, seen_at = ? WHERE sid = ? AND unpublished_at = 0 AND muted <> ?`,
		boolInt(muted), at, seen, trackSid, boolInt(muted))
	return n > 0, err
}

// Participant is one identity's latest session in a room.
type Participant struct {
	Identity    string
	Sid         string
	Name        string
	UserID      string
	Role        string
	State       string
	JoinedAt    time.Time
	LeftAt      *time.Time
	LeaveReason string
	Tracks      []Track
}

// Participants lists the room's participants: everyone in it now, and those who left the
// current (or last) meeting, one entry per identity (its latest session).
func (s *Service) Participants(ctx context.Context, room string) ([]Participant, error) {
	rows, err := s.st.db.QueryContext(ctx, s.st.q(`SELECT sid, identity, name, user_id, role, state, joined_at, left_at, leave_reason
		FROM live_participants WHERE room = ? AND hidden = 0 AND (state <> 'left' OR room_sid = COALESCE(
			(SELECT sid FROM live_rooms WHERE name = ?),
			(SELECT room_sid FROM live_participants WHERE room = ? ORDER BY joined_at DESC LIMIT 1)))
		ORDER BY joined_at, sid`), room, room, room)
	if err != nil {
		return nil, wrapUnavailable("participants of "+room, err)
	}
	defer rows.Close()
	byIdentity := map[string]int{}
	out := []Participant{} // an empty room lists [], not null
	for rows.Next() {
		var p Participant
		var joined, left int64
		if err := rows.Scan(&p.Sid, &p.Identity, &p.Name, &p.UserID, &p.Role, &p.State, &joined, &left, &p.LeaveReason); err != nil {
			return nil, wrapUnavailable("participants of "+room, err)
		}
		p.JoinedAt = msTime(joined)
		if left > 0 {
			t := msTime(left)
			p.LeftAt = &t
		}
		p.Tracks = []Track{}
		if i, ok := byIdentity[p.Identity]; ok {
			// Rows come oldest first; an open session always wins over a closed one.
			if out[i].State == StateLeft || p.State != StateLeft {
				out[i] = p
			}
			continue
		}
		byIdentity[p.Identity] = len(out)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrapUnavailable("participants of "+room, err)
	}
	if err := s.attachTracks(ctx, room, out); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) attachTracks(ctx context.Context, room string, ps []Participant) error {
	rows, err := s.st.db.QueryContext(ctx, s.st.q(`SELECT sid, participant_sid, source, kind, muted FROM live_tracks
		WHERE room = ? AND unpublished_at = 0 ORDER BY sid`), room)
	if err != nil {
		return wrapUnavailable("tracks of "+room, err)
	}
	defer rows.Close()
	idx := map[string]int{}
	for i, p := range ps {
		if p.State != StateLeft {
			idx[p.Sid] = i
		}
	}
	for rows.Next() {
		var t Track
		var psid string
		var muted int
		if err := rows.Scan(&t.Sid, &psid, &t.Source, &t.Kind, &muted); err != nil {
			return wrapUnavailable("tracks of "+room, err)
		}
		t.Muted = muted == 1
		if i, ok := idx[psid]; ok {
			ps[i].Tracks = append(ps[i].Tracks, t)
		}
	}
	return wrapUnavailable("tracks of "+room, rows.Err())
}

// ActiveCount is how many distinct identities are in the room now (joining or joined),
// recorders excluded.
func (s *Service) ActiveCount(ctx context.Context, room string) (int, error) {
	var n int
	err := s.st.db.QueryRowContext(ctx, s.st.q(`SELECT COUNT(DISTINCT identity) FROM live_participants WHERE room = ? AND state <> 'left' AND hidden = 0`), room).Scan(&n)
	return n, wrapUnavailable("active count of "+room, err)
}

// IsParticipant reports whether the user is in the room now, or was until LiveKit lost
// the session (a restart, a dead node) less than rejoinGrace ago: their rejoin is not new.
func (s *Service) IsParticipant(ctx context.Context, room, userID string) (bool, error) {
	if userID == "" {
		return false, nil
	}
	var one int
	err := s.st.db.QueryRowContext(ctx, s.st.q(`SELECT 1 FROM live_participants WHERE room = ? AND user_id = ?
		AND (state <> 'left' OR (leave_reason IN (?, ?) AND left_at >= ?)) LIMIT 1`),
		room, userID, ReasonLiveKitLost, ReasonNodeLost, s.now().Add(-rejoinGrace).UnixMilli()).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil, wrapUnavailable("is participant", err)
}

// SetTrackMuted records a mute change made through the RoomService (LiveKit sends no
// webhook for it); the reconciler would find it too, one interval later.
func (s *Service) SetTrackMuted(ctx context.Context, room, trackSid string, muted bool) error {
	now := s.now().UnixMilli()
	ok, err := s.st.setMuted(ctx, s.st.db, trackSid, muted, now, now)
	if err != nil {
		return wrapUnavailable("set muted", err)
	}
	if ok {
		s.Publish(Event{Type: EventTrackMuted, Room: room, Data: map[string]any{"sid": trackSid, "muted": muted}, At: msTime(now)})
	}
	return nil
}

// MarkRoomEnded records that the meeting was ended (end meeting, room deleted): every
// session left, the room instance finished, so late webhooks cannot revive it.
func (s *Service) MarkRoomEnded(ctx context.Context, room string) error {
	now := s.now().UnixMilli()
	s.st.forgetRooms(room)
	var sid string
	var started int64
	err := s.st.db.QueryRowContext(ctx, s.st.q(`SELECT sid, started_at FROM live_rooms WHERE name = ?`), room).Scan(&sid, &started)
	if err != nil && err != sql.ErrNoRows {
		return wrapUnavailable("end room "+room, err)
	}
	var events []Event
	err = s.st.tx(ctx, func(tx *sql.Tx) error {
		events = nil
		ended, err := s.st.closeSessions(ctx, tx, `UPDATE live_participants SET state = 'left', leave_reason = 'room_ended', updated_at = ?, seen_at = ?,
				left_at = CASE WHEN joined_at > ? THEN joined_at ELSE ? END WHERE room = ? AND state <> 'left'`,
			now, now, now, now, room)
		if err == nil && len(ended) > 0 {
			err = s.st.endTracksOfLeft(ctx, tx, room, now, now)
		}
		if err != nil {
			return err
		}
		for _, e := range ended {
			events = append(events, Event{Type: EventParticipantLeft, Room: room, Participant: e.identity,
				Data: map[string]string{"sid": e.sid, "reason": "room_ended"}, At: msTime(now)})
		}
		n, err := s.st.exec(ctx, tx, `UPDATE live_rooms SET active = 0, finished_at = ?, updated_at = ?, seen_at = ? WHERE name = ? AND active = 1`,
			now, now, now, room)
		if err != nil {
			return err
		}
		if n > 0 {
			events = append(events, Event{Type: EventRoomFinished, Room: room, Data: map[string]string{"sid": sid, "reason": "room_ended"}, At: msTime(now)})
		}
		return s.enqueue(ctx, tx, events)
	})
	if err != nil {
		return wrapUnavailable("end room "+room, err)
	}
	for _, e := range events {
		s.Publish(e)
	}
	return nil
}

// enqueue hands committed-to-be events to the outbox inside their transaction.
func (s *Service) enqueue(ctx context.Context, x Execer, events []Event) error {
	if s.outbox == nil || len(events) == 0 {
		return nil
	}
	return s.outbox.Enqueue(ctx, x, events)
}

// RoomState is a running room with its participants, for GET /api/admin/rooms.
type RoomState struct {
	Name         string
	Sid          string
	Active       bool
	StartedAt    time.Time
	Participants []Participant
}

// ActiveRooms lists the running rooms, each with the participants in it now.
func (s *Service) ActiveRooms(ctx context.Context) ([]RoomState, error) {
	rows, err := s.st.openRooms(ctx)
	if err != nil {
		return nil, wrapUnavailable("active rooms", err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	out := make([]RoomState, 0, len(rows))
	for _, r := range rows {
		ps, err := s.Participants(ctx, r.name)
		if err != nil {
			return nil, err
		}
		now := ps[:0]
		for _, p := range ps {
			if p.State != StateLeft {
				now = append(now, p)
			}
		}
		out = append(out, RoomState{Name: r.name, Sid: r.sid, Active: true, StartedAt: msTime(r.startedAt), Participants: now})
	}
	return out, nil
}

// Counts are the live figures of the admin overview.
func (s *Service) Counts(ctx context.Context) (activeRooms, participants int64, err error) {
	err = s.st.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM live_rooms WHERE active = 1),
		(SELECT COUNT(*) FROM live_participants WHERE state <> 'left' AND hidden = 0)`).Scan(&activeRooms, &participants)
	if err != nil {
		return 0, 0, fmt.Errorf("live: counts: %w: %w", ErrUnavailable, err)
	}
	return activeRooms, participants, nil
}
