package api

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/room"
)

// Integration tests: the real livekit-server, real lksdk participants connecting with the
// tokens the join route hands out, moderation through the HTTP API.

type liveRoomEnv struct {
	*roomEnv
	lk *lksdk.RoomServiceClient
}

func newLiveRoomEnv(t *testing.T) *liveRoomEnv {
	t.Helper()
	srv := lktest.Start(t, lktest.Options{})
	lk := lksdk.NewRoomServiceClient(srv.HTTPURL, srv.APIKey, srv.APISecret)
	state := liveKitState{LK: lk}
	svc, err := room.New(room.Config{APIKey: srv.APIKey, APISecret: srv.APISecret, URL: srv.WSURL,
		TokenTTL: 10 * time.Minute, EmptyTimeout: 5 * time.Minute, DepartureTimeout: 20 * time.Second},
		dbtest.SQLite(t, room.Migrations()), lk, state, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	d := testDeps()
	d.Rooms, d.Live = svc, state.live()
	app := newTestApp(t, d)
	return &liveRoomEnv{roomEnv: &roomEnv{t: t, app: app, svc: svc}, lk: lk}
}

// create makes a room owned by "owner" through the API.
func (e *liveRoomEnv) create(t *testing.T, body map[string]any) {
	t.Helper()
	if got := e.call("POST", "/api/rooms", body, "owner"); got.status != 201 {
		t.Fatalf("create room: %d %s", got.status, got.raw)
	}
}

// connect asks the join route for a token (as token, "" for a guest) and connects with it.
func (e *liveRoomEnv) connect(t *testing.T, name, token string, body map[string]any, cb *lksdk.RoomCallback) *lksdk.Room {
	t.Helper()
	got := e.call("POST", "/api/rooms/"+name+"/join", body, token)
	if got.status != 200 {
		t.Fatalf("join %s as %q: %d %s", name, token, got.status, got.raw)
	}
	if cb == nil {
		cb = lksdk.NewRoomCallback()
	}
	r, err := lksdk.ConnectToRoomWithToken(got.body["url"].(string), got.body["token"].(string), cb, lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Fatalf("connect to %s with the returned token: %v", name, err)
	}
	t.Cleanup(r.Disconnect)
	return r
}

// publish publishes a synthetic track of that source and feeds it samples until the test
// ends (LiveKit lists a track once its media flows).
func publish(t *testing.T, r *lksdk.Room, source livekit.TrackSource) (*lksdk.LocalTrackPublication, error) {
	return lktest.PublishSource(t.Context(), r, source, source.String(), 640, 480)
}

// waitTrack waits until LiveKit lists the participant's track of that source.
func (e *liveRoomEnv) waitTrack(t *testing.T, name, identity string, source livekit.TrackSource) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok := e.serverTracks(t, name, identity)[source]; ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("LiveKit never listed %s's %s track", identity, source)
}

// serverTracks is what LiveKit says the participant publishes, by source.
func (e *liveRoomEnv) serverTracks(t *testing.T, name, identity string) map[livekit.TrackSource]*livekit.TrackInfo {
	t.Helper()
	p, err := e.lk.GetParticipant(context.Background(), &livekit.RoomParticipantIdentity{Room: name, Identity: identity})
	if err != nil {
		t.Fatalf("GetParticipant %s: %v", identity, err)
	}
	out := map[livekit.TrackSource]*livekit.TrackInfo{}
	for _, tr := range p.Tracks {
		out[tr.Source] = tr
	}
	return out
}

func waitFor[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("timed out after %s waiting for %s", d, what)
	}
	var zero T
	return zero
}

func TestRoomsWithLiveKit(t *testing.T) {
	e := newLiveRoomEnv(t)

	t.Run("kick disconnects and a ban refuses a new token", func(t *testing.T) {
		t.Parallel()
		e.create(t, map[string]any{"name": "live-kick", "public": true})
		reasons := make(chan lksdk.DisconnectionReason, 1)
		cb := lksdk.NewRoomCallback()
		cb.OnDisconnectedWithReason = func(r lksdk.DisconnectionReason) { reasons <- r }
		e.connect(t, "live-kick", "bob", nil, cb)
		if got := e.call("POST", "/api/rooms/live-kick/participants/bob/kick", map[string]any{"ban": true, "reason": "spam"}, "owner"); got.status != 204 {
			t.Fatalf("kick: %d %s", got.status, got.raw)
		}
		if r := waitFor(t, reasons, 5*time.Second, "bob's disconnection"); r != lksdk.ParticipantRemoved {
			t.Errorf("bob disconnected with %q, want %q", r, lksdk.ParticipantRemoved)
		}
		if got := e.call("POST", "/api/rooms/live-kick/join", nil, "bob"); got.status != 403 || got.errCode() != "banned" {
			t.Errorf("banned bob joins again: %d %s, want 403 banned", got.status, got.raw)
		}
		if got := e.call("POST", "/api/rooms/live-kick/participants/nobody/kick", nil, "owner"); got.status != 404 || got.errCode() != "participant_not_found" {
			t.Errorf("kick unknown: %d %s, want 404 participant_not_found", got.status, got.raw)
		}
	})

	t.Run("mute is seen by another participant", func(t *testing.T) {
		t.Parallel()
		e.create(t, map[string]any{"name": "live-mute", "public": true})
		alice := e.connect(t, "live-mute", "alice", nil, nil)
		if _, err := publish(t, alice, livekit.TrackSource_MICROPHONE); err != nil {
			t.Fatalf("publish microphone: %v", err)
		}
		e.waitTrack(t, "live-mute", "alice", livekit.TrackSource_MICROPHONE)
		muted := make(chan string, 4)
		cb := lksdk.NewRoomCallback()
		cb.OnTrackMuted = func(pub lksdk.TrackPublication, p lksdk.Participant) {
			muted <- p.Identity() + "/" + pub.Source().String()
		}
		e.connect(t, "live-mute", "carol", nil, cb)
		if got := e.call("POST", "/api/rooms/live-mute/participants/alice/mute", map[string]any{"source": "microphone", "muted": true}, "owner"); got.status != 204 {
			t.Fatalf("mute: %d %s", got.status, got.raw)
		}
		if got := waitFor(t, muted, 5*time.Second, "carol to see alice muted"); got != "alice/MICROPHONE" {
			t.Errorf("carol saw %q muted, want alice/MICROPHONE", got)
		}
		if !e.serverTracks(t, "live-mute", "alice")[livekit.TrackSource_MICROPHONE].Muted {
			t.Error("LiveKit does not report alice's microphone muted")
		}
		if got := e.call("POST", "/api/rooms/live-mute/participants/alice/mute", map[string]any{"source": "camera"}, "owner"); got.status != 404 || got.errCode() != "track_not_found" {
			t.Errorf("mute absent camera: %d %s, want 404 track_not_found", got.status, got.raw)
		}
	})

	t.Run("permissions change revokes screen share live", func(t *testing.T) {
		t.Parallel()
		e.create(t, map[string]any{"name": "live-perm", "public": true})
		dave := e.connect(t, "live-perm", "dave", nil, nil)
		if _, err := publish(t, dave, livekit.TrackSource_SCREEN_SHARE); err != nil {
			t.Fatalf("publish screen share: %v", err)
		}
		e.waitTrack(t, "live-perm", "dave", livekit.TrackSource_SCREEN_SHARE)
		gone := make(chan string, 4)
		cb := lksdk.NewRoomCallback()
		cb.OnTrackUnpublished = func(pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
			gone <- rp.Identity() + "/" + pub.Source().String()
		}
		e.connect(t, "live-perm", "erin", nil, cb)
		got := e.call("PUT", "/api/rooms/live-perm/participants/dave/permissions",
			map[string]any{"canPublish": true, "canPublishSources": []string{"camera", "microphone"}}, "owner")
		if got.status != 200 {
			t.Fatalf("permissions: %d %s", got.status, got.raw)
		}
		if w := waitFor(t, gone, 5*time.Second, "erin to see dave's screen share unpublished"); w != "dave/SCREEN_SHARE" {
			t.Errorf("erin saw %q unpublished, want dave/SCREEN_SHARE", w)
		}
		if _, still := e.serverTracks(t, "live-perm", "dave")[livekit.TrackSource_SCREEN_SHARE]; still {
			t.Error("LiveKit still lists dave's screen share")
		}
	})

	t.Run("a guest cannot publish a source the room forbids", func(t *testing.T) {
		t.Parallel()
		e.create(t, map[string]any{"name": "live-guest", "public": true, "allowGuests": true,
			"defaultPermissions": map[string]any{"canPublishSources": []string{"microphone"}}})
		guest := e.connect(t, "live-guest", "", map[string]any{"displayName": "Guest"}, nil)
		if _, err := publish(t, guest, livekit.TrackSource_MICROPHONE); err != nil {
			t.Fatalf("publish the allowed microphone: %v", err)
		}
		if _, err := publish(t, guest, livekit.TrackSource_CAMERA); err == nil {
			t.Error("LiveKit accepted a camera from a guest of a microphone-only room")
		}
		e.waitTrack(t, "live-guest", guest.LocalParticipant.Identity(), livekit.TrackSource_MICROPHONE)
		tracks := e.serverTracks(t, "live-guest", guest.LocalParticipant.Identity())
		if _, cam := tracks[livekit.TrackSource_CAMERA]; cam || len(tracks) != 1 {
			t.Errorf("LiveKit lists the guest's tracks %v, want only the microphone", tracks)
		}
	})

	t.Run("promote and demote update the connected participant", func(t *testing.T) {
		t.Parallel()
		e.create(t, map[string]any{"name": "live-promote", "public": true,
			"defaultPermissions": map[string]any{"canPublishSources": []string{"microphone"}}})
		e.connect(t, "live-promote", "hank", nil, nil)
		roles := make(chan string, 4)
		cb := lksdk.NewRoomCallback()
		cb.OnMetadataChanged = func(_ string, p lksdk.Participant) {
			if p.Identity() == "hank" {
				roles <- p.Metadata()
			}
		}
		e.connect(t, "live-promote", "iris", nil, cb)
		for _, step := range []struct{ method, role string }{{"POST", "moderator"}, {"DELETE", "participant"}} {
			if got := e.call(step.method, "/api/rooms/live-promote/moderators/hank", nil, "owner"); got.status != 204 {
				t.Fatalf("%s moderator: %d %s", step.method, got.status, got.raw)
			}
			want := `"role":"` + step.role + `"`
			for md := ""; !strings.Contains(md, want); {
				md = waitFor(t, roles, 5*time.Second, "iris to see hank's metadata with "+want)
			}
		}
		p, err := e.lk.GetParticipant(context.Background(), &livekit.RoomParticipantIdentity{Room: "live-promote", Identity: "hank"})
		if err != nil || len(p.Permission.GetCanPublishSources()) != 1 || p.Permission.GetCanUpdateMetadata() {
			t.Errorf("demoted hank's permission %v (%v), want the room's microphone-only defaults", p.GetPermission(), err)
		}
	})

	t.Run("end disconnects everyone", func(t *testing.T) {
		t.Parallel()
		e.create(t, map[string]any{"name": "live-end", "public": true})
		down := make(chan string, 4)
		for _, who := range []string{"frank", "gina"} {
			cb := lksdk.NewRoomCallback()
			cb.OnDisconnected = func() { down <- who }
			e.connect(t, "live-end", who, nil, cb)
		}
		got := e.call("GET", "/api/rooms/live-end/participants", nil, "owner")
		if items, _ := got.body["items"].([]any); got.status != 200 || len(items) != 2 {
			t.Fatalf("participants: %d %s, want 2 items", got.status, got.raw)
		}
		if got := e.call("POST", "/api/rooms/live-end/end", nil, "owner"); got.status != 204 {
			t.Fatalf("end: %d %s", got.status, got.raw)
		}
		seen := map[string]bool{}
		for range 2 {
			seen[waitFor(t, down, 5*time.Second, fmt.Sprintf("disconnections (got %v)", seen))] = true
		}
	})
}
