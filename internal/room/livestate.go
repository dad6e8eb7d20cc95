package room

import (
	"context"
	"fmt"

	"github.com/livekit/protocol/livekit"
)

// ParticipantLister is LiveKit's ListParticipants (server-sdk-go's signature).
type ParticipantLister interface {
	ListParticipants(ctx context.Context, req *livekit.ListParticipantsRequest) (*livekit.ListParticipantsResponse, error)
}

// LiveKitState answers the live-state questions (Live, and the participants list) from
// LiveKit's ListParticipants. It is correct but costs one LiveKit call per question, so
// internal/live, kept fresh by webhooks, replaces it once wired.
type LiveKitState struct{ LK ParticipantLister }

func (l LiveKitState) list(ctx context.Context, name string) ([]*livekit.ParticipantInfo, error) {
	res, err := l.LK.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: name})
	if err != nil {
		if isNotFound(err) {
			return nil, nil // no LiveKit room: nobody is in
		}
		return nil, lkErr(err, nil, "room %q: list participants", name)
	}
	return res.Participants, nil
}

// ActiveCount counts connected participants.
func (l LiveKitState) ActiveCount(ctx context.Context, name string) (int, error) {
	ps, err := l.list(ctx, name)
	n := 0
	for _, p := range ps {
		if p.State != livekit.ParticipantInfo_DISCONNECTED {
			n++
		}
	}
	return n, err
}

// IsParticipant reports whether the user (whose identity is its id) is connected.
func (l LiveKitState) IsParticipant(ctx context.Context, name, userID string) (bool, error) {
	ps, err := l.list(ctx, name)
	for _, p := range ps {
		if p.Identity == userID && p.State != livekit.ParticipantInfo_DISCONNECTED {
			return true, nil
		}
	}
	return false, err
}

// MarkRoomEnded has nothing to mark: LiveKit's own state is the truth here.
func (l LiveKitState) MarkRoomEnded(context.Context, string) error { return nil }

// SetTrackMuted is a no-op: LiveKit itself is the state here.
func (l LiveKitState) SetTrackMuted(context.Context, string, string, bool) error { return nil }

// Participants lists the room's participants in API.md's shape.
func (l LiveKitState) Participants(ctx context.Context, name string) (any, error) {
	ps, err := l.list(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("participants: %w", err)
	}
	out := make([]Participant, 0, len(ps))
	for _, p := range ps {
		out = append(out, ParticipantFromInfo(p))
	}
	return out, nil
}
