package live

import (
	"context"
	"database/sql"
	"strings"

	"github.com/livekit/protocol/livekit"
)

// Ordering rules, enforced in SQL so that they hold whichever instance writes:
//   - a participant session is keyed by its sid and "left" is final: a late or replayed
//     joined never revives it, and a left for an old sid never touches a newer session;
//   - a joined for an identity that already has a newer open session in the room is stored
//     as left (replaced); a newer joined ends older sessions of the same identity (LiveKit
//     disconnects a duplicate identity);
//   - a room row follows the newest LiveKit room sid; room_started for a sid already finished
//     is ignored (livekit#2945), as is anything about a sid older than the current one.

// roomStarted makes sid the room's running instance unless it is already known (running or
// finished) or older than the current one.
func (s *store) roomStarted(ctx context.Context, x execer, name, sid string, startedAt, at, seen int64) (bool, error) {
	if sid == "" {
		return false, nil
	}
	n, err := s.exec(ctx, x, `INSERT INTO live_rooms (name, sid, active, started_at, finished_at, updated_at, seen_at)
		VALUES (?, ?, 1, ?, 0, ?, ?)
		ON CONFLICT (name) DO UPDATE SET sid = excluded.sid, active = 1, started_at = excluded.started_at,
			finished_at = 0, updated_at = excluded.updated_at, seen_at = excluded.seen_at
		WHERE live_rooms.sid <> excluded.sid AND live_rooms.started_at <= excluded.started_at`,
		name, sid, startedAt, at, seen)
	return n > 0, err
}

// roomStillRunning reactivates a room instance marked finished that LiveKit listed as
// running in a snapshot taken after that mark. Webhooks never do this (a room_started after
// room_finished of one sid is a reordering, livekit#2945), but LiveKit's own listing is the
// truth: a cluster that re-hosts a room after its node died keeps the sid.
func (s *store) roomStillRunning(ctx context.Context, x execer, name, sid string, snapshot, now int64) (bool, error) {
	n, err := s.exec(ctx, x, `UPDATE live_rooms SET active = 1, finished_at = 0, updated_at = ?, seen_at = ?
		WHERE name = ? AND sid = ? AND active = 0 AND seen_at < ?`, now, now, name, sid, snapshot)
	return n > 0, err
}

// endedSession is a session that ended with its room: it gets a participant_left of its own,
// so that whoever follows the events sees every session end, whatever ended it.
type endedSession struct {
	sid, identity string
	hidden        bool
}

// closeSessions runs an UPDATE ... RETURNING sid, identity and returns the sessions it ended.
func (s *store) closeSessions(ctx context.Context, x execer, query string, args ...any) ([]endedSession, error) {
	rows, err := x.QueryContext(ctx, s.q(query+` RETURNING sid, identity, hidden`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []endedSession
	for rows.Next() {
		var e endedSession
		var hidden int
		if err := rows.Scan(&e.sid, &e.identity, &hidden); err != nil {
			return nil, err
		}
		e.hidden = hidden != 0
		out = append(out, e)
	}
	return out, rows.Err()
}

// roomFinished ends the room instance sid and every session still open in it.
func (s *store) roomFinished(ctx context.Context, x execer, name, sid string, startedAt, at, seen int64, reason string) (bool, []endedSession, error) {
	s.forgetRooms(name)
	n, err := s.exec(ctx, x, `INSERT INTO live_rooms (name, sid, active, started_at, finished_at, updated_at, seen_at)
		VALUES (?, ?, 0, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET sid = excluded.sid, active = 0, finished_at = excluded.finished_at,
			updated_at = excluded.updated_at, seen_at = excluded.seen_at
		WHERE (live_rooms.sid = excluded.sid AND live_rooms.active = 1)
			OR (live_rooms.sid <> excluded.sid AND live_rooms.started_at <= excluded.started_at)`,
		name, sid, startedAt, at, at, seen)
	if err != nil {
		return false, nil, err
	}
	ended, err := s.closeSessions(ctx, x, `UPDATE live_participants SET state = 'left', leave_reason = ?, updated_at = ?, seen_at = ?,
			left_at = CASE WHEN joined_at > ? THEN joined_at ELSE ? END
		WHERE room = ? AND (room_sid = ? OR room_sid = '') AND state <> 'left'`,
		reason, at, seen, at, at, name, sid)
	if err == nil && len(ended) > 0 {
		err = s.endTracksOfLeft(ctx, x, name, at, seen)
	}
	return n > 0, ended, err
}

// endTracksOfLeft ends the tracks of the room's sessions that have left. A session closed by
// the room's end takes its tracks with it: LiveKit's own track_unpublished for them comes
// later (after Parley ended the meeting, or after room_finished), and would otherwise be a
// change of state, and an event to integrations, after the room had finished.
func (s *store) endTracksOfLeft(ctx context.Context, x execer, room string, at, seen int64) error {
	_, err := s.exec(ctx, x, `UPDATE live_tracks SET unpublished_at = ?, updated_at = ?, seen_at = ?
		WHERE room = ? AND unpublished_at = 0
			AND participant_sid IN (SELECT sid FROM live_participants WHERE room = ? AND state = 'left')`,
		at, at, seen, room, room)
	return err
}

// sessionJoined records a joining or joined session; see the ordering rules above.
// started reports that the join made its room the running instance (its room_started was
// late or lost).
func (s *store) sessionJoined(ctx context.Context, x execer, sess session, at, seen int64) (joined, started bool, err error) {
	// Other open sessions of this identity in the room: the newest join, and how many.
	var newest sql.NullInt64
	var open int
	err = x.QueryRowContext(ctx, s.q(`SELECT MAX(joined_at), COUNT(*)
		FROM live_participants WHERE room = ? AND identity = ? AND state <> 'left' AND sid <> ?`),
		sess.Room, sess.Identity, sess.Sid).Scan(&newest, &open)
	if err != nil {
		return false, false, err
	}
	if newest.Valid && newest.Int64 > sess.JoinedAt {
		// A late joined of a session already replaced by a rejoin: history only.
		sess.State, sess.Reason, sess.LeftAt = StateLeft, "replaced", sess.JoinedAt
		_, err := s.sessionLeft(ctx, x, sess, at, seen)
		return false, false, err
	}
	n, err := s.exec(ctx, x, `INSERT INTO live_participants (sid, room, room_sid, identity, name, user_id, role, state,
			joined_at, left_at, leave_reason, hidden, updated_at, seen_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '', ?, ?, ?)
		ON CONFLICT (sid) DO UPDATE SET state = excluded.state, name = excluded.name, updated_at = excluded.updated_at,
			seen_at = excluded.seen_at
		WHERE live_participants.state = 'joining' AND excluded.state = 'joined'`,
		sess.Sid, sess.Room, sess.RoomSid, sess.Identity, sess.Name, sess.UserID, sess.Role, sess.State,
		sess.JoinedAt, boolInt(sess.Hidden), at, seen)
	if err != nil || n == 0 {
		return false, false, err
	}
	if open > 0 {
		if _, err := s.exec(ctx, x, `UPDATE live_participants SET state = 'left', leave_reason = 'replaced', left_at = ?,
				updated_at = ?, seen_at = ?
			WHERE room = ? AND identity = ? AND sid <> ? AND state <> 'left' AND joined_at <= ?`,
			sess.JoinedAt, at, seen, sess.Room, sess.Identity, sess.Sid, sess.JoinedAt); err != nil {
			return false, false, err
		}
	}
	// A participant proves its room runs, should room_started be late or lost. The writer
	// remembers rooms it already ensured: for a known sid the upsert is a no-op anyway.
	if sess.RoomSid != "" && s.knownRoomSid(sess.Room) != sess.RoomSid {
		if started, err = s.roomStarted(ctx, x, sess.Room, sess.RoomSid, sess.JoinedAt, at, seen); err != nil {
			return false, false, err
		}
		s.rememberRoomSid(sess.Room, sess.RoomSid)
	}
	return true, started, nil
}

// sessionLeft ends a session (creating it, already left, when its joined never came).
func (s *store) sessionLeft(ctx context.Context, x execer, sess session, at, seen int64) (bool, error) {
	if sess.LeftAt < sess.JoinedAt {
		sess.LeftAt = sess.JoinedAt
	}
	n, err := s.exec(ctx, x, `INSERT INTO live_participants (sid, room, room_sid, identity, name, user_id, role, state,
			joined_at, left_at, leave_reason, hidden, updated_at, seen_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'left', ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sid) DO UPDATE SET state = 'left', leave_reason = excluded.leave_reason,
			left_at = CASE WHEN excluded.left_at < live_participants.joined_at THEN live_participants.joined_at ELSE excluded.left_at END,
			updated_at = excluded.updated_at, seen_at = excluded.seen_at
		WHERE live_participants.state <> 'left'`,
		sess.Sid, sess.Room, sess.RoomSid, sess.Identity, sess.Name, sess.UserID, sess.Role,
		sess.JoinedAt, sess.LeftAt, sess.Reason, boolInt(sess.Hidden), at, seen)
	// The session's tracks are not touched: a left session's tracks are never listed.
	return n > 0, err
}

// Track is a published track.
type Track struct {
	Sid    string
	Source string // camera | microphone | screen_share | ...
	Kind   string // audio | video
	Muted  bool
}

// trackData is a track event's data.
func trackData(t Track) map[string]any {
	return map[string]any{"sid": t.Sid, "source": t.Source, "kind": t.Kind, "muted": t.Muted}
}

func trackOf(t *livekit.TrackInfo) Track {
	return Track{Sid: t.GetSid(), Source: clip(strings.ToLower(t.GetSource().String()), 32),
		Kind: clip(strings.ToLower(t.GetType().String()), 16), Muted: t.GetMuted()}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// trackPublished records a track; a newer state of the same track (unpublished, or a mute
// change seen later) is kept.
func (s *store) trackPublished(ctx context.Context, x execer, room, participantSid string, t Track, at, seen int64) (bool, error) {
	n, err := s.exec(ctx, x, `INSERT INTO live_tracks (sid, participant_sid, room, source, kind, muted, unpublished_at, updated_at, seen_at)
		VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)
		ON CONFLICT (sid) DO UPDATE SET muted = excluded.muted, updated_at = excluded.updated_at, seen_at = excluded.seen_at
		WHERE live_tracks.unpublished_at = 0 AND live_tracks.muted <> excluded.muted AND live_tracks.updated_at < excluded.updated_at`,
		t.Sid, participantSid, room, t.Source, t.Kind, boolInt(t.Muted), at, seen)
	return n > 0, err
}

// trackUnpublished ends a track for good.
func (s *store) trackUnpublished(ctx context.Context, x execer, room, participantSid string, t Track, at, seen int64) (bool, error) {
	n, err := s.exec(ctx, x, `INSERT INTO live_tracks (sid, participant_sid, room, source, kind, muted, unpublished_at, updated_at, seen_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sid) DO UPDATE SET unpublished_at = excluded.unpublished_at, updated_at = excluded.updated_at,
			seen_at = excluded.seen_at
		WHERE live_tracks.unpublished_at = 0`,
		t.Sid, participantSid, room, t.Source, t.Kind, boolInt(t.Muted), at, at, seen)
	return n > 0, err
}
