package live

import (
	"context"
	"database/sql"

	"github.com/livekit/protocol/livekit"
)

// repair makes the database match LiveKit. Rows written after the snapshot was taken (by a
// webhook racing this pass) are newer than what LiveKit told us and are left alone.
// Sessions and rooms lost with a dead node end with reason node_lost, sessions first so each
// is counted and published.
//
// The repairs commit in one transaction, with their outbound webhook events (Outbox); the bus
// hears of them once they committed.
func (r *reconciler) repair(ctx context.Context, lk map[string]lkRoom, lost map[string]LostRoom, snapshot int64) (map[string]int, error) {
	var repairs map[string]int
	var events []Event
	hidden := map[string]bool{} // room + identity of LiveKit's recorders, for Event.Hidden
	for name, cur := range lk {
		for _, p := range cur.participants {
			if sessionOf(cur.room, p).Hidden {
				hidden[name+"\x00"+p.GetIdentity()] = true
			}
		}
	}
	err := r.st.tx(ctx, func(tx *sql.Tx) error {
		var err error
		events = events[:0]
		publish := func(typ, room, identity string, data any) {
			ev := Event{Type: typ, Room: room, Participant: identity, Data: data, At: msTime(r.now().UnixMilli())}
			if typ == EventParticipantJoined || typ == EventParticipantLeft {
				ev.Hidden = hidden[room+"\x00"+identity]
			}
			events = append(events, ev)
		}
		if repairs, err = r.repairIn(ctx, tx, lk, lost, snapshot, publish); err != nil {
			return err
		}
		if r.outbox != nil && len(events) > 0 {
			return r.outbox.Enqueue(ctx, tx, events)
		}
		return nil
	})
	if err != nil {
		r.st.forgetRooms("") // the cache may name rows the rollback undid
		return repairs, err
	}
	for _, e := range events {
		r.bus.Publish(e)
	}
	return repairs, nil
}

func (r *reconciler) repairIn(ctx context.Context, x execer, lk map[string]lkRoom, lost map[string]LostRoom, snapshot int64,
	publish func(typ, room, identity string, data any)) (map[string]int, error) {
	repairs := map[string]int{}
	rooms, err := r.st.openRooms(ctx)
	if err != nil {
		return repairs, err
	}
	sessions, err := r.st.openSessions(ctx)
	if err != nil {
		return repairs, err
	}
	tracks, err := r.st.openTracks(ctx)
	if err != nil {
		return repairs, err
	}
	now := r.now().UnixMilli()
	// Rooms LiveKit no longer runs are finished (their open sessions end with them).
	finish := func(rows []roomRow, reason string) error {
		for _, row := range rows {
			ok, ended, err := r.st.roomFinished(ctx, x, row.name, row.sid, row.startedAt, now, now, reason)
			if err != nil {
				return err
			}
			for _, e := range ended {
				repairs[RepairParticipantLeft]++
				publish(EventParticipantLeft, row.name, e.identity, map[string]string{"sid": e.sid, "reason": reason})
			}
			if ok {
				repairs[RepairRoomFinished]++
				publish(EventRoomFinished, row.name, "", map[string]string{"sid": row.sid, "reason": reason})
			}
		}
		return nil
	}
	var gone, nodeLost []roomRow
	for _, row := range rooms {
		if cur, ok := lk[row.name]; (ok && cur.room.GetSid() == row.sid) || row.seenAt >= snapshot {
			continue
		}
		if l, ok := lost[row.name]; ok && !l.Rehosted {
			nodeLost = append(nodeLost, row)
		} else {
			gone = append(gone, row)
		}
	}
	if err := finish(gone, "reconciled"); err != nil {
		return repairs, err
	}
	inLiveKit := map[string]bool{}
	for name, cur := range lk {
		ok, err := r.st.roomStarted(ctx, x, name, cur.room.GetSid(), roomStartedAt(cur.room, now), now, now)
		if l, dead := lost[name]; err == nil && !ok && (!dead || l.Rehosted) {
			// A dead node's rooms stay listed until re-hosted: those are not running.
			ok, err = r.st.roomStillRunning(ctx, x, name, cur.room.GetSid(), snapshot, now)
		}
		if err != nil {
			return repairs, err
		} else if ok {
			repairs[RepairRoomStarted]++
			publish(EventRoomStarted, name, "", map[string]string{"sid": cur.room.GetSid()})
		}
		for _, p := range cur.participants {
			sess := sessionOf(cur.room, p)
			if sess.State == StateLeft {
				continue
			}
			inLiveKit[sess.Sid] = true
			if sess.JoinedAt == 0 {
				sess.JoinedAt = now
			}
			old, known := sessions[sess.Sid]
			if !known || old.state != sess.State {
				ok, started, err := r.st.sessionJoined(ctx, x, sess, now, now)
				if err != nil {
					return repairs, err
				}
				if started { // the room's own repair above came first: normally never
					publish(EventRoomStarted, name, "", map[string]string{"sid": cur.room.GetSid()})
				}
				if ok {
					kind := RepairParticipantAdded
					if known {
						kind = RepairParticipantState
					}
					repairs[kind]++
					publish(EventParticipantJoined, name, sess.Identity, participantData(sess))
				}
			}
			if err := r.repairTracks(ctx, x, name, p, tracks, snapshot, now, repairs, publish); err != nil {
				return repairs, err
			}
		}
	}
	// Sessions LiveKit does not know any more have ended.
	for sid, row := range sessions {
		if inLiveKit[sid] || row.seenAt >= snapshot {
			continue
		}
		reason := lostReason(lost, row.room, row.joinedAt)
		sess := session{Sid: sid, Room: row.room, RoomSid: row.roomSid, Identity: row.identity, JoinedAt: row.joinedAt,
			LeftAt: now, Reason: reason}
		ok, err := r.st.sessionLeft(ctx, x, sess, now, now)
		if err != nil {
			return repairs, err
		}
		if ok {
			repairs[RepairParticipantLeft]++
			publish(EventParticipantLeft, row.room, row.identity, map[string]string{"sid": sid, "reason": reason})
		}
	}
	return repairs, finish(nodeLost, ReasonNodeLost)
}

func (r *reconciler) repairTracks(ctx context.Context, x execer, room string, p *livekit.ParticipantInfo, tracks map[string]trackRow,
	snapshot, now int64, repairs map[string]int, publish func(typ, room, identity string, data any)) error {
	live := map[string]bool{}
	for _, ti := range p.GetTracks() {
		t := trackOf(ti)
		live[t.Sid] = true
		old, known := tracks[t.Sid]
		switch {
		case !known:
			ok, err := r.st.trackPublished(ctx, x, room, p.GetSid(), t, now, now)
			if err != nil {
				return err
			}
			if ok {
				repairs[RepairTrackPublished]++
				publish(EventTrackPublished, room, p.GetIdentity(), trackData(t))
			}
		case old.muted != t.Muted && old.seenAt < snapshot:
			ok, err := r.st.setMuted(ctx, x, t.Sid, t.Muted, now, now)
			if err != nil {
				return err
			}
			if ok {
				repairs[RepairTrackMuted]++
				publish(EventTrackMuted, room, p.GetIdentity(), trackData(t))
			}
		}
	}
	for sid, row := range tracks {
		if row.participantSid != p.GetSid() || live[sid] || row.seenAt >= snapshot {
			continue
		}
		t := Track{Sid: sid, Source: row.source, Kind: row.kind}
		ok, err := r.st.trackUnpublished(ctx, x, room, row.participantSid, t, now, now)
		if err != nil {
			return err
		}
		if ok {
			repairs[RepairTrackUnpublished]++
			publish(EventTrackUnpublished, room, p.GetIdentity(), trackData(t))
		}
	}
	return nil
}
