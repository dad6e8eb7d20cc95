package api

import (
	"testing"

	lksdk "github.com/livekit/server-sdk-go/v2"
)

// tryConnect asks for a token and connects with it, returning LiveKit's answer.
func (e *liveRoomEnv) tryConnect(t *testing.T, name, token string) error {
	t.Helper()
	got := e.call("POST", "/api/rooms/"+name+"/join", nil, token)
	if got.status != 200 {
		t.Fatalf("join %s as %q: %d %s", name, token, got.status, got.raw)
	}
	r, err := lksdk.ConnectToRoomWithToken(got.body["url"].(string), got.body["token"].(string), lksdk.NewRoomCallback(), lksdk.WithAutoSubscribe(false))
	if err == nil {
		t.Cleanup(r.Disconnect)
	}
	return err
}

// Every token Parley hands out for a room with maxParticipants must get into LiveKit:
// after the owner raises the limit of a live meeting, and for a moderator joining a full
// one (moderators pass the limit).
func TestMaxParticipantsChangesReachTheMeeting(t *testing.T) {
	e := newLiveRoomEnv(t)

	t.Run("raised while the meeting runs", func(t *testing.T) {
		t.Parallel()
		e.create(t, map[string]any{"name": "cap-raise", "public": true, "maxParticipants": 1})
		if err := e.tryConnect(t, "cap-raise", "alice"); err != nil {
			t.Fatalf("alice: %v", err)
		}
		if got := e.call("POST", "/api/rooms/cap-raise/join", nil, "bob"); got.status != 422 || got.errCode() != "room_full" {
			t.Fatalf("bob in a full room: %d %s, want 422 room_full", got.status, got.raw)
		}
		if got := e.call("PATCH", "/api/rooms/cap-raise", map[string]any{"maxParticipants": 3}, "owner"); got.status != 200 {
			t.Fatalf("raise the limit: %d %s", got.status, got.raw)
		}
		if err := e.tryConnect(t, "cap-raise", "bob"); err != nil {
			t.Fatalf("bob after the limit was raised to 3: LiveKit refused the token Parley gave: %v", err)
		}
	})

	t.Run("the owner joins a full meeting", func(t *testing.T) {
		t.Parallel()
		e.create(t, map[string]any{"name": "cap-owner", "public": true, "maxParticipants": 1})
		if err := e.tryConnect(t, "cap-owner", "alice"); err != nil {
			t.Fatalf("alice: %v", err)
		}
		if err := e.tryConnect(t, "cap-owner", "owner"); err != nil {
			t.Fatalf("the owner in a room full of others: LiveKit refused the token Parley gave: %v", err)
		}
	})
}
