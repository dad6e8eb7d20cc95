package builtin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/recording"
	"github.com/pion/webrtc/v4"
)

// A room where a participant publishes an end-to-end encrypted track is refused: the
// recorder holds no key and would store ciphertext. It leaves the room and keeps no files.
func TestStartRefusesEncryptedRoom(t *testing.T) {
	e := newEnv(t, false)
	e.createRoom(t, "secret")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pub := lksdk.NewRoom(lksdk.NewRoomCallback())
	if err := pub.JoinWithContextAndToken(ctx, e.lk.WSURL, joinToken(e.lk.APIKey, e.lk.APISecret, "secret", "alice", true)); err != nil {
		t.Fatalf("join: %v", err)
	}
	t.Cleanup(pub.Disconnect)
	track, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{Name: "mic",
		Source: livekit.TrackSource_MICROPHONE, Encryption: livekit.Encryption_GCM}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	// waitFor polls LiveKit's participant list until ok holds or the deadline passes.
	waitFor := func(what string, ok func([]*livekit.ParticipantInfo) bool) {
		t.Helper()
		for {
			res, err := e.rooms.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: "secret"})
			if err != nil {
				t.Fatal(err)
			}
			if ok(res.Participants) {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s: still %d participant(s) at the deadline", what, len(res.Participants))
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	// LiveKit knows the track as encrypted before the recorder joins.
	waitFor("the encrypted track", func(ps []*livekit.ParticipantInfo) bool {
		return len(ps) == 1 && len(ps[0].Tracks) == 1 && ps[0].Tracks[0].Encryption == livekit.Encryption_GCM
	})
	_, err = e.rec.Start(ctx, recording.StartRequest{RecordingID: "encrypted1", Room: "secret", StartedAt: time.Now(),
		FileKey: recording.FileKey("secret", "encrypted1", time.Now())})
	if !errors.Is(err, recording.ErrEncryptedRoom) {
		t.Fatalf("Start = %v, want ErrEncryptedRoom", err)
	}
	if _, err := os.Stat(filepath.Join(e.work, "encrypted1")); !os.IsNotExist(err) {
		t.Errorf("the refused recording left its work directory: %v", err)
	}
	// The recorder left: only alice is in the room.
	waitFor("the recorder leaving", func(ps []*livekit.ParticipantInfo) bool { return len(ps) == 1 })
}
