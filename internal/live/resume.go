package live

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// ReasonLiveKitLost ends the sessions of a meeting whose LiveKit lost it (LiveKit restarted);
// their participants rejoin the re-created room.
const ReasonLiveKitLost = "livekit_lost"

// rejoinGrace is how long a participant whose session LiveKit lost still counts as in the
// meeting (IsParticipant): a locked or full room lets them back in.
const rejoinGrace = 2 * time.Minute

// hold keeps reconciliation passes from changing anything while LiveKit is down: a restarted
// LiveKit lists no rooms, and a pass before ResumeRooms would end every meeting it brings
// back (and the recordings with them). gen tells a hold taken during a resume from the one
// that resume releases.
type hold struct {
	mu  sync.Mutex
	on  bool
	gen uint64
}

func (h *hold) held() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.on
}

// HoldRooms is called when LiveKit stops answering or exits: until ResumeRooms, the
// reconciler leaves the meetings as they are. It never blocks.
func (s *Service) HoldRooms() {
	h := &s.rec.hold
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.on {
		h.on = true
		s.log.Info("live state held: LiveKit is not answering; meetings are kept until it is back")
	}
	h.gen++
}

// RoomsHeld reports whether HoldRooms is in force.
func (s *Service) RoomsHeld() bool { return s.rec.hold.held() }

// ResumeRooms brings the meetings back once LiveKit answers again after HoldRooms: every
// running room is created again through recreate (which returns its LiveKit sid; LiveKit
// answers the room it still has, unchanged), the room instance takes the new sid so the
// meeting goes on, and the sessions LiveKit lost end with ReasonLiveKitLost. Then the hold
// is released and a reconciliation triggered. A room recreate fails for (deleted meanwhile)
// is left to that reconciliation. It returns the rooms that are running in LiveKit again.
func (s *Service) ResumeRooms(ctx context.Context, recreate func(ctx context.Context, room string) (string, error)) ([]string, error) {
	r := s.rec
	r.hold.mu.Lock()
	gen := r.hold.gen
	r.hold.mu.Unlock()
	r.passMu.Lock()
	defer func() {
		r.hold.mu.Lock()
		if r.hold.gen == gen { // not lost again while resuming
			r.hold.on = false
		}
		r.hold.mu.Unlock()
		r.passMu.Unlock()
		r.trigger()
	}()
	rooms, err := r.st.openRooms(ctx)
	if err != nil {
		return nil, fmt.Errorf("live: resume rooms: %w", err)
	}
	var resumed []string
	for _, row := range rooms {
		sid, err := recreate(ctx, row.name)
		if err != nil {
			s.log.Warn("meeting not resumed in LiveKit; the reconciler will judge it", "room", row.name, "err", err)
			continue
		}
		resumed = append(resumed, row.name)
		if sid == "" || sid == row.sid { // LiveKit kept it (a freeze, not a restart)
			continue
		}
		if err := s.roomResumed(ctx, row, sid); err != nil {
			return resumed, fmt.Errorf("live: resume room %q: %w", row.name, err)
		}
	}
	return resumed, nil
}

// roomResumed moves a running room instance to its new LiveKit sid and ends the sessions
// that were in the lost one, publishing participant_left for each.
func (s *Service) roomResumed(ctx context.Context, row roomRow, sid string) error {
	st, now := s.rec.st, s.now().UnixMilli()
	rows, err := st.db.QueryContext(ctx, st.q(`SELECT sid, identity FROM live_participants
		WHERE room = ? AND room_sid = ? AND state <> 'left'`), row.name, row.sid)
	if err != nil {
		return err
	}
	type gone struct{ sid, identity string }
	var lost []gone
	for rows.Next() {
		var g gone
		if err := rows.Scan(&g.sid, &g.identity); err != nil {
			rows.Close()
			return err
		}
		lost = append(lost, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var events []Event
	for _, g := range lost {
		events = append(events, Event{Type: EventParticipantLeft, Room: row.name, Participant: g.identity,
			Data: map[string]string{"sid": g.sid, "reason": ReasonLiveKitLost}, At: msTime(now)})
	}
	err = st.tx(ctx, func(tx *sql.Tx) error {
		if _, err := st.exec(ctx, tx, `UPDATE live_participants SET state = 'left', leave_reason = ?, updated_at = ?, seen_at = ?,
				left_at = CASE WHEN joined_at > ? THEN joined_at ELSE ? END
			WHERE room = ? AND room_sid = ? AND state <> 'left'`, ReasonLiveKitLost, now, now, now, now, row.name, row.sid); err != nil {
			return err
		}
		// A room_started webhook of the new instance may have been first: then it holds the sid.
		if _, err := st.exec(ctx, tx, `UPDATE live_rooms SET sid = ?, updated_at = ?, seen_at = ?
			WHERE name = ? AND sid = ? AND active = 1`, sid, now, now, row.name, row.sid); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, events)
	})
	if err != nil {
		return err
	}
	st.forgetRooms(row.name)
	for _, e := range events {
		s.Publish(e)
	}
	s.log.Info("meeting resumed in a new LiveKit room", "room", row.name, "sid", sid, "sessions_lost", len(lost))
	return nil
}
