package api

import (
	"testing"

	"github.com/parley/parley/internal/room"
)

// LiveKit sends no webhook for a mute, so a moderator's mute is written to the live state
// at once (the dashboard shows it without waiting for the reconciler).
func TestMuteRecordsLiveState(t *testing.T) {
	e := newRoomEnv(t)
	e.seed("mute-state", room.Input{})
	for _, muted := range []bool{true, false} {
		if got := e.call("POST", "/api/rooms/mute-state/participants/target/mute", map[string]any{"source": "microphone", "muted": muted}, "mod"); got.status != 204 {
			t.Fatalf("mute %v: %d %s", muted, got.status, got.raw)
		}
		e.live.mu.Lock()
		rec, ok := e.live.muted["TR_mic"]
		e.live.mu.Unlock()
		if !ok || rec != muted {
			t.Errorf("live state after mute %v: recorded=%v (present %v)", muted, rec, ok)
		}
	}
}
