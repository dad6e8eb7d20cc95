package live

import (
	"context"
	"time"

	"github.com/livekit/protocol/livekit"
)

// NodeHealth reports the rooms lost with a dead LiveKit node. A LiveKit cluster keeps a dead
// node's rooms and participants in Redis, and its RoomService keeps listing them as active;
// the reconciler ends what NodeHealth reports lost (RedisNodes reads LiveKit's routing state).
type NodeHealth interface {
	LostRooms(ctx context.Context) (map[string]LostRoom, error)
}

// LostRoom is a room whose node died. Without Rehosted the room and all its participants
// are gone; with it LiveKit re-hosted the room on a live node and only the participants
// who joined before JoinedBefore (on the dead node) are gone.
type LostRoom struct {
	Rehosted     bool
	JoinedBefore time.Time
}

// ReasonNodeLost ends the sessions and rooms of a LiveKit node that died.
const ReasonNodeLost = "node_lost"

// lostRooms asks the node health check. When it cannot answer nothing is lost (a Redis
// outage never ends meetings), with a warning at most once a minute.
func (r *reconciler) lostRooms(ctx context.Context) map[string]LostRoom {
	if r.nodes == nil {
		return nil
	}
	lost, err := r.nodes.LostRooms(ctx)
	if err != nil {
		if now := r.now().UnixMilli(); now-r.nodesWarned >= time.Minute.Milliseconds() {
			r.nodesWarned = now
			r.log.Warn("LiveKit node health unknown: rooms of a dead LiveKit node are not ended until it answers", "err", err)
		}
		return nil
	}
	return lost
}

// dropLost removes from LiveKit's answer what died with a node and is still listed: lost
// rooms, and the participants a re-hosted room lists from its dead node.
func dropLost(lk map[string]lkRoom, lost map[string]LostRoom) {
	for name, l := range lost {
		cur, ok := lk[name]
		switch {
		case !ok:
		case !l.Rehosted:
			delete(lk, name)
		default:
			var kept []*livekit.ParticipantInfo
			for _, p := range cur.participants {
				if lostReason(lost, name, sessionOf(cur.room, p).JoinedAt) != ReasonNodeLost {
					kept = append(kept, p)
				}
			}
			cur.participants = kept
			lk[name] = cur
		}
	}
}

// lostReason is node_lost for a session (joined at unix ms) that died with its room's node.
func lostReason(lost map[string]LostRoom, room string, joinedAt int64) string {
	if l, ok := lost[room]; ok && (!l.Rehosted || joinedAt < l.JoinedBefore.UnixMilli()) {
		return ReasonNodeLost
	}
	return "reconciled"
}
