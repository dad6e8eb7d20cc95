package main

import (
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/parley/parley/internal/livekit/lktest"
)

// TestReconcilerRefusesWhatTheWebhookMissed: a LiveKit that sends Parley no webhook at all
// (a lost webhook, for every join), so nothing but the reconciler sees who enters. Tokens
// issued before a ban and before a lock still let their holders into LiveKit; the next
// reconcile pass removes them, and leaves alone the participants Parley admits.
func TestReconcilerRefusesWhatTheWebhookMissed(t *testing.T) {
	lk := lktest.Start(t, lktest.Options{}) // no webhook block: LiveKit posts nothing
	p := startParley(t, testEnv(t, "PARLEY_LIVEKIT_EXTERNAL=true", "PARLEY_LIVEKIT_HOST="+lk.WSURL,
		"PARLEY_LIVEKIT_INTERNAL_HOST="+lk.HTTPURL, "PARLEY_LIVEKIT_API_KEY="+lk.APIKey,
		"PARLEY_LIVEKIT_API_SECRET="+lk.APISecret, "PARLEY_LIVEKIT_RECONCILE_INTERVAL=500ms"))
	rooms := lksdk.NewRoomServiceClient(lk.HTTPURL, lk.APIKey, lk.APISecret)
	owner, _ := user(t, p, "owner@example.com")
	bob, _ := user(t, p, "bob@example.com")
	owner.must(201, "POST", "/api/rooms", map[string]any{"name": "quiet", "public": true, "allowGuests": true})
	token, url, identity := owner.join("quiet", nil)
	host := connectWith(t, url, token, identity)

	t.Run("a banned user comes back with the token issued before the ban", func(t *testing.T) {
		token, url, identity := bob.join("quiet", nil)
		first := connectWith(t, url, token, identity)
		owner.must(204, "POST", "/api/rooms/quiet/participants/"+identity+"/kick", map[string]any{"ban": true})
		first.waitRemoved(t, "kick") // the API's own removal, not the reconciler's
		took := connectRefused(t, url, token, identity, "reconnect with the pre-ban token, no webhook")
		t.Logf("banned user's old token: removed by the reconciler %s after connecting", took.Round(time.Millisecond))
	})

	t.Run("a guest token issued before the lock", func(t *testing.T) {
		token, url, identity := newBrowser(t, p).join("quiet", map[string]any{"displayName": "Early guest"})
		owner.must(200, "PATCH", "/api/rooms/quiet", map[string]any{"locked": true})
		took := connectRefused(t, url, token, identity, "guest token issued before the lock, no webhook")
		t.Logf("pre-lock guest token: removed by the reconciler %s after connecting", took.Round(time.Millisecond))
	})

	// The passes that removed the others judged the owner too, and kept it.
	select {
	case <-host.removed:
		t.Fatal("the reconciler removed the room's owner")
	default:
	}
	if !inLiveKitRoom(rooms, "quiet", identity) {
		t.Fatal("the owner is no longer in the LiveKit room")
	}
}
