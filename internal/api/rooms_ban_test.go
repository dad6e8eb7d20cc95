package api

import (
	"context"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
)

// A participant who leaves just before the moderator bans them is banned all the same;
// without a participant to go by, a plain kick is still a 404.
func TestBanParticipantWhoLeft(t *testing.T) {
	e := newLiveRoomEnv(t)
	e.create(t, map[string]any{"name": "live-left", "public": true})
	e.connect(t, "live-left", "owner", nil, nil) // keeps the LiveKit room open
	bob := e.connect(t, "live-left", "bob", nil, nil)
	bob.Disconnect()
	// LiveKit drops a participant at once when its leave arrives; on a loaded machine the
	// SDK's leave can be lost in the close, and LiveKit then waits for bob to come back
	// (a CI run saw him listed 10 s on). Removing him makes "gone" certain either way.
	_, _ = e.lk.RemoveParticipant(context.Background(), &livekit.RoomParticipantIdentity{Room: "live-left", Identity: "bob"})
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := e.lk.GetParticipant(context.Background(), &livekit.RoomParticipantIdentity{Room: "live-left", Identity: "bob"})
		if err != nil {
			break // LiveKit no longer lists bob
		}
		if time.Now().After(deadline) {
			t.Fatal("LiveKit still lists bob 10 s after he left")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := e.call("POST", "/api/rooms/live-left/participants/bob/kick", nil, "owner"); got.status != 404 {
		t.Fatalf("kick without ban of someone gone: %d %s, want 404", got.status, got.raw)
	}
	if got := e.call("POST", "/api/rooms/live-left/participants/bob/kick", map[string]any{"ban": true}, "owner"); got.status != 204 {
		t.Fatalf("ban of bob who left: %d %s, want 204", got.status, got.raw)
	}
	if got := e.call("POST", "/api/rooms/live-left/join", nil, "bob"); got.status != 403 || got.errCode() != "banned" {
		t.Fatalf("banned bob joins again: %d %s, want 403 banned", got.status, got.raw)
	}
	// The owner is still not a moderator's to ban.
	e.call("POST", "/api/rooms/live-left/moderators/mod", nil, "owner")
	if got := e.call("POST", "/api/rooms/live-left/participants/owner/kick", map[string]any{"ban": true}, "mod"); got.status != 403 {
		t.Fatalf("moderator bans the owner: %d %s, want 403", got.status, got.raw)
	}
}
